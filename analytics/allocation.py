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
  needs (the view translates ``alloc.finding.<code>``);
- ``propose_moves`` / ``apply_moves``: rebalancing moves into suitable products on the shelf. A
  move group that would raise the number of findings is dropped, so the findings after the moves
  are never more than before.

``branch_findings`` / ``finding_members`` apply the same rules to every client in scope at once
(vectorised in pandas over the latest month-end holdings).

Rules at thresholds: a finding needs the value strictly beyond its line (a share *above*
``concentration_max_share`` / ``over_saving_max_share``, a spend pocket strictly *below*
``liquidity_min_months`` x monthly spending, an assessment *more than* ``[kyc]
risk_assessment_valid_days`` old, a score strictly outside its band). Protection gap: at least
``protection_min_children`` children and no position in ``protection_categories``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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
    "safety_low",
    "return_high",
    "return_low",
    "liquidity_low",
)
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
    """Sell ``amount`` of the position ``from_name`` and buy shelf product ``to_product_id``."""

    from_name: str
    to_product_id: str
    to_name: str
    to_category: str
    amount: float
    reason: str  # the finding code the move fixes
    from_product_id: str | None = None
    to_risk_level: str | None = None
    to_name_en: str | None = None


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


def pockets(portfolio: pd.DataFrame) -> pd.DataFrame:
    """Four pockets: pocket, amount, share, target (share), gap (元 to reach the target; negative
    = above it). Shares are 0 for an empty portfolio."""
    df = _enrich(portfolio)
    targets = _cfg()["pocket_targets"]
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
    """Shelf products the client may buy (risk <= level), with pocket; highest risk first."""
    s = shelf.copy()
    s["risk_n"] = [int(r[1:]) for r in s["risk_level"]]
    s = s[s["risk_n"] <= max_n]
    s["pocket"] = [
        (e or {}).get("pocket") for e in map(_sheet_entry, s["category"], s["risk_level"])
    ]
    s = s[s["pocket"].notna()]
    return s.sort_values(["risk_n", "product_id"], ascending=[False, True]).reset_index(drop=True)


def _ceil_cents(x: float) -> float:
    return math.ceil(round(x * 100, 6)) / 100


def _buy(state, source, amount, candidates, reason, total, skip_keys=()) -> list[Move]:
    """Moves selling ``amount`` of ``source`` (a row of the enriched state) into candidates in
    order, each non-exempt destination capped at the concentration line."""
    cfg = _cfg()
    cap_share = float(cfg["concentration_max_share"])
    exempt = set(cfg["concentration_exempt_categories"])
    held = state.groupby("key")["amount"].sum()
    moves: list[Move] = []
    left = amount
    for c in candidates.itertuples():
        if left <= 0.005:
            break
        if c.product_id in skip_keys or c.product_id == source.product_id:
            continue
        if source.name in (c.name_zh, getattr(c, "name_en", None)):  # the same product, unnamed id
            continue
        room = left
        if c.category not in exempt:
            room = min(left, cap_share * total - float(held.get(c.product_id, 0.0)))
        room = math.floor(room * 100) / 100
        if room <= 0.005:
            continue
        moves.append(
            Move(from_name=source.name, to_product_id=c.product_id, to_name=c.name_zh,
                 to_category=c.category, amount=room, reason=reason,
                 from_product_id=source.product_id if isinstance(source.product_id, str) else None,
                 to_risk_level=c.risk_level, to_name_en=getattr(c, "name_en", None))
        )  # fmt: skip
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


