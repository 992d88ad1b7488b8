"""Asset-allocation "three-balance" check (资产配置三性平衡, issue 5, DESIGN.md §3).

A *portfolio* is a DataFrame with one row per position: ``category`` (products.category),
``product_id`` (None for a made-up position), ``name``, ``risk_level`` ('R1'..'R5'; None counts as
``[allocation] default_product_risk``, i.e. deposits are R1) and ``amount`` (元). Extra columns
(e.g. ``name_en``) are carried along. The client's KYC is a ``KYC``.

From them this module computes, with pure functions whose numbers all come from ``[allocation]``
in settings.toml:

- ``scores``: AUM-weighted safety / liquidity / return (1-5) from the score sheet, and
  ``target_band`` for the client's risk level;
- ``pockets``: the four-pocket split (spend / protect / grow / preserve) against its targets;
- ``findings``: what is out of balance, each with a code, a severity and the fields its message
  needs (the view translates ``find.<code>``; a move's reason is a finding code too);
- ``propose_moves`` / ``apply_moves``: a move (or step) for every finding kind, into suitable
  products on the shelf (see ``propose_moves``). A move group that would raise the number of
  findings, or add a finding more severe than every one it removes, is dropped, so the findings
  after the moves are never more than before.

``branch_findings`` / ``finding_members`` apply the same rules to every client in scope at once
(vectorised in pandas over the latest month-end holdings).

Rules at thresholds: a finding needs the value strictly beyond its line (a share *above*
``concentration_max_share`` / ``over_saving_max_share``, a spend pocket strictly *below*
``liquidity_min_months`` x monthly spending, an assessment *more than* ``[kyc]
risk_assessment_valid_days`` old, a score strictly outside its band, a pocket's share more than
``pocket_tolerance`` from its target). Protection gap: at least ``protection_min_children``
children and no position in ``protection_categories``. Pockets are checked only where the
liquidity need (``liquidity_comfortable_months`` of spending) fits within the spend pocket's line
(its target + ``pocket_tolerance``): a smaller household's money is its spending money.

A portfolio may carry a ``maturity_date`` column (term products): a term deposit or bond maturing
within ``maturity_horizon_days`` of ``KYC.as_of`` is never broken early by a move.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from analytics.access import Scope
from analytics.settings import load_settings
from analytics.store import Database

POCKETS = ("spend", "protect", "grow", "preserve")
DIMENSIONS = ("safety", "liquidity", "return_")
PORTFOLIO_COLUMNS = ["category", "product_id", "name", "risk_level", "amount"]
FINDING_CODES = (
    "empty_portfolio",
    "missing_risk_assessment",
    "stale_risk_assessment",
    "suitability",
    "concentration",
    "liquidity_cover",
    "over_saving",
    "protection_gap",
    "pocket_imbalance",
    "safety_low",
    "return_high",
    "return_low",
    "liquidity_low",
)
# What a move is: ``switch`` sells part of a position and buys a shelf product; ``reassess`` (redo
# the risk assessment first) and ``gather`` (no holdings with us: find out where the money is) are
# steps without money.
MOVE_KINDS = ("switch", "reassess", "gather")
_EPS = 1e-9


@dataclass(frozen=True)
class KYC:
    """What the check needs to know about the client."""

    risk_level: str | None  # 'C1'..'C5', None: never assessed
    assessed_on: date | None
    monthly_spending: float | None
    children: int
    as_of: date


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # 'high' | 'medium' | 'low'
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Move:
    """``kind`` 'switch': sell ``amount`` of the position ``from_name`` and buy shelf product
    ``to_product_id`` (``early``: a term deposit or bond withdrawn before its maturity). The steps
    'reassess' and 'gather' move no money (amount 0, no products). ``after_reassessment``: the move
    waits for the re-assessment that comes first, and assumes client level ``level``."""

    from_name: str
    to_product_id: str | None
    to_name: str
    to_category: str | None
    amount: float
    reason: str  # the finding code the move fixes
    from_product_id: str | None = None
    to_risk_level: str | None = None
    to_name_en: str | None = None
    kind: str = "switch"
    early: bool = False
    after_reassessment: bool = False
    level: str | None = None  # the client level the moves assume (on the 'reassess' step)

    @classmethod
    def step(cls, kind: str, reason: str, level: str | None = None) -> Move:
        return cls("", None, "", None, 0.0, reason, kind=kind, level=level)


# ---------------------------------------------------------------------------- settings helpers


def _cfg() -> dict:
    return load_settings()["allocation"]


def _num(level: str | None) -> int | None:
    """'R3' / 'C3' -> 3; None -> None."""
    if level is None or (isinstance(level, float) and math.isnan(level)) or level is pd.NA:
        return None
    return int(str(level)[1:])


def _sheet_entry(category: str, risk: str) -> dict | None:
    entry = _cfg()["scores"].get(category)
    if entry is None:
        return None
    if "safety" not in entry:  # scored by the product's risk level
        entry = entry.get(risk)
    return entry


def score_sheet() -> pd.DataFrame:
    """The score sheet as a table: category, risk_level, safety, liquidity, return_, pocket (one row
    per category and risk level R1..R5)."""
    rows = []
    for cat in _cfg()["scores"]:
        for n in range(1, 6):
            e = _sheet_entry(cat, f"R{n}")
            if e is not None:
                rows.append(
                    dict(category=cat, risk_level=f"R{n}", safety=float(e["safety"]),
                         liquidity=float(e["liquidity"]), return_=float(e["return"]),
                         pocket=e["pocket"])
                )  # fmt: skip
    return pd.DataFrame(rows)


def _gt(a: float, b: float) -> bool:
    return a > b + _EPS * max(1.0, abs(b))


def _lt(a: float, b: float) -> bool:
    return a < b - _EPS * max(1.0, abs(b))


# ---------------------------------------------------------------------------- portfolios


def empty_portfolio() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in PORTFOLIO_COLUMNS}).astype(
        {"amount": "float64"}
    )


def validate_portfolio(df: pd.DataFrame) -> list[str]:
    """Error codes for rows the check cannot use: ``amount_not_number:<row>``,
    ``amount_negative:<row>``, ``category_unknown:<row>`` (row = position in the frame)."""
    errors: list[str] = []
    known = set(_cfg()["scores"])
    for i, (cat, amount) in enumerate(zip(df["category"], df["amount"], strict=True)):
        if isinstance(amount, bool):
            errors.append(f"amount_not_number:{i}")
            continue
        try:
            value = float(amount)
        except (TypeError, ValueError):
            errors.append(f"amount_not_number:{i}")
            continue
        if math.isnan(value) or math.isinf(value):
            errors.append(f"amount_not_number:{i}")
        elif value < 0:
            errors.append(f"amount_negative:{i}")
        if cat not in known:
            errors.append(f"category_unknown:{i}")
    return errors


def _enrich(portfolio: pd.DataFrame) -> pd.DataFrame:
    """The portfolio with numeric amounts, default risk, risk number, key, scores and pocket."""
    default = _cfg()["default_product_risk"]
    df = portfolio.copy().reset_index(drop=True)
    for col in PORTFOLIO_COLUMNS:
        if col not in df.columns:
            df[col] = None
    df["amount"] = pd.to_numeric(df["amount"], errors="coerce").fillna(0.0).astype(float)
    df["risk_level"] = [
        default if r is None or (not isinstance(r, str) and pd.isna(r)) else r
        for r in df["risk_level"]
    ]
    df["risk_n"] = [int(r[1:]) for r in df["risk_level"]]
    df["key"] = [
        p if isinstance(p, str) and p else f"name:{n}"
        for p, n in zip(df["product_id"], df["name"], strict=True)
    ]
    entries = [_sheet_entry(c, r) for c, r in zip(df["category"], df["risk_level"], strict=True)]
    df["safety"] = [float(e["safety"]) if e else float("nan") for e in entries]
    df["liquidity"] = [float(e["liquidity"]) if e else float("nan") for e in entries]
    df["return_"] = [float(e["return"]) if e else float("nan") for e in entries]
    df["pocket"] = [e["pocket"] if e else None for e in entries]
    if "maturity_date" in df.columns:
        mats = pd.to_datetime(df["maturity_date"], errors="coerce")
        df["maturity"] = [None if pd.isna(m) else m.date() for m in mats]
    else:
        df["maturity"] = None
    return df


def scores(portfolio: pd.DataFrame) -> dict:
    """AUM-weighted safety, liquidity and return_ (1-5); None for an empty portfolio."""
    df = _enrich(portfolio)
    df = df[df["pocket"].notna() & (df["amount"] > 0)]
    total = df["amount"].sum()
    if total <= 0:
        return {d: None for d in DIMENSIONS}
    return {d: float((df[d] * df["amount"]).sum() / total) for d in DIMENSIONS}


def target_band(risk_level: str | None) -> dict:
    """{dimension: {'min': x | None, 'max': y | None}} for a client level; all open if unknown."""
    band = _cfg()["bands"].get(risk_level or "", {})
    out = {}
    for d in DIMENSIONS:
        key = d.rstrip("_")
        lo, hi = band.get(f"{key}_min"), band.get(f"{key}_max")
        out[d] = {
            "min": None if lo is None else float(lo),
            "max": None if hi is None else float(hi),
        }
    return out


def pocket_targets(kyc: KYC | None = None) -> dict:
    """{pocket: target share}: ``[allocation.pocket_targets]``; for a client below
    ``pocket_grow_min_level`` (or not assessed) the grow target is counted in preserve's."""
    cfg = _cfg()
    targets = {p: float(cfg["pocket_targets"][p]) for p in POCKETS}
    if kyc is not None:
        level = _num(kyc.risk_level) if kyc.assessed_on is not None else None
        if level is None or level < _num(cfg["pocket_grow_min_level"]):
            targets["preserve"] += targets["grow"]
            targets["grow"] = 0.0
    return targets


