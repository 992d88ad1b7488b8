"""The 5-20-30 contact planner (5-20-30客户联络法则, DESIGN.md §3, issue 6).

Each RM, each working day, makes ``[contact_rule] deep`` (5) deep contacts (a meeting or a branch
invitation), ``calls`` (20) effective calls and ``light`` (30) light touches (WeChat or SMS). The
planner fills those slots from a priority queue of triggers (``TRIGGERS``; weights and preferred
slots in ``[contact_rule.triggers]``):

- dated triggers, raised on the last working day on or before their date: a position maturing in
  ``days_before`` days (``maturity_t7``, ``maturity_t3``), a birthday, a payroll or pension day
  (``pay_day``), an insurance call-back (``insurance_callback``: the day after a new policy, during
  its cooling-off period, and each policy anniversary);
- standing triggers, raised every day until the client is contacted: a fund position at or below
  ``[client_view] fund_loss_alert`` (``fund_drawdown``), an upgrade near-miss or downgrade risk
  (``threshold``, analytics/threshold.py), a risk assessment expiring within
  ``stale_risk_warn_days`` (``stale_risk``) and a client overdue for their tier's cadence
  (``cadence_overdue``, ``[contact_rule.cadence_days]``; a tier without a cadence is never overdue).

Priority = trigger weight + ``[contact_rule.tier_weight]`` of the held tier (+ up to ``overdue_bonus`` for
how far past their cadence an overdue client is); ties go to the larger AUM, then the client id, so the
plan is deterministic. A client with several triggers is planned once, for the strongest, and the
others are listed in ``also``.

Slots: each client first goes to the slot its trigger prefers while that slot has room; the rest,
in priority order, fill the free slots deep → call → light, so every quota is met when enough
clients qualify and none is ever exceeded. Deep contacts are visits, calls are calls, light touches
go by WeChat to clients with mobile banking and by SMS to the others.

Interval: no client is planned twice within ``min_interval_days``, and a client contacted (CRM
history or a contact logged in BranchLens) within it is pushed back until it has passed. A dated
trigger that falls inside the pause is dropped (the client was just spoken to).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import pandas as pd

from analytics import threshold
from analytics.access import AccessDenied, Scope
from analytics.privacy import mask_notes
from analytics.settings import load_settings
from analytics.snapshot import month_and_anchor
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names, tier_window_start
from analytics.value import FUND_CATEGORIES

SLOTS = ("deep", "call", "light")
SLOT_QUOTA_KEY = {"deep": "deep", "call": "calls", "light": "light"}
TRIGGERS = (
    "maturity_t7", "maturity_t3", "fund_drawdown", "threshold", "insurance_callback",
    "cadence_overdue", "stale_risk", "birthday", "pay_day",
)  # fmt: skip
# The CRM's topic codes (contact_history.topic), so a logged contact reads like the CRM history.
TOPIC_OF = {
    "maturity_t7": "maturity",
    "maturity_t3": "maturity",
    "fund_drawdown": "review",
    "threshold": "product",
    "insurance_callback": "service",
    "cadence_overdue": "service",
    "stale_risk": "review",
    "birthday": "birthday",
    "pay_day": "product",
}
PLAN_COLUMNS = (
    "day", "rm_id", "client_id", "slot", "channel", "reason", "topic", "priority", "tier", "aum",
    "detail", "also",
)  # fmt: skip


# ---------------------------------------------------------------------------- calendar


def _dates(values: Iterable[str]) -> set[date]:
    return {date.fromisoformat(str(v)) for v in values}


def is_working_day(day: date, settings: dict | None = None) -> bool:
    """Monday to Friday, minus ``[contact_rule] holidays``, plus the make-up ``working_days``."""
    rule = (settings or load_settings())["contact_rule"]
    if day in _dates(rule.get("working_days", [])):
        return True
    return day.weekday() < 5 and day not in _dates(rule.get("holidays", []))


def working_days(start: date, end: date, settings: dict | None = None) -> list[date]:
    """The working days from ``start`` to ``end``, both included."""
    settings = settings or load_settings()
    days, d = [], start
    while d <= end:
        if is_working_day(d, settings):
            days.append(d)
        d += timedelta(days=1)
    return days


def next_working_days(start: date, n: int, settings: dict | None = None) -> list[date]:
    """The first ``n`` working days on or after ``start``."""
    settings = settings or load_settings()
    days, d = [], start
    while len(days) < n:
        if is_working_day(d, settings):
            days.append(d)
        d += timedelta(days=1)
    return days


def week_of(day: date, settings: dict | None = None) -> list[date]:
    """The working days of ``day``'s week (Monday to Sunday) from ``day`` on."""
    return working_days(day, day + timedelta(days=6 - day.weekday()), settings)


