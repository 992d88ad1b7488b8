"""The 5-20-30 contact planner (5-20-30客户联络法则, DESIGN.md §3, issue 6).

Each RM, each working day, makes ``[contact_rule] deep`` (5) deep contacts (a meeting or a branch
invitation), ``calls`` (20) effective calls and ``light`` (30) light touches (WeChat or SMS). The
planner fills those slots from a priority queue of triggers (``TRIGGERS``; weights and preferred
slots in ``[contact_rule.triggers]``):

- dated triggers, raised on the last working day on or before their date: a position maturing in
  ``days_before`` days (``maturity_t7``, ``maturity_t3``), a birthday, a payroll or pension day
  (``pay_day``), an insurance call-back (``insurance_callback``: the day after a new policy, during
  its cooling-off period, and each policy anniversary). One not planned on that day (no room, or
  the client is within the interval) is carried to the next working days, with its priority,
  until its deadline (``deadline_days`` after its date; the call-back after a sale: the end of
  the cooling-off period). It is done once the client is contacted for that reason on or after
  the day it was raised, in this plan or before it (issue 13);
- standing triggers: a fund position at or below ``[funds] loss_line`` (``fund_drawdown``), an
  upgrade near-miss or downgrade risk (``threshold``, analytics/threshold.py), a risk assessment
  expiring within ``stale_risk_warn_days`` (``stale_risk``), each raised until the client is
  contacted for it and then again ``cooldown_days`` after that contact (a fund loss sooner, once
  it is ``further_drop`` deeper than at the month-end on or before that contact); and a client
  overdue for their tier's cadence (``cadence_overdue``, ``[contact_rule.cadence_days]``, counted
  from the last contact of any kind, planned ones included; a tier without a cadence is never
  overdue).

A contact "for a reason" is one logged in BranchLens with it, an accepted plan row or a row planned
earlier in the same run; the CRM history has topics, not reasons, so a CRM contact counts for every
reason of its topic (``TOPIC_OF``). A client's other triggers (``also``) stay open.

Priority = trigger weight + ``[contact_rule.tier_weight]`` of the held tier (+ up to ``overdue_bonus`` for
how far past their cadence an overdue client is); ties go to the larger AUM, then the client id, so the
plan is deterministic. A client with several triggers is planned once, for the strongest, and the
others are listed in ``also``.

Slots (``_allocate``): each RM-day takes its best ``deep + calls + light`` candidates, and they
take the slots in priority order: the best the deep slots, then the calls, then the light touches,
so a client never gets a lighter channel than one ranked below them (issue 13). The triggers'
preferred slots only decide how many deep and call slots the day uses (as many as its clients ask
for, a deep one without a deep slot asking for a call; more when the light touches cannot hold the
rest), so no quota is ever exceeded and every quota is met when enough clients qualify. A trigger
with ``keep_slot`` gets its own slot while it has room, whatever its rank, and its row says so
(``forced`` = ``keep_slot``). Deep contacts are visits, calls are calls, light touches go by
WeChat to clients with mobile banking and by SMS to the others (``forced`` = ``no_mobile``).

Cadence queue: slots the triggers leave free are filled with the RM's clients of a tier with a
cadence, the largest share of their cadence elapsed first (reason ``cadence_due``, priority that
share, 0-1, so below every trigger), leaving out a client with a dated trigger coming up within
the interval. ``plan_with_summary`` also gives, per RM and day, how many slots the triggers and
the queue filled and why the others stayed empty (``PlanResult``).

Interval: no client is planned twice within ``min_interval_days``, and a client contacted (CRM
history or a contact logged in BranchLens) within it is pushed back until it has passed. A dated
trigger that falls inside the pause waits (see above).

Days: plan days must be working days (``analytics/workdays.py``: chinesecalendar, with the settings
lists as override); the view plans from the viewer's business day (``analytics/business_day.py``)
and shows ``workdays.calendar_warning`` for days past the published calendar.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from analytics import threshold
from analytics.access import AccessDenied, Scope, may
from analytics.audit import AuditEvent, AuditLog, AuditUnavailable, branches_for
from analytics.contact_log import ContactLogError
from analytics.privacy import mask_notes
from analytics.settings import fund_loss_line, load_settings
from analytics.snapshot import month_and_anchor
from analytics.store import Database
from analytics.tiers import held_tiers_sql, tier_names, tier_window_start
from analytics.value import FUND_CATEGORIES
from analytics.workdays import is_working_day

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
    "cadence_due": "service",
}
# A client from the cadence queue, planned where the triggers left room (not a trigger).
FILL = "cadence_due"
PLAN_COLUMNS = (
    "day", "rm_id", "client_id", "slot", "channel", "reason", "topic", "priority", "tier", "aum",
    "detail", "also", "forced",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "day", "rm_id", "slots", "by_trigger", "by_cadence", "empty", "empty_interval",
    "empty_no_client",
)  # fmt: skip


# ---------------------------------------------------------------------------- calendar


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


def _raise(
    rows: list, due, deadline, handling: dict[date, date], client_ids, reason: str, details
) -> None:
    """Append (day, deadline, client_id, reason, detail) for the triggers whose due date has a
    handling day in ``handling``; ``deadline`` gives each row's last calendar day and
    ``details`` is a callable giving the detail dict of one row position."""
    day = pd.Series(np.asarray(due, dtype=object)).map(handling).to_numpy(object)
    for i in np.flatnonzero(pd.notna(day)):
        rows.append((day[i], deadline[i], client_ids[i], reason, details(i)))


def _arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The frame's columns as plain object arrays: element access in the loops below is then a
    cheap array index, not a pandas lookup."""
    return {c: df[c].to_numpy(object) for c in df.columns}


def _after(dates, days: int) -> list:
    return [d + timedelta(days=days) if d is not None and pd.notna(d) else None for d in dates]