def pockets(portfolio: pd.DataFrame, kyc: KYC | None = None) -> pd.DataFrame:
    """Four pockets: pocket, amount, share, target (share, ``pocket_targets(kyc)``), gap (元 to
    reach the target; negative = above it). Shares are 0 for an empty portfolio."""
    df = _enrich(portfolio)
    targets = pocket_targets(kyc)
    by = df[df["pocket"].notna()].groupby("pocket")["amount"].sum()
    total = float(by.sum())
    rows = []
    for p in POCKETS:
        amount = float(by.get(p, 0.0))
        target = float(targets[p])
        rows.append(
            dict(pocket=p, amount=amount, share=amount / total if total > 0 else 0.0,
                 target=target, gap=target * total - amount)
        )  # fmt: skip
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- findings


def findings(portfolio: pd.DataFrame, kyc: KYC) -> list[Finding]:
    """What is out of balance, in the order of ``FINDING_CODES`` (suitability: one per product)."""
    cfg = _cfg()
    sev = cfg["severity"]
    out: list[Finding] = []

    def add(code: str, **fields) -> None:
        out.append(Finding(code, sev[code], fields))

    df = _enrich(portfolio)
    df = df[df["amount"] > 0]
    total = float(df["amount"].sum())
    level_n = _num(kyc.risk_level)
    if total <= 0:
        add("empty_portfolio")
    if kyc.risk_level is None or kyc.assessed_on is None:
        add("missing_risk_assessment")
        level_n = None
    else:
        valid = int(load_settings()["kyc"]["risk_assessment_valid_days"])
        age = (kyc.as_of - kyc.assessed_on).days
        if age > valid:
            add("stale_risk_assessment", assessed_on=kyc.assessed_on, days=age, valid_days=valid)
    if total > 0:
        if level_n is not None:
            for r in df[df["risk_n"] > level_n].itertuples():
                add("suitability", name=r.name, product_id=r.product_id,
                    product_risk=r.risk_level, client_level=kyc.risk_level, amount=r.amount)  # fmt: skip
        thr = float(cfg["concentration_max_share"])
        exempt = set(cfg["concentration_exempt_categories"])
        by_key = (
            df[~df["category"].isin(exempt)]
            .groupby("key", sort=False)
            .agg(name=("name", "first"), amount=("amount", "sum"))
        )
        for key, r in by_key.iterrows():
            if _gt(r["amount"], thr * total):
                add("concentration", name=r["name"], key=key, amount=float(r["amount"]),
                    share=float(r["amount"]) / total, max_share=thr)  # fmt: skip
        spending = kyc.monthly_spending
        if spending is not None and spending > 0:
            spend = float(df.loc[df["pocket"] == "spend", "amount"].sum())
            months = float(cfg["liquidity_min_months"])
            if _lt(spend, months * spending):
                add("liquidity_cover", months=spend / spending, min_months=months,
                    comfortable_months=float(cfg["liquidity_comfortable_months"]),
                    spend=spend, shortfall=months * spending - spend)  # fmt: skip
        deposits = float(df.loc[df["category"].isin(cfg["deposit_categories"]), "amount"].sum())
        thr_dep = float(cfg["over_saving_max_share"])
        if _gt(deposits, thr_dep * total):
            add("over_saving", amount=deposits, share=deposits / total, max_share=thr_dep,
                excess=deposits - thr_dep * total)  # fmt: skip
    protected = df["category"].isin(cfg["protection_categories"]).any()
    if kyc.children >= int(cfg["protection_min_children"]) and not protected:
        add("protection_gap", children=kyc.children)
    tol = float(cfg["pocket_tolerance"])
    spend_line = float(cfg["pocket_targets"]["spend"]) + tol
    if total > 0 and not _gt(_keep_spend(kyc, total), spend_line * total):
        # checked only where the liquidity need fits the spend pocket's line
        pk = pockets(portfolio, kyc)
        in_pockets = float(pk["amount"].sum())
        for r in pk.itertuples():
            if r.pocket not in cfg["pocket_checked"]:
                continue
            over = r.amount - (r.target + tol) * in_pockets
            under = (r.target - tol) * in_pockets - r.amount
            if _gt(r.share, r.target + tol) or _lt(r.share, r.target - tol):
                add("pocket_imbalance", pocket=r.pocket, share=r.share, target=r.target,
                    tolerance=tol, side="over" if over > 0 else "under",
                    amount=max(over, under))  # fmt: skip
    if total > 0 and level_n is not None:
        sc = scores(portfolio)
        band = target_band(kyc.risk_level)
        checks = (
            ("safety_low", "safety", "min"),
            ("return_high", "return_", "max"),
            ("return_low", "return_", "min"),
            ("liquidity_low", "liquidity", "min"),
        )
        for code, dim, side in checks:
            line = band[dim][side]
            if line is None or sc[dim] is None:
                continue
            if (side == "min" and _lt(sc[dim], line)) or (side == "max" and _gt(sc[dim], line)):
                add(code, score=sc[dim], line=line, client_level=kyc.risk_level)
    return out


