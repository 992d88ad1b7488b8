"""Cohort profiles (客群画像, issue 4 item 2): one cohort of clients against the rest of the scope.

Shared by the senior (中老年) and high-end (中高端) views. A cohort is a ``members`` frame with a
client_id column (``senior_members``, ``high_end_members`` or any list); only the members inside
the viewer's scope count, and the *rest* is every other client in the scope. Each frame of a
``CohortProfile`` has a ``cohort`` and a ``rest`` column, so one chart shows both on the same axes.

Conventions:

- ``as_of`` (default: the latest month-end in ``client_aum_monthly``) picks the month: the latest
  month-end on or before it. Ages are full years at ``as_of``; AUM, held tiers and positions are
  that month-end's. A client without an AUM row that month counts with AUM 0 and tier mass.
- Shares are of clients (age bands, tiers, risk levels, penetration, indicators, tags) or of AUM
  (product mix); each mix sums to 1 for a non-empty group, and is 0 everywhere for an empty one.
- Age bands are ``[cohorts] younger_bands`` then ``senior_bands`` (a client in none is 'other',
  listed only when there is one). Senior = age >= ``senior_min_age`` or, with a band, inside it.
- High-end = held tier at or above ``[tiers] high_end_from``, or exactly one tier.
- Product mix: AUM (``COALESCE(avg_balance, balance)``, as ``client_aum_monthly``) by product
  category at the as-of month-end; penetration: the share of clients holding a position in it.
- Channels: average monthly mobile logins over the last ``[cohorts] channel_months`` month-ends
  (a month without a row counts 0); mobile banking activated; payroll / pension paid here.
- Trend: AUM of today's members and of today's rest at every month-end up to the as-of month
  (membership is not re-evaluated per month).
- Unknown roster values (a bank's import without birth dates, risk levels or flags): age band and
  risk level ``UNKNOWN`` (listed only when some client has it); a yes/no indicator is the share
  among the clients whose value is known, NaN when nobody's is; tags are the ones the snapshot has
  the data for (``tags.available_tags``); without holdings the product frames have no rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from analytics import coverage
from analytics import tags as tags_mod
from analytics.access import Scope
from analytics.settings import load_settings
from analytics.snapshot import month_and_anchor
from analytics.store import Database
from analytics.tiers import held_tiers_sql, month_start, tier_names, tier_window_start

# Product categories in shelf order (analytics/schema.sql); unknown categories follow by name.
CATEGORY_ORDER = (
    "current_deposit",
    "time_deposit",
    "large_cd",
    "savings_bond",
    "wealth",
    "money_fund",
    "bond_fund",
    "mixed_fund",
    "equity_fund",
    "protection_insurance",
    "annuity_insurance",
    "precious_metal",
    "trust",
)
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
INDICATORS = (  # (measure, unit)
    ("clients", "count"),
    ("aum", "yuan"),
    ("avg_aum", "yuan"),
    ("mobile_banking", "share"),
    ("avg_monthly_logins", "count"),
    ("payroll", "share"),
    ("pension", "share"),
    ("payroll_or_pension", "share"),
)
GROUPS = ("cohort", "rest")
UNKNOWN = "unknown"  # an age band or risk level for clients whose roster row does not give it


@dataclass(frozen=True)
class CohortProfile:
    """A cohort against the rest of the scope at ``month`` (the as-of month-end).

    Scalars: clients / rest_clients (counts; they add up to the scope's clients), aum / rest_aum
    (yuan), client_share and aum_share (the cohort's share of the scope). Frames (``cohort`` and
    ``rest`` columns, shares unless said otherwise):

    - age_bands: band (label '50-59', '70+', '<30'), lo, hi, cohort, rest
    - tiers: tier (code, lowest first), cohort, rest
    - product_mix: category, cohort, rest (AUM shares)
    - penetration: category, cohort, rest (share of clients holding the category)
    - risk_levels: risk_level, cohort, rest
    - indicators: measure, unit ('count' | 'yuan' | 'share'), cohort, rest (see ``INDICATORS``)
    - tags: tag (code of ``analytics.tags.TAGS``), cohort, rest (share of clients with the tag)
    - trend: month_end, cohort, rest (AUM in yuan)
    """

    month: date | None
    clients: int
    rest_clients: int
    aum: float
    rest_aum: float
    client_share: float
    aum_share: float
    age_bands: pd.DataFrame
    tiers: pd.DataFrame
    product_mix: pd.DataFrame
    penetration: pd.DataFrame
    risk_levels: pd.DataFrame
    indicators: pd.DataFrame
    tags: pd.DataFrame
    trend: pd.DataFrame


# ---------------------------------------------------------------------------- helpers


def _month(wh: Database, as_of: date | None) -> date | None:
    return month_and_anchor(wh, as_of)[0]


def _label(lo: int, hi: int) -> str:
    if lo <= 0:
        return f"<{hi + 1}"
    if hi >= 120:  # an open upper end ("70+"), settings use 200
        return f"{lo}+"
    return f"{lo}-{hi}"


def age_bands(settings: dict | None = None) -> list[tuple[str, int, int]]:
    """(label, lo, hi) of every age band, youngest first: ``[cohorts] younger_bands`` then
    ``senior_bands`` (both ends included)."""
    c = (settings or load_settings())["cohorts"]
    return [(_label(int(lo), int(hi)), int(lo), int(hi)) for lo, hi in c["younger_bands"]] + [
        (_label(int(lo), int(hi)), int(lo), int(hi)) for lo, hi in c["senior_bands"]
    ]


def senior_bands(settings: dict | None = None) -> list[tuple[str, int, int]]:
    """(label, lo, hi) of the senior bands of ``[cohorts] senior_bands`` ('50-59', '60-69', '70+')."""
    c = (settings or load_settings())["cohorts"]
    return [(_label(int(lo), int(hi)), int(lo), int(hi)) for lo, hi in c["senior_bands"]]


def _shares(df: pd.DataFrame, key: str, order: list) -> pd.DataFrame:
    """Share of clients of each group (in_cohort) per value of ``key``, rows in ``order``."""
    counts = (
        df.groupby([key, "in_cohort"]).size().unstack("in_cohort").reindex(columns=[True, False])
    )
    counts = counts.reindex(order).fillna(0)
    out = pd.DataFrame({key: order})
    for group, flag in zip(GROUPS, (True, False), strict=True):
        n = counts[flag].to_numpy(dtype=float)
        total = n.sum()
        out[group] = n / total if total else 0.0
    return out


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


# ---------------------------------------------------------------------------- members


def senior_members(
    wh: Database, scope: Scope, band: str | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Senior clients in scope (client_id, sorted): age >= ``[cohorts] senior_min_age``, or, with
    ``band`` (a label of ``senior_bands()``, e.g. '60-69'), age within that band."""
    c = load_settings()["cohorts"]
    if band is None:
        lo, hi = int(c["senior_min_age"]), None
    else:
        found = [(b_lo, b_hi) for label, b_lo, b_hi in senior_bands() if label == band]
        if not found:
            raise ValueError(f"unknown senior band {band!r}")
        lo, hi = found[0]
    month = _month(wh, as_of)
    anchor = pd.Timestamp(as_of).date() if as_of is not None else month
    if anchor is None:
        return pd.DataFrame({"client_id": pd.Series([], dtype=object)})
    where, params = scope.where("c")
    return wh.query(
        f"""
        SELECT client_id FROM (
            SELECT c.client_id, date_sub('year', c.birth_date, ?::DATE) AS age
            FROM clients c WHERE {where}
        ) WHERE age >= ? AND age <= COALESCE(?, age)
        ORDER BY client_id
        """,
        [anchor, *params, lo, hi],
    )


def high_end_members(
    wh: Database, scope: Scope, tier: str | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """High-end clients in scope (client_id, tier (code), sorted by client_id): held tier at the
    as-of month-end at or above ``[tiers] high_end_from``, or exactly ``tier``."""
    settings = load_settings()
    names = tier_names(settings)
    if tier is not None and tier not in names:
        raise ValueError(f"unknown tier {tier!r}")
    lo = names.index(tier or settings["tiers"]["high_end_from"])
    hi = names.index(tier) if tier is not None else len(names) - 1
    month = _month(wh, as_of)
    if month is None:
        return pd.DataFrame({"client_id": pd.Series([], dtype=object), "tier": []})
    held, held_params = held_tiers_sql(scope, settings, first=tier_window_start(month), last=month)
    where, params = scope.where("c")
    df = wh.query(
        f"""
        SELECT h.client_id, h.tier
        FROM ({held}) h JOIN clients c USING (client_id)
        WHERE h.month_end = ? AND h.tier BETWEEN ? AND ? AND {where}
        ORDER BY h.client_id
        """,
        [*held_params, month, lo, hi, *params],
    )
    df["tier"] = [names[int(t)] for t in df["tier"]]
    return df


# ---------------------------------------------------------------------------- profile


def cohort_profile(
    wh: Database, scope: Scope, members: pd.DataFrame, as_of: date | None = None
) -> CohortProfile:
    """Profile of the ``members`` in ``scope`` against the scope's other clients (module
    docstring). Members outside the scope are ignored."""
    settings = load_settings()
    month = _month(wh, as_of)
    anchor = pd.Timestamp(as_of).date() if as_of is not None else month
    names = tier_names(settings)
    where, params = scope.where("c")
    ids = pd.DataFrame({"client_id": members["client_id"].astype(str).drop_duplicates()})
    if month is not None:
        held, held_params = held_tiers_sql(
            scope, settings, first=tier_window_start(month), last=month
        )
        login_first = month_start(month, int(settings["cohorts"]["channel_months"]) - 1)
    else:
        held = "SELECT NULL::VARCHAR AS client_id, 0 AS tier, NULL::DATE AS month_end"
        held_params, login_first = [], None
    pop = f"""
        pop AS (
            SELECT c.*, c.client_id IN (SELECT client_id FROM cohort_members) AS in_cohort
            FROM clients c WHERE {where}
        )
    """
    with wh.cursor() as cur:
        cur.register("cohort_members", ids)
        base = cur.execute(
            f"""
            WITH {pop},
            aum AS (
                SELECT a.client_id, a.aum FROM client_aum_monthly a SEMI JOIN pop USING (client_id)
                WHERE a.month_end = ?
            ),
            held AS (SELECT client_id, tier FROM ({held}) WHERE month_end = ?),
            logins AS (
                SELECT d.client_id, SUM(d.mobile_logins) AS logins
                FROM digital_activity d SEMI JOIN pop USING (client_id)
                WHERE d.month_end >= ? AND d.month_end <= ?
                GROUP BY d.client_id
            )
            SELECT pop.client_id, pop.in_cohort,
                   date_sub('year', pop.birth_date, ?::DATE) AS age, pop.risk_level,
                   pop.payroll_flag, pop.pension_flag, pop.mobile_banking,
                   COALESCE(aum.aum, 0)::DOUBLE AS aum, COALESCE(held.tier, 0) AS tier,
                   COALESCE(logins.logins, 0)::DOUBLE AS logins
            FROM pop LEFT JOIN aum USING (client_id) LEFT JOIN held USING (client_id)
            LEFT JOIN logins USING (client_id)
            """,
            [*params, month, *held_params, month, login_first, month, anchor],
        ).df()
        products = cur.execute(
            f"""
            WITH {pop}
            SELECT p.category, pop.in_cohort,
                   SUM(COALESCE(h.avg_balance, h.balance))::DOUBLE AS aum,
                   COUNT(DISTINCT h.client_id) AS holders
            FROM holdings_monthly h JOIN pop USING (client_id) JOIN products p USING (product_id)
            WHERE h.month_end = ?
            GROUP BY ALL
            """,
            [*params, month],
        ).df()
        trend = cur.execute(
            f"""
            WITH {pop}
            SELECT a.month_end,
                   COALESCE(SUM(a.aum) FILTER (WHERE pop.in_cohort), 0)::DOUBLE AS cohort,
                   COALESCE(SUM(a.aum) FILTER (WHERE NOT pop.in_cohort), 0)::DOUBLE AS rest
            FROM client_aum_monthly a JOIN pop USING (client_id)
            WHERE a.month_end <= ?
            GROUP BY a.month_end ORDER BY a.month_end
            """,
            [*params, month],
        ).df()
        shelf = cur.execute("SELECT DISTINCT category FROM products").df()["category"]

    base["in_cohort"] = base["in_cohort"].astype(bool)
    cohort, rest = base[base["in_cohort"]], base[~base["in_cohort"]]
    n_cohort, n_rest = len(cohort), len(rest)
    aum_cohort, aum_rest = float(cohort["aum"].sum()), float(rest["aum"].sum())

    # age bands
    bands = age_bands(settings)
    label = pd.Series("other", index=base.index, dtype=object)
    for name, lo, hi in reversed(bands):  # the first matching band wins
        label[(base["age"] >= lo) & (base["age"] <= hi)] = name
    label[base["age"].isna()] = UNKNOWN  # no birth date in the roster
    base["band"] = label
    order = [b[0] for b in bands] + [x for x in ("other", UNKNOWN) if (label == x).any()]
    age = _shares(base, "band", order)
    lohi = {name: (lo, hi) for name, lo, hi in bands}
    age.insert(1, "lo", [lohi.get(b, (None, None))[0] for b in order])
    age.insert(2, "hi", [lohi.get(b, (None, None))[1] for b in order])

    # held tiers and risk levels
    base["tier_code"] = [names[int(t)] for t in base["tier"]]
    tiers = _shares(base, "tier_code", names).rename(columns={"tier_code": "tier"})
    base["risk_level"] = base["risk_level"].fillna(UNKNOWN).astype(object)
    others = sorted(set(base["risk_level"]) - set(RISK_LEVELS) - {UNKNOWN})
    levels = [*RISK_LEVELS, *others] + ([UNKNOWN] if (base["risk_level"] == UNKNOWN).any() else [])
    risk = _shares(base, "risk_level", levels)

    # products
    cats = [c for c in CATEGORY_ORDER if c in set(shelf)]
    cats += sorted(set(shelf) - set(CATEGORY_ORDER))
    products["in_cohort"] = products["in_cohort"].astype(bool)
    mix = pd.DataFrame({"category": cats})
    pen = pd.DataFrame({"category": cats})
    for group, flag, n in (("cohort", True, n_cohort), ("rest", False, n_rest)):
        part = products[products["in_cohort"] == flag].set_index("category").reindex(cats)
        amounts = part["aum"].fillna(0).to_numpy(dtype=float)
        total = amounts.sum()
        mix[group] = amounts / total if total else 0.0
        holders = part["holders"].fillna(0).to_numpy(dtype=float)
        pen[group] = holders / n if n else 0.0

    # indicators: a yes/no share is over the clients whose answer the roster gives (NaN when
    # nobody's is known); logins are NaN when no mobile-banking activity was imported
    digital = coverage.has(wh, "digital")

    def _known_share(flags: pd.Series) -> float:
        known = flags.dropna().astype(bool)
        return float(known.mean()) if len(known) else float("nan")

    def _measures(g: pd.DataFrame) -> list[float]:
        n = len(g)
        payroll, pension = g["payroll_flag"], g["pension_flag"]
        yes = payroll.fillna(False).astype(bool) | pension.fillna(False).astype(bool)
        either = yes.astype(object).where(yes | (payroll.notna() & pension.notna()))
        return [
            float(n),
            float(g["aum"].sum()),
            _ratio(g["aum"].sum(), n),
            _known_share(g["mobile_banking"]),
            _ratio(g["logins"].sum(), n) / int(settings["cohorts"]["channel_months"])
            if digital
            else float("nan"),
            _known_share(payroll),
            _known_share(pension),
            _known_share(either),
        ]

    indicators = pd.DataFrame(
        {
            "measure": [m for m, _ in INDICATORS],
            "unit": [u for _, u in INDICATORS],
            "cohort": _measures(cohort),
            "rest": _measures(rest),
        }
    )

    # tags
    tag_frame = tags_mod.client_tags(wh, scope, as_of)
    in_cohort = tag_frame["client_id"].isin(set(cohort["client_id"]))
    tag_rows = []
    for tag in tags_mod.available_tags(wh):
        flags = tag_frame[tag]
        tag_rows.append(
            {
                "tag": tag,
                "cohort": _ratio(flags[in_cohort].sum(), in_cohort.sum()),
                "rest": _ratio(flags[~in_cohort].sum(), (~in_cohort).sum()),
            }
        )

    scope_clients, scope_aum = n_cohort + n_rest, aum_cohort + aum_rest
    return CohortProfile(
        month=month,
        clients=n_cohort,
        rest_clients=n_rest,
        aum=aum_cohort,
        rest_aum=aum_rest,
        client_share=_ratio(n_cohort, scope_clients),
        aum_share=_ratio(aum_cohort, scope_aum),
        age_bands=age,
        tiers=tiers,
        product_mix=mix,
        penetration=pen,
        risk_levels=risk,
        indicators=indicators,
        tags=pd.DataFrame(tag_rows, columns=["tag", "cohort", "rest"]),
        trend=trend,
    )


def senior_profile(
    wh: Database, scope: Scope, band: str | None = None, as_of: date | None = None
) -> CohortProfile:
    """The senior cohort (or one senior band) against the rest of the scope."""
    return cohort_profile(wh, scope, senior_members(wh, scope, band, as_of), as_of)


def high_end_profile(
    wh: Database, scope: Scope, tier: str | None = None, as_of: date | None = None
) -> CohortProfile:
    """The high-end cohort (or one high-end tier) against the rest of the scope."""
    return cohort_profile(wh, scope, high_end_members(wh, scope, tier, as_of), as_of)


def missing_products(
    wh: Database, scope: Scope, tier: str | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Needs of high-end clients (配置缺口): for each high-end client in scope, the product
    categories that at least ``[cohorts] peer_penetration`` of the clients of the same tier (in
    the scope) hold at the as-of month-end and this client does not. Columns: client_id, tier,
    category, peer_share (share of tier peers holding it), sorted by tier, category, client_id."""
    threshold = float(load_settings()["cohorts"]["peer_penetration"])
    members = high_end_members(wh, scope, tier, as_of)
    cols = ["client_id", "tier", "category", "peer_share"]
    month = _month(wh, as_of)
    if members.empty or month is None:
        return pd.DataFrame(columns=cols)
    where, params = scope.where("c")
    held = wh.query(
        f"""
        SELECT DISTINCT h.client_id, p.category
        FROM holdings_monthly h JOIN products p USING (product_id) JOIN clients c USING (client_id)
        WHERE h.month_end = ? AND {where}
        """,
        [month, *params],
    ).merge(members, on="client_id")
    sizes = members.groupby("tier")["client_id"].nunique()
    share = held.groupby(["tier", "category"])["client_id"].nunique().div(sizes, level="tier")
    common = share[share >= threshold].rename("peer_share").reset_index()
    wanted = members.merge(common, on="tier")
    have = held.assign(held=True)
    out = wanted.merge(have, on=["client_id", "tier", "category"], how="left")
    out = out[out["held"].isna()][cols]
    return out.sort_values(["tier", "category", "client_id"], ignore_index=True)