def _handling_days(first: date, last: date, settings: dict) -> dict[date, date]:
    """Calendar date -> the last working day on or before it, for dates whose handling day falls
    in [first, last] (a trigger due on a Sunday is raised on the Friday before)."""
    out: dict[date, date] = {}
    current = None
    d = first - timedelta(days=14)
    while d <= last + timedelta(days=14):
        if is_working_day(d, settings):
            current = d
        if current is not None and first <= current <= last:
            out[d] = current
        d += timedelta(days=1)
    return out


# ---------------------------------------------------------------------------- facts


def _in_scope_rm(scope: Scope, rm_id: str | None) -> tuple[str, list]:
    where, params = scope.where("c")
    where += " AND c.rm_id IS NOT NULL"
    if rm_id is not None:
        where += " AND c.rm_id = ?"
        params = [*params, rm_id]
    return where, params


def _client_facts(wh: Database, scope: Scope, rm_id: str | None, month: date) -> pd.DataFrame:
    held, held_params = held_tiers_sql(scope, first=tier_window_start(month), last=month)
    where, params = _in_scope_rm(scope, rm_id)
    df = wh.query(
        f"""
        WITH latest AS (SELECT client_id, aum, tier FROM ({held}) WHERE month_end = ?),
        crm AS (SELECT client_id, MAX(contact_date) AS last_contact
                FROM contact_history GROUP BY client_id)
        SELECT c.client_id, c.rm_id, c.birth_date, c.pay_day, c.payroll_flag, c.pension_flag,
               c.mobile_banking, c.risk_assessed_on,
               COALESCE(l.tier, 0) AS tier, COALESCE(l.aum, 0)::DOUBLE AS aum,
               crm.last_contact
        FROM clients c LEFT JOIN latest l USING (client_id) LEFT JOIN crm USING (client_id)
        WHERE {where}
        ORDER BY c.client_id
        """,
        [*held_params, month, *params],
    )
    for col in ("birth_date", "risk_assessed_on", "last_contact"):
        df[col] = pd.to_datetime(df[col]).dt.date
    return df


def _maturities(
    wh: Database, scope: Scope, rm_id: str | None, month: date, first: date, last: date
) -> pd.DataFrame:
    where, params = _in_scope_rm(scope, rm_id)
    df = wh.query(
        f"""
        SELECT h.client_id, h.maturity_date, h.balance::DOUBLE AS amount,
               p.name_zh AS product_zh, p.name_en AS product_en
        FROM holdings_monthly h JOIN clients c USING (client_id)
        JOIN products p USING (product_id)
        WHERE h.month_end = ? AND h.maturity_date BETWEEN ? AND ? AND {where}
        ORDER BY h.client_id, h.maturity_date, h.product_id
        """,
        [month, first, last, *params],
    )
    df["maturity_date"] = pd.to_datetime(df["maturity_date"]).dt.date
    return df


def _fund_losses(
    wh: Database, scope: Scope, rm_id: str | None, month: date, alert: float
) -> pd.DataFrame:
    where, params = _in_scope_rm(scope, rm_id)
    marks = ", ".join("?" for _ in FUND_CATEGORIES)
    return wh.query(
        f"""
        SELECT client_id, MIN(pnl_pct) AS pct FROM (
            SELECT h.client_id, (h.balance - h.cost)::DOUBLE / h.cost::DOUBLE AS pnl_pct
            FROM holdings_monthly h JOIN clients c USING (client_id)
            JOIN products p USING (product_id)
            WHERE h.month_end = ? AND p.category IN ({marks}) AND h.cost > 0 AND {where})
        WHERE pnl_pct <= ? GROUP BY client_id ORDER BY client_id
        """,
        [month, *FUND_CATEGORIES, *params, alert],
    )


def _policies(wh: Database, scope: Scope, rm_id: str | None) -> pd.DataFrame:
    where, params = _in_scope_rm(scope, rm_id)
    df = wh.query(
        f"""
        SELECT i.client_id, i.policy_id, i.start_date, i.cooling_off_end,
               p.name_zh AS product_zh, p.name_en AS product_en
        FROM insurance_policies i JOIN clients c USING (client_id)
        JOIN products p USING (product_id)
        WHERE {where} ORDER BY i.client_id, i.policy_id
        """,
        params,
    )
    for col in ("start_date", "cooling_off_end"):
        df[col] = pd.to_datetime(df[col]).dt.date
    return df


def _threshold(wh: Database, scope: Scope, rm_id: str | None, as_of: date) -> pd.DataFrame:
    up = threshold.upgrade_near_miss(wh, scope, as_of=as_of)
    down = threshold.downgrade_risk(wh, scope, as_of=as_of)
    parts = [
        up[["client_id", "rm_id", "line_tier", "gap"]].assign(kind="upgrade"),
        down[["client_id", "rm_id", "line_tier", "gap_to_keep"]]
        .rename(columns={"gap_to_keep": "gap"})
        .assign(kind="downgrade"),
    ]
    df = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
    if rm_id is not None:
        df = df[df["rm_id"] == rm_id]
    # one row per client: a downgrade risk outranks an upgrade near-miss (losing a tier costs more)
    df = df.sort_values(["client_id", "kind"], kind="stable").drop_duplicates("client_id")
    return df[["client_id", "kind", "line_tier", "gap"]].reset_index(drop=True)