# ---------------------------------------------------------------------------- moves


def apply_moves(portfolio: pd.DataFrame, moves: list[Move]) -> pd.DataFrame:
    """The portfolio after the moves (a sale never takes more than the position holds)."""
    df = portfolio.copy().reset_index(drop=True)
    for col in PORTFOLIO_COLUMNS:
        if col not in df.columns:
            df[col] = None
    df["amount"] = pd.to_numeric(df["amount"], errors="coerce").fillna(0.0).astype(float)
    for m in moves:
        if m.kind != "switch":  # a step moves no money
            continue
        if m.from_product_id is not None:
            hit = df.index[df["product_id"] == m.from_product_id]
        else:
            hit = df.index[df["name"] == m.from_name]
        if len(hit) == 0:
            continue
        i = hit[0]
        amount = min(float(m.amount), float(df.at[i, "amount"]))
        if amount <= 0:
            continue
        df.at[i, "amount"] = float(df.at[i, "amount"]) - amount
        to = df.index[df["product_id"] == m.to_product_id]
        if len(to):
            df.at[to[0], "amount"] = float(df.at[to[0], "amount"]) + amount
        else:
            row = {c: None for c in df.columns}
            row.update(category=m.to_category, product_id=m.to_product_id, name=m.to_name,
                       risk_level=m.to_risk_level, amount=amount)  # fmt: skip
            if "name_en" in df.columns:
                row["name_en"] = m.to_name_en
            df = pd.concat([df, pd.DataFrame([row])], ignore_index=True)
    return df[df["amount"] > 0.005].reset_index(drop=True)


def _shelf_table(shelf: pd.DataFrame, max_n: int) -> pd.DataFrame:
    """Shelf products the client may buy (risk <= level), with pocket and safety / liquidity /
    return_ scores; highest risk first."""
    s = shelf.copy()
    s["risk_n"] = [int(r[1:]) for r in s["risk_level"]]
    s = s[s["risk_n"] <= max_n]
    entries = [
        _sheet_entry(c, r) or {} for c, r in zip(s["category"], s["risk_level"], strict=True)
    ]
    s["pocket"] = [e.get("pocket") for e in entries]
    for d in DIMENSIONS:
        s[d] = [float(e[d.rstrip("_")]) if e else float("nan") for e in entries]
    s = s[s["pocket"].notna()]
    return s.sort_values(["risk_n", "product_id"], ascending=[False, True]).reset_index(drop=True)


def _ceil_cents(x: float) -> float:
    return math.ceil(round(x * 100, 6)) / 100


def _move(source, c, amount: float, reason: str, early: bool = False) -> Move:
    """Sell ``amount`` of ``source`` (a row of the enriched state) into shelf product ``c``."""
    return Move(
        from_name=source.name,
        to_product_id=c.product_id,
        to_name=c.name_zh,
        to_category=c.category,
        amount=amount,
        reason=reason,
        from_product_id=source.product_id if isinstance(source.product_id, str) else None,
        to_risk_level=c.risk_level,
        to_name_en=getattr(c, "name_en", None),
        early=early,
    )


def _room(held: pd.Series, c, total: float, left: float) -> float:
    """How much of ``left`` candidate ``c`` may take (whole fen): up to the concentration line
    unless its category is exempt."""
    cfg = _cfg()
    room = left
    if c.category not in set(cfg["concentration_exempt_categories"]):
        cap = float(cfg["concentration_max_share"]) * total
        room = min(left, cap - float(held.get(c.product_id, 0.0)))
    return math.floor(round(room * 100, 6)) / 100


def _same(source, c) -> bool:
    """The candidate is the source position itself (by id, or by name for an unnamed id)."""
    return c.product_id == source.product_id or source.name in (
        c.name_zh,
        getattr(c, "name_en", None),
    )