def _dated_triggers(
    facts: pd.DataFrame,
    maturities: pd.DataFrame,
    policies: pd.DataFrame,
    handling: dict[date, date],
    rule: dict,
) -> pd.DataFrame:
    """(day, deadline, client_id, reason, detail) for every dated trigger whose handling day is in
    ``handling``: ``day`` is the working day it is raised on, ``deadline`` the last calendar day
    it may still be planned on (``deadline_days`` after its date; the call-back after a sale:
    the end of the cooling-off period)."""
    rows: list[tuple] = []
    years = sorted({d.year for d in handling})
    months = sorted({(d.year, d.month) for d in handling})
    trig = rule["triggers"]

    def late(reason: str) -> int:
        return int(trig[reason].get("deadline_days", 0))

    m = _arrays(maturities)
    for reason in ("maturity_t7", "maturity_t3"):
        before = int(trig[reason]["days_before"])
        due = [d - timedelta(days=before) for d in m["maturity_date"]]
        until = _after(m["maturity_date"], late(reason))
        _raise(rows, due, until, handling, m["client_id"], reason, lambda i, b=before: {
            "product_zh": m["product_zh"][i], "product_en": m["product_en"][i],
            "date": m["maturity_date"][i].isoformat(), "amount": float(m["amount"][i]), "days": b,
        })  # fmt: skip
    dated = facts[facts["birth_date"].notna()]  # no birth date in the roster: no birthday
    ids = dated["client_id"].to_numpy(object)
    born = pd.to_datetime(dated["birth_date"])
    born_year = born.dt.year.to_numpy()
    for year in years:
        due = _dates_in(year, born.dt.month.to_numpy(), born.dt.day.to_numpy()).to_numpy(object)
        _raise(rows, due, _after(due, late("birthday")), handling, ids, "birthday",
               lambda i, y=year, d=due: {"date": d[i].isoformat(), "age": int(y - born_year[i])})  # fmt: skip
    flagged = _known(facts["payroll_flag"]) | _known(facts["pension_flag"])
    paid = facts[flagged & facts["pay_day"].notna()]
    pa = _arrays(paid)
    for y, mo in months:
        due = _dates_in(y, mo, paid["pay_day"].to_numpy()).to_numpy(object)
        _raise(rows, due, _after(due, late("pay_day")), handling, pa["client_id"], "pay_day",
               lambda i, d=due: {
                   "date": d[i].isoformat(),
                   "kind": "pension" if pa["pension_flag"][i] else "payroll",
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
            until = _after(due, late("insurance_callback"))
        else:  # the call-back after a sale must fall inside the cooling-off period
            keep = np.array(
                [d <= e for d, e in zip(due, pol["cooling_off_end"], strict=True)], bool
            )
            until = pol["cooling_off_end"]
        due = np.where(keep, due, None)
        _raise(rows, due, until, handling, pol["client_id"], "insurance_callback",
               lambda i, y=year, d=due: {
                   "product_zh": pol["product_zh"][i], "product_en": pol["product_en"][i],
                   "date": d[i].isoformat(), "kind": "anniversary" if y else "new",
                   "years": int(y - start_year[i]) if y else 0,
               })  # fmt: skip
    return pd.DataFrame(rows, columns=["day", "deadline", "client_id", "reason", "detail"])


def _cooled(
    day: float, reason: str, pos: np.ndarray, last_for: np.ndarray, rule: dict
) -> np.ndarray:
    """Whether each client (facts positions ``pos``) is past ``reason``'s cool-down on ``day``
    (a day number): never contacted for it, or ``cooldown_days`` or more since that contact
    (a contact planned ahead counts as not past)."""
    days = rule["triggers"][reason].get("cooldown_days")
    if days is None:
        return np.ones(len(pos), bool)
    last = last_for[pos, TRIGGERS.index(reason)]
    return np.isnan(last) | (day - last >= float(days))


def _deeper(
    pos: np.ndarray, pct: np.ndarray, last_for: np.ndarray, history: pd.DataFrame, rule: dict
) -> np.ndarray:
    """Whether each fund loss (facts positions ``pos``, loss ``pct`` now) has deepened by
    ``[contact_rule.triggers] fund_drawdown.further_drop`` since the client's last contact for
    it: the loss then is the one at the month-end on or before that contact (no fund position
    at that month-end: no loss then)."""
    drop = rule["triggers"]["fund_drawdown"].get("further_drop")
    last = last_for[pos, TRIGGERS.index("fund_drawdown")]
    seen = ~np.isnan(last)
    out = np.zeros(len(pos), bool)
    if drop is None or not seen.any():
        return out
    asked = pd.DataFrame({"pos": pos[seen], "at": last[seen]}).sort_values("at")
    hist = history.sort_values("at")
    then = pd.merge_asof(asked, hist, on="at", by="pos", direction="backward")
    ref = then.set_index(asked.index)["pct"].reindex(np.arange(seen.sum())).fillna(0.0)
    out[seen] = pct[seen] <= ref.to_numpy() - float(drop) + 1e-12
    return out


def _standing_triggers(
    day: date,
    facts: pd.DataFrame,
    since: np.ndarray,
    losses: pd.DataFrame,
    near: pd.DataFrame,
    settings: dict,
    last_for: np.ndarray,
    loss_history: pd.DataFrame,
) -> pd.DataFrame:
    """(client_id, reason, detail, bonus) for the standing triggers on ``day``.

    ``since`` is each client's days since their last contact of any kind (inf: none), for the
    cadence; ``last_for`` each client's last contact per reason (day numbers, ``TRIGGERS``
    columns), for the cool-downs in ``[contact_rule.triggers]``; ``loss_history`` (pos, at,
    pct) the clients' fund losses by month-end, for the fund loss's further drop."""
    rule = settings["contact_rule"]
    dn = _day_number(day)
    index = facts.index
    parts = []
    if not losses.empty:
        pos = index.get_indexer(losses["client_id"])
        pct = losses["pct"].to_numpy(dtype="float64")
        fire = _cooled(dn, "fund_drawdown", pos, last_for, rule)
        fire |= _deeper(pos, pct, last_for, loss_history, rule)
        parts.append(pd.DataFrame({
            "client_id": losses["client_id"].to_numpy(object)[fire], "reason": "fund_drawdown",
            "detail": [{"pct": float(p)} for p in pct[fire]], "bonus": 0.0,
        }))  # fmt: skip
    if not near.empty:
        fire = _cooled(dn, "threshold", index.get_indexer(near["client_id"]), last_for, rule)
        near = near[fire]
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
    stale = stale[_cooled(dn, "stale_risk", index.get_indexer(stale.index), last_for, rule)]
    if not stale.empty:
        parts.append(pd.DataFrame({
            "client_id": stale["client_id"], "reason": "stale_risk",
            "detail": [{"date": (d + timedelta(days=valid)).isoformat()}
                       for d in stale["risk_assessed_on"]],
            "bonus": 0.0,
        }))  # fmt: skip
    cadence = _cadence(facts, settings)
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
    """The planned candidates with their slot. ``cands`` is one row per client (rm_id, pref,
    keep), sorted rm_id then best first.

    Each RM takes their best ``sum(quotas)`` candidates. A candidate whose trigger keeps its
    slot (``keep``) gets it while it has room; the others, best first, take the deep slots, then
    the calls, then the light touches (a better-ranked client never gets a lighter slot). How many
    deep and call slots they take is what they prefer (``pref``; a deep one that finds no deep
    slot asks for a call), or more when the light touches cannot hold the rest."""
    total = sum(quotas.values())
    cands = cands[cands.groupby("rm_id", sort=False).cumcount().to_numpy() < total]
    cands = cands.reset_index(drop=True)
    keep = cands["keep"].to_numpy(bool)
    kept = np.zeros(len(cands), bool)
    if keep.any():
        room = cands.loc[keep, "pref"].map(quotas).to_numpy()
        kept[keep] = cands[keep].groupby(["rm_id", "pref"], sort=False).cumcount() < room
    cands["slot"] = np.where(kept, cands["pref"], None)
    rest = cands[~kept]
    if rest.empty:
        return cands
    rms = pd.Index(rest["rm_id"].unique())

    def per_rm(frame: pd.DataFrame, col: str) -> pd.DataFrame:
        if frame.empty:
            return pd.DataFrame(0, index=rms, columns=list(SLOTS))
        counts = frame.groupby(["rm_id", col]).size().unstack(fill_value=0)
        return counts.reindex(index=rms, columns=list(SLOTS), fill_value=0)

    free = pd.DataFrame({s: quotas[s] for s in SLOTS}, index=rms) - per_rm(cands[kept], "slot")
    want = per_rm(rest, "pref")
    n = rest.groupby("rm_id").size().reindex(rms)
    heavy = np.minimum(free["deep"] + free["call"], want["deep"] + want["call"])
    heavy = np.maximum(heavy, n - free["light"])
    deep = np.minimum(free["deep"], np.maximum(want["deep"], heavy - free["call"]))
    k = rest.groupby("rm_id", sort=False).cumcount().to_numpy()
    to_deep = deep.reindex(rest["rm_id"]).to_numpy()
    to_call = heavy.reindex(rest["rm_id"]).to_numpy()
    cands.loc[rest.index, "slot"] = np.where(
        k < to_deep, "deep", np.where(k < to_call, "call", "light")
    )
    return cands


def forced_flags(reasons, slots, channels, settings: dict | None = None) -> list[str]:
    """Why a plan row's channel does not follow the priority order, as codes joined by commas
    ('' for none): ``keep_slot`` when its trigger keeps its slot
    (``[contact_rule.triggers] <reason>.keep_slot``) and it is in that slot, ``no_mobile`` for
    a light touch by SMS (no mobile banking, so no WeChat)."""
    triggers = (settings or load_settings())["contact_rule"]["triggers"]
    kept = {r: str(v["slot"]) for r, v in triggers.items() if v.get("keep_slot")}
    return [
        ",".join(
            code for code, on in (("keep_slot", kept.get(r) == s), ("no_mobile", c == "sms")) if on
        )
        for r, s, c in zip(reasons, slots, channels, strict=True)
    ]


def _json(detail: dict) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=float)


_EPOCH = date(1970, 1, 1)


def _day_number(day: date) -> float:
    return float((day - _EPOCH).days)


def _day_numbers(values) -> np.ndarray:
    """Dates as float day numbers (days since 1970-01-01), a missing one as NaN, so that the
    latest of several sources is ``np.fmax`` and a comparison with a missing date is False."""
    if isinstance(values, pd.Series) and pd.api.types.is_datetime64_any_dtype(values):
        t = values  # as DuckDB gives a DATE column: no parsing
    else:
        t = pd.to_datetime(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
    return ((t - pd.Timestamp(_EPOCH)).dt.days).to_numpy(dtype="float64", na_value=np.nan)


def _cadence(facts: pd.DataFrame, settings: dict) -> np.ndarray:
    """Each client's cadence in days (``[contact_rule.cadence_days]`` of the held tier; NaN for
    a tier without one)."""
    cadence = settings["contact_rule"]["cadence_days"]
    per_tier = [float(cadence.get(n, np.nan)) for n in tier_names(settings)]
    return np.array(per_tier, dtype="float64")[facts["tier"].to_numpy()]


def history_days(settings: dict | None = None) -> int:
    """How far back (calendar days before the first plan day) the planner reads contacts and
    accepted plans: the longest of the minimum interval, the cool-downs and the time a dated
    trigger can be carried (``deadline_days`` + ``days_before``), plus a fortnight for the
    handling days and a call-back's cooling-off period."""
    rule = (settings or load_settings())["contact_rule"]
    spans = [int(rule["min_interval_days"])]
    for t in rule["triggers"].values():
        spans.append(int(t.get("cooldown_days", 0)))
        spans.append(int(t.get("deadline_days", 0)) + int(t.get("days_before", 0)))
    return max(spans) + 14


def _crm_topics(wh: Database, scope: Scope, rm_id: str | None) -> pd.DataFrame:
    """client_id, topic, last: each client's last CRM contact per topic."""
    where, params = _in_scope_rm(scope, rm_id)
    return wh.query(
        f"""
        SELECT h.client_id, h.topic, MAX(h.contact_date) AS last
        FROM contact_history h JOIN clients c USING (client_id)
        WHERE {where} GROUP BY ALL
        """,
        params,
    )


def _fund_loss_history(
    wh: Database, scope: Scope, rm_id: str | None, first: date, last: date, ids: list
) -> pd.DataFrame:
    """client_id, month_end, pct: the worst fund P&L share of each of ``ids`` at each month-end
    from ``first`` to ``last``."""
    where, params = _in_scope_rm(scope, rm_id)
    marks = ", ".join("?" for _ in FUND_CATEGORIES)
    return wh.query(
        f"""
        SELECT h.client_id, h.month_end,
               MIN((h.balance - h.cost)::DOUBLE / h.cost::DOUBLE) AS pct
        FROM holdings_monthly h JOIN clients c USING (client_id)
        JOIN products p USING (product_id)
        WHERE h.month_end BETWEEN ? AND ? AND p.category IN ({marks}) AND h.cost > 0
          AND h.client_id IN (SELECT UNNEST(?::VARCHAR[])) AND {where}
        GROUP BY ALL
        """,
        [first, last, *FUND_CATEGORIES, ids, *params],
    )


def _bump(target: np.ndarray, index: pd.Index, ids, dates, reasons=None) -> None:
    """Raise ``target`` (per client, or per client and reason when ``reasons`` is given: the
    ``TRIGGERS`` columns) to the latest of ``dates``; clients outside ``index`` and reasons
    outside ``TRIGGERS`` are skipped."""
    pos = index.get_indexer(pd.Index(np.asarray(ids, dtype=object)))
    dn = _day_numbers(dates)
    ok = (pos >= 0) & ~np.isnan(dn)
    if reasons is None:
        np.fmax.at(target, pos[ok], dn[ok])
        return
    col = (
        pd.Series(np.asarray(reasons, dtype=object))
        .map({r: i for i, r in enumerate(TRIGGERS)})
        .to_numpy(dtype="float64", na_value=np.nan)
    )
    ok &= ~np.isnan(col)
    np.fmax.at(target, (pos[ok], col[ok].astype(int)), dn[ok])


@dataclass(frozen=True)
class PlanResult:
    """A plan and how its slots were filled.

    ``rows``: one row per planned contact (``PLAN_COLUMNS``). ``summary``: one row per RM and
    plan day (``SUMMARY_COLUMNS``): the RM's slots, how many were filled by a trigger
    (``by_trigger``) and from the cadence queue (``by_cadence``), and the ``empty`` ones split by
    why: ``empty_interval`` (clients of the queue were left who are within the minimum interval
    of a contact, a planned contact or a dated trigger coming up) and ``empty_no_client`` (no
    client was left at all)."""

    rows: pd.DataFrame
    summary: pd.DataFrame


def _plan(
    wh: Database,
    scope: Scope,
    rm_id: str | None,
    days: list[date],
    contacts: pd.DataFrame | None,
    planned: pd.DataFrame | None,
    settings: dict | None,
) -> PlanResult:
    settings = settings or load_settings()
    rule = settings["contact_rule"]
    days = sorted(set(days))
    empty = PlanResult(
        pd.DataFrame(columns=list(PLAN_COLUMNS)), pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    )
    month, as_of = month_and_anchor(wh)
    if not days or month is None:
        return empty
    bad = [d for d in days if not is_working_day(d, settings)]
    if bad:
        raise ValueError(f"not a working day: {', '.join(map(str, bad))}")
    interval = float(rule["min_interval_days"])
    facts = _object_ids(_client_facts(wh, scope, rm_id, month))
    if facts.empty:
        return empty
    facts = facts.set_index("client_id", drop=False)
    index, n = facts.index, len(facts)
    triggers = rule["triggers"]

    # dated triggers raised from far enough back to be carried into the first plan day, up to
    # the minimum interval past the last one (a client with one coming up waits for it)
    policies = _object_ids(_policies(wh, scope, rm_id))
    cooling = pd.to_datetime(policies["cooling_off_end"]) - pd.to_datetime(policies["start_date"])
    back = max(history_days(settings), int(cooling.dt.days.max()) if len(policies) else 0)
    ahead = days[-1] + timedelta(days=int(interval))
    handling = _handling_days(days[0] - timedelta(days=back), ahead, settings)
    horizon = max(int(t.get("days_before", 0)) for t in triggers.values())
    late = max(int(triggers[r].get("deadline_days", 0)) for r in ("maturity_t7", "maturity_t3"))
    mat = _maturities(
        wh, scope, rm_id, month, days[0] - timedelta(days=late), ahead + timedelta(days=horizon)
    )
    dated = _dated_triggers(facts, _object_ids(mat), policies, handling, rule)
    dated = dated[[d >= days[0] for d in dated["deadline"]]] if len(dated) else dated
    dated = dated[dated["client_id"].isin(index)].reset_index(drop=True)
    d_pos = index.get_indexer(dated["client_id"])
    d_day = _day_numbers(dated["day"])
    d_until = _day_numbers(dated["deadline"])
    d_col = dated["reason"].map({r: i for i, r in enumerate(TRIGGERS)}).to_numpy(dtype="int64")

    losses = _object_ids(_fund_losses(wh, scope, rm_id, month, fund_loss_line(settings)))
    losses = losses[losses["client_id"].isin(index)]
    cool = max(int(triggers["fund_drawdown"].get("cooldown_days", 0)), int(interval))
    history = _fund_loss_history(
        wh, scope, rm_id, days[0] - timedelta(days=cool + 62), month,
        losses["client_id"].tolist(),
    )  # fmt: skip
    history = pd.DataFrame({
        "pos": index.get_indexer(history["client_id"].astype(object)),
        "at": _day_numbers(history["month_end"]), "pct": history["pct"].astype("float64"),
    })  # fmt: skip
    near = _object_ids(_threshold(wh, scope, rm_id, as_of))
    near = near[near["client_id"].isin(index)].reset_index(drop=True)

    # contacts: the last of any kind (CRM history, logged in BranchLens, accepted plans, planned
    # earlier in this run) for the cadence; the last per reason for the cool-downs and to know a
    # dated trigger done (the CRM history has topics, not reasons: a contact counts for every
    # reason of its topic); the CRM and logged ones alone, and every planned day, for the pause
    last_past = _day_numbers(facts["last_contact"])
    last_for = np.full((n, len(TRIGGERS)), np.nan)
    crm = _object_ids(_crm_topics(wh, scope, rm_id))
    for r in TRIGGERS:
        part = crm[crm["topic"] == TOPIC_OF[r]]
        _bump(last_for, index, part["client_id"], part["last"], [r] * len(part))
    if contacts is not None and not contacts.empty:
        _bump(last_past, index, contacts["client_id"], contacts["contact_date"])
        if "reason" in contacts.columns:
            _bump(last_for, index, contacts["client_id"], contacts["contact_date"],
                  contacts["reason"])  # fmt: skip
    last_any = last_past.copy()
    held_pos: list[np.ndarray] = []
    held_day: list[np.ndarray] = []
    if planned is not None and not planned.empty:
        _bump(last_any, index, planned["client_id"], planned["plan_day"])
        if "reason" in planned.columns:
            _bump(last_for, index, planned["client_id"], planned["plan_day"], planned["reason"])
        pos = index.get_indexer(pd.Index(planned["client_id"].astype(object)))
        held_pos.append(pos[pos >= 0])
        held_day.append(_day_numbers(planned["plan_day"])[pos >= 0])

    weights = {r: float(v["weight"]) for r, v in triggers.items()}
    prefs = {r: str(v["slot"]) for r, v in triggers.items()}
    keeps = {r: bool(v.get("keep_slot", False)) for r, v in triggers.items()}
    tier = facts["tier"].to_numpy()
    tier_w = np.array([float(rule["tier_weight"].get(t, 0)) for t in tier_names(settings)])[tier]
    aum = facts["aum"].to_numpy(dtype="float64")
    rm_code, rm_names = pd.factorize(facts["rm_id"])
    cadence = _cadence(facts, settings)
    has_cadence = ~np.isnan(cadence)
    fill_slot = str(rule.get("cadence_fill_slot", prefs.get("cadence_overdue", "call")))
    quotas = _quotas(settings)
    total = sum(quotas.values())
    order = {r: i for i, r in enumerate(TRIGGERS)}
    out, summaries = [], []
    for day in days:
        dn = _day_number(day)
        since = dn - last_any
        since = np.where(np.isnan(since), np.inf, since)
        paused = (dn - last_past) < interval  # contacted within the interval (NaN: never)
        if held_pos:
            hp, hd = np.concatenate(held_pos), np.concatenate(held_day)
            paused[hp[np.abs(hd - dn) < interval]] = True  # planned within it, either side
        # dated triggers open today: raised by today, deadline not passed, not done since raised
        done = last_for[d_pos, d_col] >= d_day
        live = (d_day <= dn) & (d_until >= dn) & ~done
        coming = np.zeros(n, bool)
        coming[d_pos[(d_day > dn) & (d_day < dn + interval) & ~done]] = True
        today = dated[live].drop(columns=["day", "deadline"]).assign(bonus=0.0, raised=d_day[live])
        standing = _standing_triggers(
            day, facts, since, losses, near, settings, last_for, history
        ).assign(raised=np.nan)
        cands = pd.concat([today, standing], ignore_index=True)
        cands["pos"] = index.get_indexer(pd.Index(cands["client_id"].astype(object)))
        cands = cands[cands["pos"].to_numpy() >= 0]
        cands = cands[~paused[cands["pos"].to_numpy()]]
        p = cands["pos"].to_numpy(dtype="int64")
        cands = cands.assign(
            rm_id=facts["rm_id"].to_numpy(object)[p], rm=rm_code[p], tier=tier[p], aum=aum[p],
            mobile=facts["mobile_banking"].to_numpy(object)[p],
            priority=cands["reason"].map(weights).to_numpy(dtype="float64") + tier_w[p]
            + cands["bonus"].to_numpy(dtype="float64"),
            rank=cands["reason"].map(order).to_numpy(),
        )  # fmt: skip
        cands = cands.sort_values(
            ["pos", "priority", "rank", "raised"], ascending=[True, False, True, True],
            kind="stable",
        )  # fmt: skip
        first = ~cands["pos"].duplicated().to_numpy()
        best = cands[first].assign(
            pref=lambda f: f["reason"].map(prefs), keep=lambda f: f["reason"].map(keeps), fill=0
        )
        # the cadence queue: clients of a tier with a cadence, neither paused nor waiting for a
        # dated trigger, not a candidate already, most of their cadence elapsed first
        queue = has_cadence & ~paused & ~coming & (since >= 0)
        queue[best["pos"].to_numpy(dtype="int64")] = False
        q = np.flatnonzero(queue)
        ratio = since[q] / cadence[q]
        q = q[np.lexsort((q, -aum[q], -ratio, rm_code[q]))]
        rc = rm_code[q]
        start = np.r_[0, np.flatnonzero(rc[1:] != rc[:-1]) + 1] if len(q) else np.array([], int)
        nth = np.arange(len(q)) - np.repeat(start, np.diff(np.r_[start, len(q)]))
        q = q[nth < total]
        fills = pd.DataFrame({
            "client_id": facts["client_id"].to_numpy(object)[q], "reason": FILL,
            "detail": [{"days": int(s), "cadence": int(c)}
                       for s, c in zip(since[q], cadence[q], strict=True)],
            "pos": q, "rm_id": facts["rm_id"].to_numpy(object)[q], "rm": rm_code[q],
            "tier": tier[q], "aum": aum[q], "mobile": facts["mobile_banking"].to_numpy(object)[q],
            "priority": np.round(since[q] / cadence[q], 3), "pref": fill_slot, "keep": False,
            "fill": 1,
        })  # fmt: skip
        pool = pd.concat([best, fills], ignore_index=True).sort_values(
            ["rm", "fill", "priority", "aum", "pos"],
            ascending=[True, True, False, False, True],
            kind="stable",
        )
        chosen = _allocate(pool, quotas)
        others = cands[~first & cands["pos"].isin(chosen["pos"])]
        also = others.groupby("pos", sort=False)["reason"].agg(",".join)
        chosen = chosen.assign(day=day, also=also.reindex(chosen["pos"]).fillna("").to_numpy())
        out.append(chosen)
        # what the day's plan leaves and changes for the next days
        took = chosen["pos"].to_numpy(dtype="int64")
        held_pos.append(took)
        held_day.append(np.full(len(took), dn))
        last_any[took] = np.fmax(last_any[took], dn)
        trig = chosen["fill"].to_numpy() == 0
        cols = chosen["reason"].map(order).to_numpy()[trig].astype(int)
        np.fmax.at(last_for, (took[trig], cols), dn)
        waiting = has_cadence & (paused | coming)
        waiting[took] = False
        filled = (
            chosen.groupby("rm")["fill"]
            .agg(["size", "sum"])
            .reindex(range(len(rm_names)), fill_value=0)
        )
        left = total - filled["size"].to_numpy()
        within = np.minimum(left, np.bincount(rm_code[waiting], minlength=len(rm_names)))
        summaries.append(pd.DataFrame({
            "day": day, "rm_id": np.asarray(rm_names, dtype=object), "slots": total,
            "by_trigger": filled["size"].to_numpy() - filled["sum"].to_numpy(),
            "by_cadence": filled["sum"].to_numpy(), "empty": left, "empty_interval": within,
            "empty_no_client": left - within,
        }))  # fmt: skip
    out = [c for c in out if not c.empty]
    summary = pd.concat(summaries, ignore_index=True).sort_values(["day", "rm_id"])
    summary = summary[list(SUMMARY_COLUMNS)].reset_index(drop=True)
    if not out:
        return PlanResult(empty.rows, summary)
    plan = pd.concat(out, ignore_index=True)
    plan["channel"] = np.where(
        plan["slot"] == "deep",
        "visit",
        np.where(plan["slot"] == "call", "call", np.where(_known(plan["mobile"]), "wechat", "sms")),
    )
    plan["forced"] = forced_flags(plan["reason"], plan["slot"], plan["channel"], settings)
    plan["topic"] = plan["reason"].map(TOPIC_OF)
    plan["tier"] = np.array(tier_names(settings), dtype=object)[plan["tier"].astype(int)]
    plan["detail"] = [_json(d) for d in plan["detail"]]
    plan["slot_rank"] = plan["slot"].map({s: i for i, s in enumerate(SLOTS)})
    plan = plan.sort_values(
        ["day", "rm_id", "slot_rank", "priority", "aum", "client_id"],
        ascending=[True, True, True, False, False, True],
        kind="stable",
    )
    return PlanResult(plan[list(PLAN_COLUMNS)].reset_index(drop=True), summary)


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

    ``contacts`` (client_id, contact_date[, reason]) are contacts logged in BranchLens, added to
    the CRM history; ``planned`` (client_id, plan_day[, reason]) are contacts already accepted
    into a plan (``history_days`` back from the first day is enough). The reason, where given,
    starts that trigger's cool-down and closes a dated trigger. ``detail`` is JSON with the
    trigger's facts (product, date, amount, ...); ``forced`` says why a row's channel breaks the
    priority order (``forced_flags``). Raises ``AccessDenied`` when the RM is outside the viewer's
    scope and ``ValueError`` for a day that is not a working day.
    """
    _may_plan(wh, scope, rm_id)
    return _plan(wh, scope, rm_id, days, contacts, planned, settings).rows


def _may_plan(wh: Database, scope: Scope, rm_id: str) -> None:
    """Raise ``AccessDenied`` unless the viewer may see ``rm_id``'s plan."""
    if scope.role == "rm" and scope.rm_id != rm_id:
        raise AccessDenied("another RM's plan")
    if scope.role == "manager":
        branch = wh.scalar("SELECT branch_id FROM rms WHERE rm_id = ?", [rm_id])
        if branch not in scope.branch_ids:
            raise AccessDenied("an RM of another branch")


def contact_plans(
    wh: Database,
    scope: Scope,
    days: list[date],
    contacts: pd.DataFrame | None = None,
    planned: pd.DataFrame | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """``contact_plan`` for every RM in the viewer's scope at once (one pass over the data)."""
    return _plan(wh, scope, None, days, contacts, planned, settings).rows


def plan_with_summary(
    wh: Database,
    scope: Scope,
    days: list[date],
    rm_id: str | None = None,
    contacts: pd.DataFrame | None = None,
    planned: pd.DataFrame | None = None,
    settings: dict | None = None,
) -> PlanResult:
    """``contact_plan`` (``rm_id``) or ``contact_plans`` (``rm_id`` None: every RM in scope),
    with the summary of how each RM-day's slots were filled (``PlanResult``)."""
    if rm_id is not None:
        _may_plan(wh, scope, rm_id)
    return _plan(wh, scope, rm_id, days, contacts, planned, settings)


# ---------------------------------------------------------------------------- accepted plans

ACCEPTED_COLUMNS = (
    "plan_id", "plan_day", "rm_id", "client_id", "slot", "channel", "reason", "priority", "detail",
    "accepted_by", "log_id", "outcome", "note", "done", "forced",
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


class PlanError(ContactLogError):
    """A change to an accepted plan that cannot be made as asked. ``code`` names the problem for
    the UI (``log_error.<code>``): ``already_done`` (the contact is marked done already),
    ``not_done`` (nothing to undo: the contact is open), ``not_accepted`` (no accepted plan that
    day), ``has_done`` (the day has contacts marked done: undo those first)."""


def _audit(
    audit_log: AuditLog | None,
    wh: Database | None,
    scope: Scope,
    action: str,
    client_ids,
    detail: str,
) -> None:
    """Append the record of a plan change (``analytics.audit``); nothing without a log. Raises
    ``AuditUnavailable`` when it cannot be written, so the caller rolls the change back."""
    if audit_log is None:
        return
    ids = tuple(dict.fromkeys(str(c) for c in client_ids))
    event = AuditEvent(
        scope.viewer_id or scope.rm_id or "", action, ids, detail, role=scope.role,
        branch_ids=branches_for(wh, scope, ids),
    )  # fmt: skip
    try:
        audit_log.record(event)
    except OSError:
        raise AuditUnavailable("audit log not writable") from None


def accept_plan(
    ws: Database,
    scope: Scope,
    plan: pd.DataFrame,
    accepted_by: str,
    *,
    audit_log: AuditLog | None = None,
) -> int:
    """Store an RM's plan (rows of ``contact_plan``) in the workspace; returns the rows stored.

    Only the RM may accept their own plan. For each day in ``plan`` the RM's open rows (not yet
    done) are replaced; rows already done stay, and a client already done that day is not added
    again. With ``audit_log`` (the app always passes it) the acceptance is recorded there
    (action ``accept_plan``) before it is committed; if the record cannot be written nothing is
    stored (``AuditUnavailable``). ``withdraw_plan`` undoes it."""
    if not may(scope, "accept_plan") or plan.empty:
        if not may(scope, "accept_plan"):
            raise AccessDenied("only the RM accepts their plan")
        return 0
    if set(plan["rm_id"]) != {scope.rm_id}:
        raise AccessDenied("another RM's plan")
    rows = plan.assign(plan_day=pd.to_datetime(plan["day"]).dt.date, accepted_by=accepted_by)
    days = sorted(set(rows["plan_day"]))
    with ws.transaction() as cur:
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
        listed = ", ".join(str(d) for d in days)
        _audit(audit_log, None, scope, "accept_plan", new["client_id"],
               f"planned_contacts: {scope.rm_id} {listed}, {len(new)} contacts")  # fmt: skip
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
    each with its log if done (the first log recorded against it) and its ``forced_flags``; a
    note by anyone but the viewer has its mobile, ID and card numbers masked."""
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
    df["forced"] = forced_flags(df["reason"], df["slot"], df["channel"])
    return df[list(ACCEPTED_COLUMNS)]


def mark_done(
    ws: Database,
    wh: Database,
    scope: Scope,
    plan_id: int,
    outcome: str,
    note: str | None = None,
    *,
    today: date,
    audit_log: AuditLog | None = None,
) -> int:
    """Record a planned contact as done: a contact log with the plan's channel and reason, dated
    the plan day (or ``today``, the viewer's business day, when the plan day is still ahead).
    Returns the ``log_id``.

    The RM must own the plan row and the client (``contact_log.log_contact`` checks the client).
    A contact already marked done is refused (``PlanError("already_done")``: one log per planned
    contact, so ``undo_done`` brings it back to open). With ``audit_log`` (the app always passes
    it) the marking is recorded (action ``mark_done``); if the record cannot be written the log
    is removed again and ``AuditUnavailable`` raised."""
    from analytics.contact_log import log_contact  # here: contact_log is the lower layer

    row = ws.query(
        "SELECT plan_day, rm_id, client_id, channel, reason FROM planned_contacts "
        "WHERE plan_id = ?",
        [plan_id],
    )
    if row.empty or not may(scope, "log_contact") or row["rm_id"].iloc[0] != scope.rm_id:
        raise AccessDenied("not a contact in your plan")
    if ws.scalar("SELECT COUNT(*) FROM contact_logs WHERE plan_id = ?", [plan_id]):
        raise PlanError("already_done", "this contact is marked done already")
    day = min(pd.Timestamp(row["plan_day"].iloc[0]).date(), today)
    client = str(row["client_id"].iloc[0])
    log_id = log_contact(
        ws, wh, scope, client, day, str(row["channel"].iloc[0]), outcome,
        note=note, reason=str(row["reason"].iloc[0]), plan_id=int(plan_id), today=today,
    )  # fmt: skip
    try:
        _audit(audit_log, wh, scope, "mark_done", [client],
               f"contact_logs: plan_id={int(plan_id)} log_id={log_id} outcome={outcome}")  # fmt: skip
    except AuditUnavailable:
        with ws.cursor() as cur:  # no change without its record
            cur.execute("DELETE FROM contact_logs WHERE log_id = ?", [log_id])
        raise
    return log_id


# ---------------------------------------------------------------------------- undo


def withdraw_plan(
    ws: Database,
    wh: Database,
    scope: Scope,
    rm_id: str,
    day: date,
    *,
    audit_log: AuditLog,
) -> int:
    """Undo accepting ``day``'s plan (``accept_plan``): the RM's accepted rows of that day are
    removed, so the view proposes the day again and the workspace holds exactly what it held
    before the acceptance. Returns how many planned contacts were withdrawn.

    Only who may accept the plan may withdraw it: the RM (``accept_plan`` in
    ``access.PERMISSIONS``), for their own plan (``rm_id`` must be theirs, else
    ``AccessDenied``). A day without an accepted plan is ``PlanError("not_accepted")``; a day
    with a contact marked done is ``PlanError("has_done")``: that contact's log would lose its
    plan, so the RM undoes the marking first (``undo_done``). The withdrawal is recorded in
    ``audit_log`` (action ``undo``, the clients of the withdrawn rows, what was undone) inside
    the transaction: when the record cannot be written nothing changes (``AuditUnavailable``)."""
    if not may(scope, "accept_plan"):
        raise AccessDenied("only the RM withdraws their plan")
    if rm_id != scope.rm_id:
        raise AccessDenied("another RM's plan")
    with ws.transaction() as cur:
        rows = cur.execute(
            "SELECT plan_id, client_id FROM planned_contacts WHERE rm_id = ? AND plan_day = ? "
            "ORDER BY plan_id",
            [rm_id, day],
        ).df()
        if rows.empty:
            raise PlanError("not_accepted", "no accepted plan on this day")
        ids = [int(i) for i in rows["plan_id"]]
        done = cur.execute(
            "SELECT COUNT(*) FROM contact_logs WHERE plan_id IN (SELECT UNNEST(?::BIGINT[]))",
            [ids],
        ).fetchone()[0]
        if done:
            raise PlanError("has_done", "undo the contacts marked done first")
        cur.execute(
            "DELETE FROM planned_contacts WHERE plan_id IN (SELECT UNNEST(?::BIGINT[]))", [ids]
        )
        _audit(audit_log, wh, scope, "undo", rows["client_id"],
               f"accept_plan: {rm_id} {day}, {len(ids)} planned contacts withdrawn "
               f"(plan_id {', '.join(map(str, ids))})")  # fmt: skip
    return len(ids)


def undo_done(
    ws: Database,
    wh: Database,
    scope: Scope,
    plan_id: int,
    *,
    audit_log: AuditLog,
) -> int:
    """Undo marking a planned contact done (``mark_done``): its contact log is removed, so the
    contact is open again and the workspace holds exactly what it held before the marking.
    Returns the ``log_id`` removed.

    Only who may mark it done may undo it: the RM (``log_contact`` in ``access.PERMISSIONS``)
    whose plan row it is, with the client still in their book (else ``AccessDenied``). A contact
    not marked done is ``PlanError("not_done")``. The undo is recorded in ``audit_log`` (action
    ``undo``, the client, what was undone) inside the transaction: when the record cannot be
    written nothing changes (``AuditUnavailable``)."""
    row = ws.query("SELECT rm_id, client_id FROM planned_contacts WHERE plan_id = ?", [plan_id])
    if row.empty or not may(scope, "log_contact") or row["rm_id"].iloc[0] != scope.rm_id:
        raise AccessDenied("not a contact in your plan")
    client = str(row["client_id"].iloc[0])
    owner = wh.query("SELECT branch_id, rm_id FROM clients WHERE client_id = ?", [client])
    if owner.empty or not scope.owns(str(owner["branch_id"].iloc[0]), owner["rm_id"].iloc[0]):
        raise AccessDenied("this client is not in your book")
    with ws.transaction() as cur:
        log = cur.execute(
            "SELECT log_id, outcome FROM contact_logs WHERE plan_id = ? "
            "ORDER BY log_id DESC LIMIT 1",
            [plan_id],
        ).fetchone()
        if log is None:
            raise PlanError("not_done", "this contact is not marked done")
        log_id, outcome = int(log[0]), str(log[1])
        cur.execute("DELETE FROM contact_logs WHERE log_id = ?", [log_id])
        _audit(audit_log, wh, scope, "undo", [client],
               f"mark_done: plan_id={int(plan_id)} log_id={log_id} outcome={outcome}, "
               "back to open")  # fmt: skip
    return log_id


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

    The start and end times carry ``TZID=<timezone>``, so the file holds the VTIMEZONE that
    RFC 5545 (§3.2.19) requires for it, built from the zoneinfo rules from the day before the
    first event to a year after the last (Asia/Shanghai: one STANDARD at +0800; its 1986-1991
    summer time is left out). DTSTAMP is in UTC, as §3.8.7.2 requires (the plan day's local
    midnight, so the file is deterministic).
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
            ev.add("dtstamp", pd.Timestamp(day, tz=tz).tz_convert("UTC").to_pydatetime())
            ev.add("dtstart", start)
            ev.add("dtend", start + length)
            ev.add("summary", r.summary)
            ev.add("description", r.description)
            cal.add_component(ev)
    if not ordered.empty:
        days = pd.to_datetime(ordered["plan_day"]).dt.date
        # from the day before the first event to a year after the last (an event moved later)
        cal.add_missing_timezones(
            first_date=days.min() - timedelta(days=1), last_date=days.max() + timedelta(days=366)
        )
        if cal.get_missing_tzids():  # a zone icalendar cannot describe: never a file without
            raise ValueError(f"no VTIMEZONE for {sorted(cal.get_missing_tzids())}")
    return cal.to_ical()