# ---------------------------------------------------------------------------- triggers


def _object_ids(df: pd.DataFrame) -> pd.DataFrame:
    """Id columns as plain Python strings: pandas' Arrow-backed strings make ``isin`` and
    indexing on a million ids orders of magnitude slower."""
    for col in ("client_id", "rm_id"):
        if col in df.columns:
            df[col] = df[col].astype(object)
    return df


def _known(flags: pd.Series) -> np.ndarray:
    """A yes/no roster column as booleans, an unknown (NULL) flag as no."""
    return flags.fillna(False).astype(bool).to_numpy()


def _dates_in(year, month, dom) -> pd.Series:
    """Vectorised date(year, month, dom): 29 February becomes 1 March in common years and a day
    past the month's end (a pay day on the 31st) falls on the month's last day."""
    dom = np.asarray(dom, dtype="int64")
    n = len(dom)
    frame = pd.DataFrame(
        {"year": np.broadcast_to(year, n), "month": np.broadcast_to(month, n), "day": 1}
    )
    first = pd.to_datetime(frame)
    last_dom = first.dt.days_in_month.to_numpy()
    leap_day = (frame["month"].to_numpy() == 2) & (dom == 29) & (last_dom == 28)
    shift = np.where(leap_day, 29, np.minimum(dom, last_dom)) - 1
    return (first + pd.to_timedelta(shift, unit="D")).dt.date


def _raise(rows: list, due, handling: dict[date, date], client_ids, reason: str, details) -> None:
    """Append (day, client_id, reason, detail) for the triggers whose due date is handled on a
    plan day; ``details`` is a callable giving the detail dict of one row position."""
    day = pd.Series(np.asarray(due, dtype=object)).map(handling).to_numpy(object)
    for i in np.flatnonzero(pd.notna(day)):
        rows.append((day[i], client_ids[i], reason, details(i)))