def _buy(state, source, amount, candidates, reason, total, skip_keys=(), early=False) -> list[Move]:
    """Moves selling ``amount`` of ``source`` (a row of the enriched state) into candidates in
    order, each non-exempt destination capped at the concentration line."""
    held = state.groupby("key")["amount"].sum()
    moves: list[Move] = []
    left = amount
    for c in candidates.itertuples():
        if left <= 0.005:
            break
        if c.product_id in skip_keys or _same(source, c):
            continue
        room = _room(held, c, total, left)
        if room <= 0.005:
            continue
        moves.append(_move(source, c, room, reason, early))
        left -= room
    return moves


def _ordered(
    cands: pd.DataFrame, prefer_category: str | None = None, pockets_=(), safest_first=False
) -> pd.DataFrame:
    """Candidates in ``pockets_`` (in that order of preference), the given category first; within
    a group highest risk first (closest to the client's appetite) or, ``safest_first``, lowest."""
    if safest_first:
        cands = cands.sort_values(["risk_n", "product_id"], kind="stable")
    parts = []
    if prefer_category is not None:
        parts.append(cands[cands["category"] == prefer_category])
    for p in pockets_:
        parts.append(cands[cands["pocket"] == p])
    if not parts:
        return cands.iloc[0:0]
    out = pd.concat(parts)
    return out[~out["product_id"].duplicated()]


def _keep_spend(kyc: KYC, total: float) -> float:
    """The liquidity need no move takes from the spend pocket: ``liquidity_comfortable_months`` of
    spending; spending unknown: the spend pocket's target share of the portfolio."""
    cfg = _cfg()
    if kyc.monthly_spending and kyc.monthly_spending > 0:
        return float(cfg["liquidity_comfortable_months"]) * float(kyc.monthly_spending)
    return float(cfg["pocket_targets"]["spend"]) * total


def _kinds(st: pd.DataFrame, kyc: KYC) -> list[str]:
    """How each position may pay for a move: 'cash' (the spend pocket), 'open' (sold at any time),
    'term' (a deposit or bond in ``term_categories`` withdrawn early), 'locked' (never:
    ``unsellable_categories``, a term position maturing within ``maturity_horizon_days``, any other
    product with a maturity date, i.e. closed-end until then)."""
    cfg = _cfg()
    term, never = set(cfg["term_categories"]), set(cfg["unsellable_categories"])
    horizon = int(cfg["maturity_horizon_days"])
    out = []
    for cat, pocket, mat in zip(st["category"], st["pocket"], st["maturity"], strict=True):
        soon = mat is not None and (mat - kyc.as_of).days <= horizon
        if cat in never:
            out.append("locked")
        elif pocket == "spend":
            out.append("cash")
        elif cat in term:
            out.append("locked" if soon else "term")
        else:
            out.append("locked" if mat is not None else "open")
    return out


def _funding(
    st, kyc, total, kinds=("cash", "open", "term"), where=None, exclude=(), first=()
) -> list:
    """Where the money for a move comes from, in this order, as (position, amount available,
    early): the spend pocket above the liquidity need (current deposits first, then money funds),
    open-ended products (those in ``first`` first, then lowest return first), then term deposits
    and bonds withdrawn early (largest first). ``where``: a row filter; ``exclude``: keys not to
    sell (products the moves have just bought)."""
    deposits = set(_cfg()["deposit_categories"])
    free = float(st.loc[st["pocket"] == "spend", "amount"].sum()) - _keep_spend(kyc, total)
    rows = st.assign(kind=_kinds(st, kyc))
    rows = rows[rows["amount"] > 0.005]
    if where is not None:
        rows = rows[where(rows)]
    out = []
    if "cash" in kinds:
        cash = rows[rows["kind"] == "cash"]
        cash = cash.assign(rank=(~cash["category"].isin(deposits)).astype(int))
        for r in cash.sort_values(
            ["rank", "amount", "key"], ascending=[True, False, True]
        ).itertuples():
            take = min(free, r.amount)
            if take <= 0.005:
                break
            out.append((r, take, False))
            free -= take
    rows = rows[~rows["key"].isin(set(exclude))]
    if "open" in kinds:
        open_ = rows[rows["kind"] == "open"]
        open_ = open_.assign(rank=(~open_["key"].isin(set(first))).astype(int))
        for r in open_.sort_values(
            ["rank", "return_", "amount", "key"], ascending=[True, True, False, True]
        ).itertuples():
            out.append((r, r.amount, False))
    if "term" in kinds:
        term = rows[rows["kind"] == "term"]
        for r in term.sort_values(["amount", "key"], ascending=[False, True]).itertuples():
            out.append((r, r.amount, True))
    return out


def _fund(current, sources, need, dests, reason, total, skip_keys=()) -> list[Move]:
    """Moves taking ``need`` from ``sources`` (``_funding``) in order into ``dests`` in order."""
    group: list[Move] = []
    probe, left = current, need
    for src, avail, early in sources:
        if left <= 0.005:
            break
        ms = _buy(_enrich(probe), src, min(left, avail), dests, reason, total, skip_keys, early)
        group += ms
        probe = apply_moves(probe, ms)
        left -= sum(m.amount for m in ms)
    return group


def _steer(current, sources, dim, side, line, dests, reason) -> list[Move]:
    """Moves from ``sources`` into ``dests`` (both in order) that bring the weighted score ``dim``
    to ``line`` (up to it for side 'min', down to it for 'max'): a yuan moved from a product
    scoring s into one scoring d changes the score by (d - s) / total."""
    st = _enrich(current)
    w = st[st["pocket"].notna()]
    total = float(w["amount"].sum())
    score = float((w[dim] * w["amount"]).sum()) / total
    sign = 1.0 if side == "min" else -1.0
    gap = sign * (line - score) * total  # score x yuan still to close
    group: list[Move] = []
    probe = current
    for src, avail, early in sources:
        for c in dests.itertuples():
            if gap <= 0 or avail <= 0.005:
                break
            eff = sign * (getattr(c, dim) - getattr(src, dim))
            if eff <= 0 or _same(src, c):
                continue
            held = _enrich(probe).groupby("key")["amount"].sum()
            amount = min(avail, _room(held, c, total, avail), _ceil_cents(gap / eff))
            if amount <= 0.005:
                continue
            m = _move(src, c, amount, reason, early)
            group.append(m)
            probe = apply_moves(probe, [m])
            avail -= amount
            gap -= amount * eff
        if gap <= 0:
            break
    return group


