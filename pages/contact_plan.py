"""5-20-30 联络计划 Contact planner: an RM's plan for today or this week as the 5 / 20 / 30 lists,
accepted (and withdrawn again), marked done with an outcome and a note (and back to open), and
coverage by tier; a branch manager (or head office) sees every RM's completion and coverage side
by side. What is shown is built in
``ui/plan_view.py``."""

from datetime import timedelta
from functools import partial

import pandas as pd
import streamlit as st

from analytics import contact_plan as cp
from analytics import workdays
from analytics.access import may
from analytics.audit import AuditLog
from analytics.contact_log import contact_dates, logged_contacts
from analytics.settings import load_settings
from ui import client_list, formats, needs, plan_view, shell

viewer = shell.page("contact_plan")
tr, lang = viewer.t, viewer.lang
rule = load_settings()["contact_rule"]
wh, ws = shell.warehouse(viewer.snapshot_path), shell.workspace()
scope = viewer.scope
audit_log = AuditLog()  # accepting, marking done and their undo write their own records

plan_view.header(viewer, rule)
needs.note(viewer, "holdings", "policies", what="plan.file_triggers", partial=False)
needs.note(viewer, "contacts", what="plan.last_contacts")

# --- which days: from the viewer's business day (the demo's first working day after its as-of)
c1, c2, _ = st.columns([2, 2, 3])
picked = c1.date_input(tr("plan.day"), value=viewer.today, key="plan_day", format="YYYY-MM-DD")
day = picked if workdays.is_working_day(picked) else workdays.next_working_days(picked, 1)[0]
if day != picked:
    c1.caption(tr("plan.moved_to", day=formats.day(day, lang)))
span = c2.segmented_control(
    tr("plan.span"), ["day", "week"], default="day", key="plan_span",
    format_func=lambda s: tr(f"plan.span_{s}"),
) or "day"  # fmt: skip
days = [day] if span == "day" else workdays.week_of(day)
first, last = days[0], days[-1]
plan_view.calendar_warning(viewer, workdays.calendar_warning(days))
logged = contact_dates(ws, wh, scope)

# ---------------------------------------------------------------------------- RM: own plan
if may(scope, "accept_plan"):  # an RM: their own plan
    accepted = cp.accepted_plan(ws, wh, scope, first, last)
    open_days = [d for d in days if d not in set(accepted["plan_day"])]
    pause = timedelta(days=int(rule["min_interval_days"]))
    # what the planner counts from: the contacts logged here and the accepted plans, with their
    # reasons (cool-downs, dated triggers done), as far back as it looks
    reasons = logged_contacts(ws, wh, scope)[["client_id", "contact_date", "reason"]]
    around = cp.accepted_plan(ws, wh, scope, first - timedelta(days=cp.history_days()),
                              last + pause)[["client_id", "plan_day", "reason"]]  # fmt: skip
    result = (
        cp.plan_with_summary(wh, scope, open_days, scope.rm_id, contacts=reasons, planned=around)
        if open_days else None
    )  # fmt: skip
    proposal = result.rows if result else pd.DataFrame(columns=list(cp.PLAN_COLUMNS))
    rows = plan_view.plan_rows(viewer, accepted, proposal)
    done = plan_view.done_count(rows)

    plan_view.progress(viewer, rule, rows, len(days), len(days) - len(open_days))
    if not proposal.empty and plan_view.accept_button(viewer, len(proposal)):
        plan_view.audited(viewer, partial(cp.accept_plan, ws, scope, proposal,
                                          scope.viewer_id or scope.rm_id, audit_log=audit_log))  # fmt: skip
        st.rerun()
    accepted_days = sorted(set(accepted["plan_day"]))  # an accepted day can be withdrawn
    plan_view.withdraw_control(viewer, accepted_days, partial(
        cp.withdraw_plan, ws, wh, scope, scope.rm_id, audit_log=audit_log))  # fmt: skip
    if result is not None:  # how the proposed days were filled
        plan_view.fill_summary(viewer, result.summary, rule["min_interval_days"])

    mark_done = partial(cp.mark_done, ws, wh, scope, today=viewer.today, audit_log=audit_log)
    undo_done = partial(cp.undo_done, ws, wh, scope, audit_log=audit_log)
    tabs = st.tabs([plan_view.slot_title(viewer, rule, s) for s in cp.SLOTS])
    for tab, slot in zip(tabs, cp.SLOTS, strict=True):
        with tab:
            row = plan_view.pick_contact(viewer, rows[rows["slot"] == slot], slot, span == "week")
            if row is not None:
                plan_view.contact_card(viewer, row, slot, mark_done, undo_done)

    # exports: the plan as shown, and the week's deep contacts as a calendar file
    week = workdays.week_of(day)

    def build():  # noqa: E306
        deep = rows[rows["slot"] == "deep"]
        if span == "day":  # the calendar file always covers the week
            acc = cp.accepted_plan(ws, wh, scope, week[0], week[-1])
            rest = [d for d in week if d not in set(acc["plan_day"])]
            more = cp.contact_plan(wh, scope, scope.rm_id, rest, contacts=reasons,
                                   planned=around) if rest else None  # fmt: skip
            deep = pd.concat([acc.assign(day=acc["plan_day"]), more], ignore_index=True)
            deep = plan_view.with_clients(viewer, deep[deep["slot"] == "deep"])
        return plan_view.plan_exports(viewer, rows, deep, week, span == "week")

    st.divider()
    st.markdown(f"**{tr('plan.export')}**")
    client_list.downloads(viewer, "plan", f"contact-plan-{first}-{last}", (first, last, span,
                          len(rows), done, lang), build)  # fmt: skip

# ---------------------------------------------------------------------------- coverage
plan_view.coverage_by_tier(viewer, cp.coverage(wh, scope, day, logged), day)

# ---------------------------------------------------------------------------- managers: side by side
if not may(scope, "accept_plan"):  # everyone above the RMs: the team side by side
    _, _, rms = shell.snapshot_facts(viewer.snapshot_path)
    completion = cp.plan_completion(ws, wh, scope, first, last)
    by_rm = cp.coverage(wh, scope, day, logged, by_rm=True)
    plan_view.team(viewer, rule, rms, completion, by_rm, first, last)