def _arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The frame's columns as plain object arrays: element access in the loops below is then a
    cheap array index, not a pandas lookup."""
    return {c: df[c].to_numpy(object) for c in df.columns}


def _dated_triggers(
    facts: pd.DataFrame,
    maturities: pd.DataFrame,
    policies: pd.DataFrame,
    handling: dict[date, date],
    rule: dict,
) -> pd.DataFrame:
    """(day, client_id, reason, detail) for every dated trigger raised on a plan day."""
    rows: list[tuple] = []
    years = sorted({d.year for d in handling})
    months = sorted({(d.year, d.month) for d in handling})
    m = _arrays(maturities)
    for reason in ("maturity_t7", "maturity_t3"):
        before = int(rule["triggers"][reason]["days_before"])
        due = [d - timedelta(days=before) for d in m["maturity_date"]]
        _raise(rows, due, handling, m["client_id"], reason, lambda i, b=before: {
            "product_zh": m["product_zh"][i], "product_en": m["product_en"][i],
            "date": m["maturity_date"][i].isoformat(), "amount": float(m["amount"][i]), "days": b,
        })  # fmt: skip
    dated = facts[facts["birth_date"].notna()]  # no birth date in the roster: no birthday
    ids = dated["client_id"].to_numpy(object)
    born = pd.to_datetime(dated["birth_date"])
    born_year = born.dt.year.to_numpy()
    for year in years:
        due = _dates_in(year, born.dt.month.to_numpy(), born.dt.day.to_numpy()).to_numpy(object)
        _raise(rows, due, handling, ids, "birthday", lambda i, y=year, d=due: {
            "date": d[i].isoformat(), "age": int(y - born_year[i]),
        })  # fmt: skip
    flagged = _known(facts["payroll_flag"]) | _known(facts["pension_flag"])
    paid = facts[flagged & facts["pay_day"].notna()]
    pa = _arrays(paid)
    for y, mo in months:
        due = _dates_in(y, mo, paid["pay_day"].to_numpy()).to_numpy(object)
        _raise(rows, due, handling, pa["client_id"], "pay_day", lambda i, d=due: {
            "date": d[i].isoformat(), "kind": "pension" if pa["pension_flag"][i] else "payroll",
        })  # fmt: skip
    pol = _arrays(policies)
    start = pd.to_datetime(policies["start_date"])
    start_year = start.dt.year.to_numpy()
    callbacks = [(np.array([d + timedelta(days=1) for d in pol["start_date"]], dtype=object), 0)]
    callbacks += [
        (_dates_in(y, start.dt.month.to_numpy(), start.dt.day.to_numpy()).to_numpy(object), y)
        for y in years
    ]
    for due, year in callbacks:
        if year:  # an anniversary counts from the first year on
            keep = start_year < year
        else:  # the call-back after a sale must fall inside the cooling-off period
            keep = np.array(
                [d <= e for d, e in zip(due, pol["cooling_off_end"], strict=True)], bool
            )
        due = np.where(keep, due, None)
        _raise(rows, due, handling, pol["client_id"], "insurance_callback",
               lambda i, y=year, d=due: {
                   "product_zh": pol["product_zh"][i], "product_en": pol["product_en"][i],
                   "date": d[i].isoformat(), "kind": "anniversary" if y else "new",
                   "years": int(y - start_year[i]) if y else 0,
               })  # fmt: skip
    return pd.DataFrame(rows, columns=["day", "client_id", "reason", "detail"])


def _standing_triggers(
    day: date,
    facts: pd.DataFrame,
    last_contact: pd.Series,
    losses: pd.DataFrame,
    near: pd.DataFrame,
    settings: dict,
) -> pd.DataFrame:
    """(client_id, reason, detail, bonus) for the standing triggers on ``day``."""
    rule = settings["contact_rule"]
    parts = []
    if not losses.empty:
        parts.append(pd.DataFrame({
            "client_id": losses["client_id"], "reason": "fund_drawdown",
            "detail": [{"pct": float(p)} for p in losses["pct"]], "bonus": 0.0,
        }))  # fmt: skip
    if not near.empty:
        parts.append(pd.DataFrame({
            "client_id": near["client_id"], "reason": "threshold",
            "detail": [{"kind": k, "tier": t, "gap": float(g)}
                       for k, t, g in zip(near["kind"], near["line_tier"], near["gap"], strict=True)],
            "bonus": 0.0,
        }))  # fmt: skip
    valid = int(settings["kyc"]["risk_assessment_valid_days"])
    warn = int(rule["stale_risk_warn_days"])
    assessed = facts[facts["risk_assessed_on"].notna()]  # never assessed: nothing expires
    expires = pd.to_datetime(assessed["risk_assessed_on"]) + pd.Timedelta(days=valid)
    stale = assessed[(expires <= pd.Timestamp(day + timedelta(days=warn))).to_numpy()]
    if not stale.empty:
        parts.append(pd.DataFrame({
            "client_id": stale["client_id"], "reason": "stale_risk",
            "detail": [{"date": (d + timedelta(days=valid)).isoformat()}
                       for d in stale["risk_assessed_on"]],
            "bonus": 0.0,
        }))  # fmt: skip
    names = tier_names(settings)
    cadence = np.array(
        [float(rule["cadence_days"].get(n, np.nan)) for n in names], dtype="float64"
    )[facts["tier"].to_numpy()]
    last = pd.to_datetime(last_contact.reindex(facts["client_id"]).to_numpy())
    since = (pd.Timestamp(day) - last).days.to_numpy(dtype="float64", na_value=np.inf)
    overdue = ~np.isnan(cadence) & (since >= cadence)
    if overdue.any():
        ratio = np.minimum((since[overdue] - cadence[overdue]) / cadence[overdue], 1.0)
        parts.append(pd.DataFrame({
            "client_id": facts["client_id"].to_numpy()[overdue], "reason": "cadence_overdue",
            "detail": [{"days": None if np.isinf(s) else int(s), "cadence": int(c)}
                       for s, c in zip(since[overdue], cadence[overdue], strict=True)],
            "bonus": float(rule["overdue_bonus"]) * ratio,
        }))  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=["client_id", "reason", "detail", "bonus"])
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------- allocation


def _quotas(settings: dict) -> dict[str, int]:
    rule = settings["contact_rule"]
    return {slot: int(rule[SLOT_QUOTA_KEY[slot]]) for slot in SLOTS}


def _allocate(cands: pd.DataFrame, quotas: dict[str, int]) -> pd.DataFrame:
    """Give each candidate (already one per client, sorted rm_id then best first) a slot or none:
    preferred slots first while they have room, then the rest fill free slots deep → call → light.
    """
    cands = cands.copy()
    cands["slot"] = None
    quota = cands["pref"].map(quotas)
    first = cands.groupby(["rm_id", "pref"], sort=False).cumcount() < quota
    cands.loc[first, "slot"] = cands.loc[first, "pref"]
    used = cands[first].groupby(["rm_id", "slot"]).size().unstack(fill_value=0)
    used = used.reindex(columns=list(SLOTS), fill_value=0)
    rest = cands[~first]
    if not rest.empty:
        free = pd.DataFrame({s: quotas[s] for s in SLOTS}, index=rest["rm_id"].unique())
        free = free.sub(used.reindex(free.index, fill_value=0), fill_value=0).clip(lower=0)
        k = rest.groupby("rm_id", sort=False).cumcount().to_numpy()
        f = free.reindex(rest["rm_id"]).to_numpy()
        edges = np.cumsum(f, axis=1)
        slot_idx = (k[:, None] >= edges).sum(axis=1)
        slot = np.array([*SLOTS, None], dtype=object)[slot_idx]
        cands.loc[rest.index, "slot"] = slot
    return cands[cands["slot"].notna()]


def _json(detail: dict) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=float)


def _plan(
    wh: Database,
    scope: Scope,
    rm_id: str | None,
    days: list[date],
    contacts: pd.DataFrame | None,
    planned: pd.DataFrame | None,
    settings: dict | None,
) -> pd.DataFrame:
    settings = settings or load_settings()
    rule = settings["contact_rule"]
    days = sorted(set(days))
    empty = pd.DataFrame(columns=list(PLAN_COLUMNS))
    month, as_of = month_and_anchor(wh)
    if not days or month is None:
        return empty
    bad = [d for d in days if not is_working_day(d, settings)]
    if bad:
        raise ValueError(f"not a working day: {', '.join(map(str, bad))}")
    interval = timedelta(days=int(rule["min_interval_days"]))
    facts = _object_ids(_client_facts(wh, scope, rm_id, month))
    if facts.empty:
        return empty
    facts = facts.set_index("client_id", drop=False)
    handling = _handling_days(days[0], days[-1], settings)
    handling = {d: h for d, h in handling.items() if h in set(days)}
    horizon = max(int(t.get("days_before", 0)) for t in rule["triggers"].values())
    mat = _maturities(wh, scope, rm_id, month, days[0], max(handling) + timedelta(days=horizon))
    policies = _object_ids(_policies(wh, scope, rm_id))
    dated = _dated_triggers(facts, _object_ids(mat), policies, handling, rule)
    losses = _fund_losses(
        wh, scope, rm_id, month, float(settings["client_view"]["fund_loss_alert"])
    )
    losses = _object_ids(losses)
    near = _object_ids(_threshold(wh, scope, rm_id, as_of))

    # last contact per client: CRM history, then contacts logged in BranchLens
    last = facts["last_contact"].copy()
    if contacts is not None and not contacts.empty:
        logged = _object_ids(contacts.copy())
        logged["contact_date"] = pd.to_datetime(logged["contact_date"]).dt.date
        logged = logged.groupby("client_id")["contact_date"].max()
        logged = logged[logged.index.isin(last.index)]
        last.loc[logged.index] = [
            max(a, b) if pd.notna(a) else b
            for a, b in zip(last.loc[logged.index], logged, strict=True)
        ]
    # planned contacts already accepted: a client planned on p is paused on (p - interval, p + interval)
    held: dict[str, list[date]] = {}
    if planned is not None and not planned.empty:
        for cid, p in zip(
            planned["client_id"], pd.to_datetime(planned["plan_day"]).dt.date, strict=True
        ):
            held.setdefault(str(cid), []).append(p)  # fmt: skip

    weights = {r: float(v["weight"]) for r, v in rule["triggers"].items()}
    prefs = {r: str(v["slot"]) for r, v in rule["triggers"].items()}
    tier_w = np.array([float(rule["tier_weight"].get(n, 0)) for n in tier_names(settings)])
    quotas = _quotas(settings)
    order = {r: i for i, r in enumerate(TRIGGERS)}
    out = []
    for day in days:
        standing = _standing_triggers(day, facts, last, losses, near, settings)
        today = dated[dated["day"] == day].drop(columns="day").assign(bonus=0.0)
        cands = pd.concat([today, standing], ignore_index=True)
        cands = cands[cands["client_id"].isin(facts.index)]  # clients with an RM only
        if cands.empty:
            continue
        # paused: contacted within the interval, or planned within it on another day
        recent = pd.to_datetime(last.reindex(cands["client_id"]).to_numpy())
        paused = np.asarray(recent.notna() & ((pd.Timestamp(day) - recent) < interval))
        if held:
            near_plan = {c for c, ps in held.items() if any(abs(day - p) < interval for p in ps)}
            paused |= cands["client_id"].isin(near_plan).to_numpy()
        cands = cands[~paused]
        if cands.empty:
            continue
        f = facts.loc[cands["client_id"]]
        cands = cands.assign(
            rm_id=f["rm_id"].to_numpy(),
            tier=f["tier"].to_numpy(),
            aum=f["aum"].to_numpy(),
            mobile=f["mobile_banking"].to_numpy(),
            priority=cands["reason"].map(weights).to_numpy() + tier_w[f["tier"].to_numpy()]
            + cands["bonus"].to_numpy(),
            rank=cands["reason"].map(order),
        )  # fmt: skip
        cands = cands.sort_values(
            ["client_id", "priority", "rank"], ascending=[True, False, True], kind="stable"
        )
        first = ~cands["client_id"].duplicated()
        best = cands[first].copy()
        best["pref"] = best["reason"].map(prefs)
        best = best.sort_values(
            ["rm_id", "priority", "aum", "client_id"],
            ascending=[True, False, False, True],
            kind="stable",
        )
        chosen = _allocate(best, quotas)
        others = cands[~first & cands["client_id"].isin(chosen["client_id"])]
        also = others.groupby("client_id", sort=False)["reason"].agg(",".join)
        chosen = chosen.assign(
            day=day, also=also.reindex(chosen["client_id"]).fillna("").to_numpy()
        )
        out.append(chosen)
        for cid in chosen["client_id"]:
            held.setdefault(cid, []).append(day)
    if not out:
        return empty
    plan = pd.concat(out, ignore_index=True)
    plan["channel"] = np.where(
        plan["slot"] == "deep",
        "visit",
        np.where(plan["slot"] == "call", "call", np.where(_known(plan["mobile"]), "wechat", "sms")),
    )
    plan["topic"] = plan["reason"].map(TOPIC_OF)
    plan["tier"] = np.array(tier_names(settings), dtype=object)[plan["tier"].astype(int)]
    plan["detail"] = [_json(d) for d in plan["detail"]]
    plan["slot_rank"] = plan["slot"].map({s: i for i, s in enumerate(SLOTS)})
    plan = plan.sort_values(
        ["day", "rm_id", "slot_rank", "priority", "aum", "client_id"],
        ascending=[True, True, True, False, False, True],
        kind="stable",
    )
    return plan[list(PLAN_COLUMNS)].reset_index(drop=True)


def contact_plan(
    wh: Database,
    scope: Scope,
    rm_id: str,
    days: list[date],
    contacts: pd.DataFrame | None = None,
    planned: pd.DataFrame | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """One RM's plan for the working ``days``: one row per planned contact (``PLAN_COLUMNS``).

    ``contacts`` (client_id, contact_date) are contacts logged in BranchLens, added to the CRM
    history; ``planned`` (client_id, plan_day) are contacts already accepted into a plan. ``detail``
    is JSON with the trigger's facts (product, date, amount, ...). Raises ``AccessDenied`` when the
    RM is outside the viewer's scope and ``ValueError`` for a day that is not a working day.
    """
    if scope.role == "rm" and scope.rm_id != rm_id:
        raise AccessDenied("another RM's plan")
    if scope.role == "manager":
        branch = wh.scalar("SELECT branch_id FROM rms WHERE rm_id = ?", [rm_id])
        if branch not in scope.branch_ids:
            raise AccessDenied("an RM of another branch")
    return _plan(wh, scope, rm_id, days, contacts, planned, settings)


def contact_plans(
    wh: Database,
    scope: Scope,
    days: list[date],
    contacts: pd.DataFrame | None = None,
    planned: pd.DataFrame | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """``contact_plan`` for every RM in the viewer's scope at once (one pass over the data)."""
    return _plan(wh, scope, None, days, contacts, planned, settings)