def _worse(before: list[Finding], after: list[Finding]) -> bool:
    """More findings, or a finding added that is more severe than every one removed."""
    rank = {"low": 1, "medium": 2, "high": 3}
    added = Counter(f.code for f in after) - Counter(f.code for f in before)
    removed = Counter(f.code for f in before) - Counter(f.code for f in after)
    sev = _cfg()["severity"]
    worst_added = max((rank[sev[c]] for c in added), default=0)
    worst_removed = max((rank[sev[c]] for c in removed), default=0)
    return len(after) > len(before) or worst_added > worst_removed


def _assessment(kyc: KYC) -> str | None:
    """'missing_risk_assessment', 'stale_risk_assessment' or None (as ``findings`` decides)."""
    if kyc.risk_level is None or kyc.assessed_on is None:
        return "missing_risk_assessment"
    valid = int(load_settings()["kyc"]["risk_assessment_valid_days"])
    return "stale_risk_assessment" if (kyc.as_of - kyc.assessed_on).days > valid else None


def propose_moves(portfolio: pd.DataFrame, kyc: KYC, shelf: pd.DataFrame) -> list[Move]:
    """A move (or step) for every finding kind, into suitable shelf products, never above the
    client's level. In this order:

    - a missing or stale risk assessment: the step 'reassess' comes first, and every move after it
      is marked ``after_reassessment`` (nothing is bought before it; the moves assume the last
      assessed level, or ``unknown_client_level`` for a client never assessed);
    - no holdings: the step 'gather' (find out where the household's money is);
    - liquidity cover: the spend pocket topped up (comfortable months, else the minimum) with
      money funds, then current deposits, from open-ended products (those above the client's
      level or the concentration line first), then term deposits withdrawn early;
    - suitability: each unsuitable position into a suitable product of a similar role;
    - concentration: each position above the line cut to it, into others of the same pocket;
    - over-saving: deposits above the line, from current deposits above the liquidity need, then
      time deposits and CDs withdrawn early, into preserve / grow products;
    - protection gap: a year's premium (``protection_premium_share`` x 12 months of spending, at
      least ``protection_min_premium``) into the shelf's first protection product;
    - return below the band: the spend pocket above the liquidity need into the highest-return
      suitable products within the band's return maximum and liquidity minimum (if the guard
      below drops that, the highest return level is left out and the next tried); still below,
      just enough out of open-ended products below the band's minimum, the same way;
    - return high / safety low / liquidity low (in that order: bringing return down lifts safety
      too): just enough moved out of the positions pulling the score the wrong way, into products
      within the client's band on every line;
    - pockets out of proportion: the pocket furthest out brought back to its line, from or into
      the pockets on the other side of their targets (safest products first).

    Money comes from the spend pocket above the liquidity need (current deposits, then money
    funds), then open-ended products, then term deposits and bonds withdrawn early; a term position
    maturing within ``maturity_horizon_days`` is never withdrawn early, insurance, trusts and
    closed-end products before their maturity are never sold (by any move), and nothing just
    bought is sold again. A group of moves that would raise the
    number of findings, or add a finding more severe than every one it removes, is dropped; moves
    below ``min_move_amount`` too."""
    cfg = _cfg()
    check = _assessment(kyc)
    assessed = kyc.risk_level is not None and kyc.assessed_on is not None
    level = kyc.risk_level if assessed else cfg["unknown_client_level"]
    steps = [Move.step("reassess", check, level)] if check else []
    current = apply_moves(portfolio, [])
    if float(_enrich(current)["amount"].sum()) <= 0:
        return steps + [Move.step("gather", "empty_portfolio")]
    cands = _shelf_table(shelf, _num(level))
    if cands.empty:
        return steps
    moves = _rebalance(current, kyc, level, assessed, cands)
    if check:
        moves = [replace(m, after_reassessment=True) for m in moves]
    return steps + moves