def propose_moves(portfolio: pd.DataFrame, kyc: KYC, shelf: pd.DataFrame) -> list[Move]:
    """Moves into suitable shelf products that fix suitability, concentration, over-saving and
    liquidity-cover findings, in that order. Never buys above the client's level (an unassessed
    client: ``unknown_client_level``); a group of moves that would raise the number of findings is
    dropped."""
    cfg = _cfg()
    level = kyc.risk_level if kyc.risk_level else cfg["unknown_client_level"]
    cands = _shelf_table(shelf, _num(level))
    min_move = float(cfg["min_move_amount"])
    exempt = set(cfg["concentration_exempt_categories"])
    deposits = list(cfg["deposit_categories"])
    accepted: list[Move] = []
    current = apply_moves(portfolio, [])
    count = len(findings(current, kyc))

    def attempt(group: list[Move]) -> bool:
        nonlocal current, count
        group = [m for m in group if m.amount >= min_move]
        if not group:
            return False
        after = apply_moves(current, group)
        n = len(findings(after, kyc))
        if n > count:
            return False
        accepted.extend(group)
        current, count = after, n
        return True

    def state():
        st = _enrich(current)
        return st, float(st["amount"].sum())

    st, total = state()
    if total <= 0 or cands.empty:
        return []
    # 1. suitability: sell each unsuitable position into a suitable product of a similar role.
    if kyc.risk_level is not None:
        for r in st[st["risk_n"] > _num(kyc.risk_level)].itertuples():
            st, total = state()
            src = st[st["key"] == r.key]
            if src.empty:
                continue
            src = next(src.itertuples())
            order = _ordered(cands, r.category, (r.pocket, "preserve", "spend"))
            attempt(_buy(st, src, src.amount, order, "suitability", total))
    # 2. concentration: cut each position above the line into others of the same pocket.
    thr = float(cfg["concentration_max_share"])
    st, total = state()
    conc = st[~st["category"].isin(exempt)].groupby("key")["amount"].sum()
    for key in conc.index[[_gt(a, thr * total) for a in conc]]:
        st, total = state()
        src = next(st[st["key"] == key].itertuples())
        cut = _ceil_cents(float(st.loc[st["key"] == key, "amount"].sum()) - thr * total)
        cut = min(cut, src.amount)
        order = _ordered(cands, src.category, (src.pocket, "preserve", "grow"), safest_first=True)
        attempt(_buy(st, src, cut, order, "concentration", total, skip_keys=(key,)))
    # 3. over-saving: time deposits / CDs first, then current deposits above the comfortable cover.
    thr_dep = float(cfg["over_saving_max_share"])
    st, total = state()
    dep_amount = float(st.loc[st["category"].isin(deposits), "amount"].sum())
    if _gt(dep_amount, thr_dep * total):
        excess = _ceil_cents(dep_amount - thr_dep * total)
        pk = pockets(current).set_index("pocket")["gap"]
        dest_pockets = sorted(("preserve", "grow"), key=lambda p: -pk[p])
        order = _ordered(cands[~cands["category"].isin(deposits)], None, dest_pockets)
        keep_spend = float(cfg["liquidity_comfortable_months"]) * (kyc.monthly_spending or 0)
        group: list[Move] = []
        sources = st[st["category"].isin(deposits)].copy()
        sources["rank"] = (sources["pocket"] == "spend").astype(int)
        spend_free = max(0.0, float(st.loc[st["pocket"] == "spend", "amount"].sum()) - keep_spend)
        probe = current
        for src in sources.sort_values(["rank", "amount"], ascending=[True, False]).itertuples():
            if excess <= 0.005:
                break
            avail = src.amount if src.pocket != "spend" else min(src.amount, spend_free)
            take = min(excess, avail)
            if take <= 0:
                continue
            pst = _enrich(probe)
            ms = _buy(pst, src, take, order, "over_saving", total)
            group += ms
            probe = apply_moves(probe, ms)
            moved = sum(m.amount for m in ms)
            excess -= moved
            if src.pocket == "spend":
                spend_free -= moved
        attempt(group)
    # 4. liquidity cover: top the spend pocket up (comfortable months, else the minimum).
    spending = kyc.monthly_spending
    if spending and spending > 0:
        dest = _ordered(cands, "current_deposit", ("spend",))
        for months_key in ("liquidity_comfortable_months", "liquidity_min_months"):
            st, total = state()
            spend = float(st.loc[st["pocket"] == "spend", "amount"].sum())
            if not _lt(spend, float(cfg["liquidity_min_months"]) * spending):
                break
            need = _ceil_cents(float(cfg[months_key]) * spending - spend)
            src_rank = {"time_deposit": 0, "large_cd": 0, "savings_bond": 1}
            sources = st[st["pocket"].isin(("preserve", "grow")) & st["liquidity"].gt(1)].copy()
            sources["rank"] = [src_rank.get(c, 2) for c in sources["category"]]
            group, probe = [], current
            for src in sources.sort_values(
                ["rank", "amount"], ascending=[True, False]
            ).itertuples():
                if need <= 0.005:
                    break
                ms = _buy(_enrich(probe), src, min(need, src.amount), dest.iloc[:1], "liquidity_cover",
                          total)  # fmt: skip
                group += ms
                probe = apply_moves(probe, ms)
                need -= sum(m.amount for m in ms)
            if attempt(group):
                break
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


def example_household(as_of: date | None = None) -> tuple[pd.DataFrame, KYC]:
    """A made-up family for class: a C3 couple in their forties, two children, deposit-heavy,
    one fund above their level and no protection insurance. Amounts in 元."""
    as_of = as_of or date.today()
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


def blank_household(as_of: date | None = None) -> tuple[pd.DataFrame, KYC]:
    """An empty portfolio and an unassessed client, for a demo started from scratch."""
    df = empty_portfolio()
    df["name_en"] = pd.Series(dtype="object")
    return df, KYC(None, None, None, 0, as_of or date.today())


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
    "pockets",
    "propose_moves",
    "score_sheet",
    "scores",
    "shelf",
    "target_band",
    "validate_portfolio",
]