# ---------------------------------------------------------------------------- accepted plans

ACCEPTED_COLUMNS = (
    "plan_id", "plan_day", "rm_id", "client_id", "slot", "channel", "reason", "priority", "detail",
    "accepted_by", "log_id", "outcome", "note", "done",
)  # fmt: skip


def _rm_filter(wh: Database, scope: Scope, rm_id: str | None) -> tuple[str, list]:
    """SQL on the workspace's ``rm_id`` for the RMs the viewer may see (the warehouse ``rms``
    table says which branch an RM belongs to)."""
    if scope.role == "rm":
        if rm_id is not None and rm_id != scope.rm_id:
            raise AccessDenied("another RM's plan")
        return "p.rm_id = ?", [scope.rm_id]
    if rm_id is not None:
        branch = wh.scalar("SELECT branch_id FROM rms WHERE rm_id = ?", [rm_id])
        if scope.role == "manager" and branch not in scope.branch_ids:
            raise AccessDenied("an RM of another branch")
        return "p.rm_id = ?", [rm_id]
    if scope.role == "manager":
        marks = ", ".join("?" for _ in scope.branch_ids)
        rms = wh.query(
            f"SELECT rm_id FROM rms WHERE branch_id IN ({marks})", list(scope.branch_ids)
        )
        return "p.rm_id IN (SELECT UNNEST(?::VARCHAR[]))", [rms["rm_id"].tolist()]
    return "TRUE", []