def _rebalance(current, kyc: KYC, level: str, assessed: bool, cands: pd.DataFrame) -> list[Move]:
    """The money moves of ``propose_moves``, step by step on the portfolio as it stands."""
    cfg = _cfg()
    min_move = float(cfg["min_move_amount"])
    exempt = set(cfg["concentration_exempt_categories"])
    deposits = list(cfg["deposit_categories"])
    never = list(cfg["unsellable_categories"])
    band = target_band(level)
    accepted: list[Move] = []
    bought: set[str] = set()
    found = findings(current, kyc)

    def has(code: str) -> bool:
        return any(f.code == code for f in found)

    targets = pocket_targets(kyc)

    def live(pockets_: tuple) -> tuple:
        """The pockets with a target for this client (grow is none below pocket_grow_min_level)."""
        return tuple(p for p in pockets_ if targets[p] > 0)

    def attempt(group: list[Move]) -> bool:
        nonlocal current, found
        group = [m for m in group if m.amount >= min_move]
        if not group:
            return False
        after = apply_moves(current, group)
        new = findings(after, kyc)
        if _worse(found, new):
            return False
        accepted.extend(group)
        bought.update(m.to_product_id for m in group)
        current, found = after, new
        return True

    def state():
        st = _enrich(current)
        return st, float(st["amount"].sum())

    st, total = state()
    # 1. liquidity cover: top the spend pocket up (comfortable months, else the minimum), into
    # money funds (not deposits: over-saving stays fixed), then current deposits; positions that
    # must go anyway (above the client's level or the concentration line) are sold first.
    thr = float(cfg["concentration_max_share"])
    spending = kyc.monthly_spending
    if spending and spending > 0 and has("liquidity_cover"):
        spend_pocket = cands[cands["pocket"] == "spend"]
        dest = spend_pocket.sort_values(["return_", "product_id"], ascending=[False, True])
        for months_key in ("liquidity_comfortable_months", "liquidity_min_months"):
            st, total = state()
            spend = float(st.loc[st["pocket"] == "spend", "amount"].sum())
            if not _lt(spend, float(cfg["liquidity_min_months"]) * spending):
                break
            need = _ceil_cents(float(cfg[months_key]) * spending - spend)
            held = st[~st["category"].isin(exempt)].groupby("key")["amount"].sum()
            must_go = set(held.index[[_gt(a, thr * total) for a in held]])
            if assessed:
                must_go |= set(st.loc[st["risk_n"] > _num(level), "key"])
            sources = _funding(st, kyc, total, ("open", "term"), exclude=bought, first=must_go)
            if attempt(_fund(current, sources, need, dest, "liquidity_cover", total)):
                break
    # 2. suitability: sell each unsuitable position into a suitable product of a similar role.
    st, total = state()
    sellable = st.assign(kind=_kinds(st, kyc))
    sellable = set(sellable.loc[sellable["kind"] != "locked", "key"])
    if assessed:
        for r in st[(st["risk_n"] > _num(level)) & st["key"].isin(sellable)].itertuples():
            st, total = state()
            src = st[st["key"] == r.key]
            if src.empty:
                continue
            src = next(src.itertuples())
            order = _ordered(cands, r.category, live((r.pocket, "preserve", "spend")))
            attempt(_buy(st, src, src.amount, order, "suitability", total))
    # 3. concentration: cut each position above the line into others of the same pocket.
    st, total = state()
    conc = st[~st["category"].isin(exempt)].groupby("key")["amount"].sum()
    for key in conc.index[[_gt(a, thr * total) and k in sellable for k, a in conc.items()]]:
        st, total = state()
        src = next(st[st["key"] == key].itertuples())
        cut = _ceil_cents(float(st.loc[st["key"] == key, "amount"].sum()) - thr * total)
        cut = min(cut, src.amount)
        order = _ordered(
            cands, src.category, live((src.pocket, "preserve", "grow")), safest_first=True
        )
        attempt(_buy(st, src, cut, order, "concentration", total, skip_keys=(key,)))
    # 4. over-saving: current deposits above the liquidity need, then term deposits withdrawn early.
    thr_dep = float(cfg["over_saving_max_share"])
    st, total = state()
    dep_amount = float(st.loc[st["category"].isin(deposits), "amount"].sum())
    if _gt(dep_amount, thr_dep * total):
        excess = _ceil_cents(dep_amount - thr_dep * total)
        pk = pockets(current, kyc).set_index("pocket")["gap"]
        dest_pockets = sorted(live(("preserve", "grow")), key=lambda p: -pk[p])
        order = _ordered(cands[~cands["category"].isin(deposits)], None, dest_pockets)
        sources = _funding(st, kyc, total, ("cash", "term"), lambda d: d["category"].isin(deposits))
        attempt(_fund(current, sources, excess, order, "over_saving", total))
    # 5. protection gap: a year's premium into the shelf's first protection product.
    prot = cands[cands["category"].isin(cfg["protection_categories"])].sort_values("product_id")
    if has("protection_gap") and not prot.empty:
        st, total = state()
        premium = max(
            float(cfg["protection_min_premium"]),
            float(cfg["protection_premium_share"]) * 12 * float(spending or 0),
        )
        sources = _funding(st, kyc, total, exclude=bought)
        attempt(
            _fund(current, sources, _ceil_cents(premium), prot.iloc[:1], "protection_gap", total)
        )
    # 6. return below the band: the cash above the liquidity need into higher-return products,
    # then (still below) just enough out of open-ended products below the band's minimum.
    if has("return_low"):
        hi, liq = band["return_"]["max"], band["liquidity"]["min"]
        ok = cands[(cands["pocket"] != "spend") & ~cands["category"].isin(deposits + never)]
        if hi is not None:
            ok = ok[ok["return_"] <= hi + _EPS]
        if liq is not None:
            ok = ok[ok["liquidity"] >= liq - _EPS]
        ok = ok.sort_values(
            ["return_", "safety", "liquidity", "product_id"], ascending=[False, False, False, True]
        )
        tops = sorted(set(ok["return_"]), reverse=True)
        st, total = state()
        cash = _funding(st, kyc, total, ("cash",))
        if cash:
            above = ok[ok["return_"] > max(float(s.return_) for s, _, _ in cash)]
            excess = sum(a for _, a, _ in cash)
            for top in tops:
                group = _fund(
                    current, cash, excess, above[above["return_"] <= top], "return_low", total
                )
                if attempt(group):
                    break
        if has("return_low"):
            line = band["return_"]["min"]
            st, total = state()
            low = [
                s
                for s in _funding(st, kyc, total, ("open",), exclude=bought)
                if s[0].return_ < line
            ]
            for top in tops:
                if attempt(
                    _steer(
                        current, low, "return_", "min", line, ok[ok["return_"] <= top], "return_low"
                    )
                ):
                    break
    # 7. scores out of the band, return above it first (bringing it down lifts safety too): just
    # enough into products within the band on every line.
    buyable = cands[~cands["category"].isin(never)]
    inside = buyable
    for d in DIMENSIONS:
        lo, hi = band[d]["min"], band[d]["max"]
        if lo is not None:
            inside = inside[inside[d] >= lo - _EPS]
        if hi is not None:
            inside = inside[inside[d] <= hi + _EPS]
    inside = inside.sort_values(
        ["return_", "safety", "liquidity", "product_id"], ascending=[False, False, False, True]
    )
    for code, dim, side, kinds in (
        ("return_high", "return_", "max", ("open",)),
        ("safety_low", "safety", "min", ("open",)),
        ("liquidity_low", "liquidity", "min", ("open", "term")),
    ):
        if not has(code):
            continue
        line = band[dim][side]
        st, total = state()
        wrong = [
            s for s in _funding(st, kyc, total, kinds, exclude=bought)
            if (getattr(s[0], dim) < line if side == "min" else getattr(s[0], dim) > line)
        ]  # fmt: skip
        wrong.sort(key=lambda s: (getattr(s[0], dim) * (1 if side == "min" else -1), s[0].key))
        attempt(_steer(current, wrong, dim, side, line, inside, code))
    # 8. pockets out of proportion: the pocket furthest out back to its line.
    tried: set[str] = set()
    while True:
        out = [f for f in found if f.code == "pocket_imbalance" and f.fields["pocket"] not in tried]
        if not out:
            break
        f = max(out, key=lambda f: f.fields["amount"])
        p = f.fields["pocket"]
        tried.add(p)
        st, total = state()
        gap = pockets(current, kyc).set_index("pocket")["gap"].drop(["protect", p])
        if f.fields["side"] == "over":  # into the pockets below their targets, furthest first
            into = list(gap[gap > 0].sort_values(ascending=False).index)
            dests = _ordered(buyable, None, into, safest_first=True)
            sources = _funding(
                st, kyc, total, where=lambda d, p=p: d["pocket"] == p, exclude=bought
            )
        else:  # from the pockets above their targets
            donors = list(gap[gap < 0].index)
            dests = _ordered(buyable, None, (p,), safest_first=True)
            sources = _funding(
                st, kyc, total, where=lambda d, q=donors: d["pocket"].isin(q), exclude=bought
            )
        amount = _ceil_cents(f.fields["amount"])
        attempt(_fund(current, sources, amount, dests, "pocket_imbalance", total))
    return accepted