def accept_plan(ws: Database, scope: Scope, plan: pd.DataFrame, accepted_by: str) -> int:
    """Store an RM's plan (rows of ``contact_plan``) in the workspace; returns the rows stored.

    Only the RM may accept their own plan. For each day in ``plan`` the RM's open rows (not yet
    done) are replaced; rows already done stay, and a client already done that day is not added
    again."""
    if scope.role != "rm" or plan.empty:
        if scope.role != "rm":
            raise AccessDenied("only the RM accepts their plan")
        return 0
    if set(plan["rm_id"]) != {scope.rm_id}:
        raise AccessDenied("another RM's plan")
    rows = plan.assign(plan_day=pd.to_datetime(plan["day"]).dt.date, accepted_by=accepted_by)
    days = sorted(set(rows["plan_day"]))
    with ws.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            cur.execute(
                """
                DELETE FROM planned_contacts p
                WHERE p.rm_id = ? AND p.plan_day IN (SELECT UNNEST(?::DATE[]))
                  AND NOT EXISTS (SELECT 1 FROM contact_logs l WHERE l.plan_id = p.plan_id)
                """,
                [scope.rm_id, days],
            )
            kept = cur.execute(
                "SELECT client_id, plan_day FROM planned_contacts WHERE rm_id = ? "
                "AND plan_day IN (SELECT UNNEST(?::DATE[]))",
                [scope.rm_id, days],
            ).df()
            if not kept.empty:
                kept["plan_day"] = pd.to_datetime(kept["plan_day"]).dt.date
                done = set(zip(kept["client_id"], kept["plan_day"], strict=True))
                keys = zip(rows["client_id"], rows["plan_day"], strict=True)
                rows = rows[[k not in done for k in keys]]
            new = rows[["plan_day", "rm_id", "client_id", "slot", "channel", "reason", "priority",
                        "detail", "accepted_by"]]  # fmt: skip
            cur.register("new_plan", new)
            cur.execute(
                """
                INSERT INTO planned_contacts (plan_day, rm_id, client_id, slot, channel, reason,
                                              priority, detail, accepted_by)
                SELECT plan_day, rm_id, client_id, slot, channel, reason, priority, detail,
                       accepted_by
                FROM new_plan ORDER BY plan_day, rm_id, priority DESC, client_id
                """
            )
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
    return len(new)


def accepted_plan(
    ws: Database,
    wh: Database,
    scope: Scope,
    first: date,
    last: date,
    rm_id: str | None = None,
) -> pd.DataFrame:
    """The accepted plan rows from ``first`` to ``last`` for the RMs in scope (``ACCEPTED_COLUMNS``),
    each with its log if done (the first log recorded against it); a note by anyone but the
    viewer has its mobile, ID and card numbers masked."""
    where, params = _rm_filter(wh, scope, rm_id)
    df = ws.query(
        f"""
        WITH logs AS (
            SELECT plan_id, MIN(log_id) AS log_id FROM contact_logs
            WHERE plan_id IS NOT NULL GROUP BY plan_id
        )
        SELECT p.plan_id, p.plan_day, p.rm_id, p.client_id, p.slot, p.channel, p.reason,
               p.priority, p.detail, p.accepted_by, l.log_id, c.outcome, c.note, c.logged_by,
               l.log_id IS NOT NULL AS done
        FROM planned_contacts p LEFT JOIN logs l USING (plan_id)
        LEFT JOIN contact_logs c ON c.log_id = l.log_id
        WHERE p.plan_day BETWEEN ? AND ? AND {where}
        ORDER BY p.plan_day, p.rm_id, p.priority DESC, p.client_id
        """,
        [first, last, *params],
    )
    df["plan_day"] = pd.to_datetime(df["plan_day"]).dt.date
    from analytics.contact_log import author_id  # here: contact_log is the lower layer

    df["note"] = mask_notes(df["note"], df["logged_by"], author_id(scope))  # see contact_log
    return df[list(ACCEPTED_COLUMNS)]


def mark_done(
    ws: Database,
    wh: Database,
    scope: Scope,
    plan_id: int,
    outcome: str,
    note: str | None = None,
    today: date | None = None,
) -> int:
    """Record a planned contact as done: a contact log with the plan's channel and reason, dated
    the plan day (or ``today`` when the plan day is still ahead). Returns the ``log_id``.

    The RM must own the plan row and the client (``contact_log.log_contact`` checks the client)."""
    from analytics.contact_log import log_contact  # here: contact_log is the lower layer

    row = ws.query(
        "SELECT plan_day, rm_id, client_id, channel, reason FROM planned_contacts "
        "WHERE plan_id = ?",
        [plan_id],
    )
    if row.empty or scope.role != "rm" or row["rm_id"].iloc[0] != scope.rm_id:
        raise AccessDenied("not a contact in your plan")
    today = today or date.today()
    day = min(pd.Timestamp(row["plan_day"].iloc[0]).date(), today)
    return log_contact(
        ws, wh, scope, str(row["client_id"].iloc[0]), day, str(row["channel"].iloc[0]), outcome,
        note=note, reason=str(row["reason"].iloc[0]), plan_id=int(plan_id), today=today,
    )  # fmt: skip


def plan_completion(
    ws: Database, wh: Database, scope: Scope, first: date, last: date
) -> pd.DataFrame:
    """Per RM in scope with an accepted plan from ``first`` to ``last``: rm_id, planned, done,
    done_share (0..1), and planned/done per slot (deep_planned, deep_done, ...)."""
    plan = accepted_plan(ws, wh, scope, first, last)
    cols = ["rm_id", "planned", "done", "done_share"] + [
        f"{s}_{k}" for s in SLOTS for k in ("planned", "done")
    ]
    if plan.empty:
        return pd.DataFrame(columns=cols)
    g = plan.groupby("rm_id")
    out = pd.DataFrame({"planned": g.size(), "done": g["done"].sum().astype("int64")})
    for s in SLOTS:
        part = plan[plan["slot"] == s].groupby("rm_id")
        out[f"{s}_planned"] = part.size().reindex(out.index, fill_value=0)
        out[f"{s}_done"] = part["done"].sum().reindex(out.index, fill_value=0).astype("int64")
    out["done_share"] = out["done"] / out["planned"]
    return out.reset_index()[cols]