# ---------------------------------------------------------------------------- data sources


def client_portfolio(wh: Database, scope: Scope, client_id: str) -> tuple[pd.DataFrame, KYC]:
    """The client's latest month-end positions as a portfolio (with name_en) and their KYC."""
    from analytics import client360
    from analytics.snapshot import meta

    pos = client360.holdings(wh, scope, client_id)
    card = client360.client_card(wh, scope, client_id)
    df = pd.DataFrame(
        {
            "category": pos["category"].astype(object),
            "product_id": pos["product_id"].astype(object),
            "name": pos["name_zh"].astype(object),
            "risk_level": pos["risk_level"].astype(object),
            "amount": pos["balance"].astype(float),
            "name_en": pos["name_en"].astype(object),
            "maturity_date": pos["maturity_date"],
        }
    )
    kyc = KYC(
        risk_level=card.risk_level or None,
        assessed_on=card.risk_assessed_on,
        monthly_spending=card.monthly_spending,
        children=len(card.children_ages),
        as_of=date.fromisoformat(meta(wh)["as_of"]),
    )
    return df, kyc


def shelf(wh: Database) -> pd.DataFrame:
    """Products on the shelf: product_id, name_zh, name_en, category, risk_level."""
    return wh.query(
        "SELECT product_id, name_zh, name_en, category, risk_level FROM products "
        "WHERE on_shelf ORDER BY product_id"
    )


def example_household(as_of: date) -> tuple[pd.DataFrame, KYC]:
    """A made-up family for class: a C3 couple in their forties, two children, deposit-heavy,
    one fund above their level and no protection insurance, assessed 200 days before ``as_of``
    (the viewer's date: a rule never reads the wall clock). Amounts in 元."""
    rows = [
        ("current_deposit", None, "活期存款", "Current deposit", None, 40_000),
        ("time_deposit", None, "三年期定期存款", "3-year time deposit", None, 600_000),
        ("large_cd", None, "大额存单", "Large CD", None, 200_000),
        ("wealth", None, "稳健理财 R2", "Steady wealth product R2", "R2", 100_000),
        ("equity_fund", None, "科技股票基金 R4", "Tech equity fund R4", "R4", 60_000),
    ]
    df = pd.DataFrame(
        rows, columns=["category", "product_id", "name", "name_en", "risk_level", "amount"]
    )
    df["amount"] = df["amount"].astype(float)
    kyc = KYC(
        risk_level="C3",
        assessed_on=as_of - timedelta(days=200),
        monthly_spending=15_000.0,
        children=2,
        as_of=as_of,
    )
    return df[PORTFOLIO_COLUMNS + ["name_en"]], kyc


def blank_household(as_of: date) -> tuple[pd.DataFrame, KYC]:
    """An empty portfolio and an unassessed client, for a demo started from scratch."""
    df = empty_portfolio()
    df["name_en"] = pd.Series(dtype="object")
    return df, KYC(None, None, None, 0, as_of)


def with_edits(portfolio: pd.DataFrame, edited: pd.DataFrame) -> pd.DataFrame:
    """The what-if editor's rows (category, name, risk_level, amount) as a portfolio: edited rows
    keep their index, so their product id and maturity date carry over; added rows have none."""
    out = edited.copy()
    for col in ("product_id", "maturity_date"):
        if col in portfolio.columns:
            kept = portfolio[col].reindex(edited.index).astype(object)
            out[col] = kept.where(kept.notna(), None)
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------- branch picture


def _members(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Every (code, client_id, amount) of the clients in scope at the latest month-end on or
    before ``as_of`` (default: the snapshot's). amount: suitability = unsuitable balance,
    concentration = balance of the concentrated products, over_saving = deposits, liquidity_cover
    = shortfall to the minimum cover, empty_portfolio = 0, the others = the client's AUM."""
    from analytics.snapshot import meta

    cfg = _cfg()
    as_of = as_of or date.fromisoformat(meta(wh)["as_of"])
    where, params = scope.where("c")
    month = wh.scalar("SELECT MAX(month_end) FROM holdings_monthly WHERE month_end <= ?", [as_of])
    clients = wh.query(
        f"""
        SELECT c.client_id, c.risk_level, c.risk_assessed_on,
               c.monthly_spending::DOUBLE AS monthly_spending,
               (SELECT COUNT(*) FROM family_members f
                 WHERE f.client_id = c.client_id AND f.relation = 'child') AS children
        FROM clients c WHERE {where}
        """,
        params,
    )
    pos = wh.query(
        f"""
        SELECT h.client_id, h.product_id, p.category, p.risk_level, h.balance::DOUBLE AS amount
        FROM holdings_monthly h JOIN products p USING (product_id)
        JOIN clients c ON c.client_id = h.client_id
        WHERE h.month_end = ? AND h.balance > 0 AND {where}
        """,
        [month, *params],
    )
    pos["risk_level"] = pos["risk_level"].fillna(cfg["default_product_risk"])
    pos = pos.merge(score_sheet(), on=["category", "risk_level"], how="left")
    pos["risk_n"] = pos["risk_level"].str[1:].astype(int)
    c = clients.set_index("client_id")
    c["level_n"] = pd.to_numeric(c["risk_level"].str[1:], errors="coerce")
    total = pos.groupby("client_id")["amount"].sum().reindex(c.index, fill_value=0.0)
    parts: list[pd.DataFrame] = []

    def emit(code: str, amounts: pd.Series) -> None:
        parts.append(pd.DataFrame({"code": code, "client_id": amounts.index,
                                   "amount": amounts.to_numpy(dtype=float)}))  # fmt: skip

    has = total > 0
    emit("empty_portfolio", total[~has] * 0.0)
    missing = c["risk_level"].isna() | c["risk_assessed_on"].isna()
    emit("missing_risk_assessment", total[missing])
    valid = int(load_settings()["kyc"]["risk_assessment_valid_days"])
    age = (pd.Timestamp(as_of) - pd.to_datetime(c["risk_assessed_on"])).dt.days
    emit("stale_risk_assessment", total[~missing & (age > valid)])
    lvl = pos["client_id"].map(c["level_n"])
    bad = pos[pos["risk_n"] > lvl]
    emit("suitability", bad.groupby("client_id")["amount"].sum())
    thr = float(cfg["concentration_max_share"])
    nonex = pos[~pos["category"].isin(cfg["concentration_exempt_categories"])]
    per = nonex.groupby(["client_id", "product_id"], as_index=False)["amount"].sum()
    per_total = per["client_id"].map(total)
    conc = per[per["amount"] > thr * per_total * (1 + _EPS)]
    emit("concentration", conc.groupby("client_id")["amount"].sum())
    spend = pos[pos["pocket"] == "spend"].groupby("client_id")["amount"].sum()
    spend = spend.reindex(c.index, fill_value=0.0)
    need = float(cfg["liquidity_min_months"]) * c["monthly_spending"].fillna(0.0)
    short = has & (c["monthly_spending"] > 0) & (spend < need * (1 - _EPS))
    emit("liquidity_cover", (need - spend)[short])
    dep = pos[pos["category"].isin(cfg["deposit_categories"])].groupby("client_id")["amount"].sum()
    dep = dep.reindex(c.index, fill_value=0.0)
    thr_dep = float(cfg["over_saving_max_share"])
    emit("over_saving", dep[has & (dep > thr_dep * total * (1 + _EPS))])
    protected = set(pos.loc[pos["category"].isin(cfg["protection_categories"]), "client_id"])
    gap = (c["children"] >= int(cfg["protection_min_children"])) & ~c.index.isin(protected)
    emit("protection_gap", total[gap])
    # pockets out of proportion, against the targets for each client's level (pocket_targets)
    pk = (
        pos.dropna(subset=["pocket"]).groupby(["client_id", "pocket"])["amount"].sum()
        .unstack(fill_value=0.0).reindex(index=c.index, columns=list(POCKETS), fill_value=0.0)
    )  # fmt: skip
    in_pk = pk.sum(axis=1)
    base = {p: float(cfg["pocket_targets"][p]) for p in POCKETS}
    spend_m = c["monthly_spending"]
    keep = (float(cfg["liquidity_comfortable_months"]) * spend_m).where(
        spend_m > 0, base["spend"] * total
    )
    fold = missing | ~(c["level_n"] >= _num(cfg["pocket_grow_min_level"]))
    tol = float(cfg["pocket_tolerance"])
    off = pd.Series(False, index=c.index)
    for p in cfg["pocket_checked"]:
        target = pd.Series(base[p], index=c.index)
        if p == "grow":
            target = target.where(~fold, 0.0)
        elif p == "preserve":
            target = target.where(~fold, base["preserve"] + base["grow"])
        share = pk[p] / in_pk.where(in_pk > 0)
        off |= ((share > target + tol + _EPS) | (share < target - tol - _EPS)).fillna(False)
    fits = keep <= (base["spend"] + tol) * total * (1 + _EPS)  # the need fits the spend line
    emit("pocket_imbalance", total[has & fits & off])
    # score findings against the band of the client's level
    w = pos.dropna(subset=["pocket"])
    wsum = w.groupby("client_id")["amount"].sum()
    sc = pd.DataFrame(
        {d: (w[d] * w["amount"]).groupby(w["client_id"]).sum() / wsum for d in DIMENSIONS}
    ).reindex(c.index)
    ok = has & ~missing
    for code, dim, side in (
        ("safety_low", "safety", "min"),
        ("return_high", "return_", "max"),
        ("return_low", "return_", "min"),
        ("liquidity_low", "liquidity", "min"),
    ):
        lines = c["risk_level"].map(lambda r, d=dim, s=side: target_band(r)[d][s])
        lines = pd.to_numeric(lines, errors="coerce")
        tol = _EPS * lines.abs().clip(lower=1.0)
        hit = sc[dim] < lines - tol if side == "min" else sc[dim] > lines + tol
        emit(code, total[ok & hit.fillna(False)])
    return pd.concat(parts, ignore_index=True)


def branch_findings(wh: Database, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Per finding code (every code, in ``FINDING_CODES`` order): code, severity, clients,
    aum_involved (元, see ``_members`` for what each code counts)."""
    m = _members(wh, scope, as_of)
    agg = m.groupby("code").agg(clients=("client_id", "nunique"), aum_involved=("amount", "sum"))
    agg = agg.reindex(list(FINDING_CODES), fill_value=0).reset_index()
    agg["clients"] = agg["clients"].astype(int)
    agg["aum_involved"] = agg["aum_involved"].astype(float)
    sev = _cfg()["severity"]
    agg.insert(1, "severity", [sev[c] for c in agg["code"]])
    return agg


def finding_members(
    wh: Database, scope: Scope, code: str, as_of: date | None = None
) -> pd.DataFrame:
    """The clients in scope with finding ``code``: client_id, amount; largest amount first."""
    if code not in FINDING_CODES:
        raise ValueError(f"unknown finding code {code!r}")
    m = _members(wh, scope, as_of)
    m = m[m["code"] == code][["client_id", "amount"]]
    return m.sort_values(["amount", "client_id"], ascending=[False, True]).reset_index(drop=True)


__all__ = [
    "KYC",
    "Finding",
    "Move",
    "apply_moves",
    "blank_household",
    "branch_findings",
    "client_portfolio",
    "empty_portfolio",
    "example_household",
    "finding_members",
    "findings",
    "pocket_targets",
    "pockets",
    "propose_moves",
    "score_sheet",
    "scores",
    "shelf",
    "target_band",
    "validate_portfolio",
    "with_edits",
]