# ---------------------------------------------------------------------------- coverage


def coverage(
    wh: Database,
    scope: Scope,
    day: date,
    contacts: pd.DataFrame | None = None,
    by_rm: bool = False,
) -> pd.DataFrame:
    """The share of each tier's clients contacted within its cadence as of ``day``.

    A client is covered when their last contact (CRM history or logged in BranchLens, on or
    before ``day``) is less than ``[contact_rule.cadence_days]`` of their held tier ago. Tiers
    without a cadence are left out. Columns: [rm_id,] tier, cadence_days, clients, covered, share.
    """
    settings = load_settings()
    cadence = settings["contact_rule"]["cadence_days"]
    month, _ = month_and_anchor(wh)
    cols = (["rm_id"] if by_rm else []) + ["tier", "cadence_days", "clients", "covered", "share"]
    if month is None:
        return pd.DataFrame(columns=cols)
    names = tier_names(settings)
    tracked = [i for i, n in enumerate(names) if n in cadence]
    held, held_params = held_tiers_sql(scope, first=tier_window_start(month), last=month)
    ids, dates = [], []
    if contacts is not None and not contacts.empty:
        ids = contacts["client_id"].astype(str).tolist()
        dates = [pd.Timestamp(d).date() for d in contacts["contact_date"]]
    cad_rows = ", ".join("(?::INTEGER, ?::INTEGER)" for _ in tracked)
    cad_params = [v for i in tracked for v in (i, int(cadence[names[i]]))]
    df = wh.query(
        f"""
        WITH latest AS (
            SELECT client_id, rm_id, tier FROM ({held}) WHERE month_end = ? AND rm_id IS NOT NULL
        ),
        cad(tier, days) AS (VALUES {cad_rows}),
        extra AS (SELECT UNNEST(?::VARCHAR[]) AS client_id, UNNEST(?::DATE[]) AS contact_date),
        contacts AS (
            SELECT client_id, contact_date FROM contact_history
            UNION ALL SELECT client_id, contact_date FROM extra
        ),
        last AS (SELECT client_id, MAX(contact_date) AS last_contact FROM contacts
                 WHERE contact_date <= ? GROUP BY client_id)
        SELECT {"l.rm_id," if by_rm else ""} l.tier, cad.days AS cadence_days,
               COUNT(*) AS clients,
               COUNT(*) FILTER (WHERE date_diff('day', x.last_contact, ?::DATE) < cad.days)
                 AS covered
        FROM latest l JOIN cad USING (tier) LEFT JOIN last x USING (client_id)
        GROUP BY ALL ORDER BY ALL
        """,
        [*held_params, month, *cad_params, ids, dates, day, day],
    )
    df["tier"] = np.array(names, dtype=object)[df["tier"].astype(int)]
    df["share"] = df["covered"] / df["clients"]
    return df[cols]


# ---------------------------------------------------------------------------- calendar file


def deep_contacts_ics(
    events: pd.DataFrame, calendar_name: str, settings: dict | None = None
) -> bytes:
    """An iCalendar (RFC 5545) file of deep contacts that a phone calendar can import.

    ``events`` has plan_day, rm_id, client_id, summary and description (already in the viewer's
    language and masked). Each day's contacts get the ``[contact_rule] deep_contact_times`` in
    order (later ones follow the last time, one length apart), ``deep_contact_minutes`` long, in
    ``timezone``. The UID is stable (day, RM, client), so importing the file again updates the
    events instead of duplicating them.
    """
    from zoneinfo import ZoneInfo

    from icalendar import Calendar, Event

    rule = (settings or load_settings())["contact_rule"]
    tz = ZoneInfo(str(rule["timezone"]))
    length = timedelta(minutes=int(rule["deep_contact_minutes"]))
    times = [tuple(int(x) for x in str(t).split(":")) for t in rule["deep_contact_times"]]
    cal = Calendar()
    cal.add("prodid", "-//BranchLens//5-20-30 contact plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", calendar_name)
    ordered = events.sort_values(["plan_day", "rm_id"], kind="stable")
    for day, group in ordered.groupby("plan_day", sort=True):
        day = pd.Timestamp(day).date()
        for k, r in enumerate(group.itertuples(index=False)):
            h, m = times[min(k, len(times) - 1)]
            start = pd.Timestamp(day.year, day.month, day.day, h, m, tz=tz).to_pydatetime()
            start += length * max(0, k - len(times) + 1)
            ev = Event()
            ev.add("uid", f"{day.isoformat()}-{r.rm_id}-{r.client_id}@branchlens")
            ev.add("dtstamp", pd.Timestamp(day, tz=tz).to_pydatetime())
            ev.add("dtstart", start)
            ev.add("dtend", start + length)
            ev.add("summary", r.summary)
            ev.add("description", r.description)
            cal.add_component(ev)
    return cal.to_ical()
