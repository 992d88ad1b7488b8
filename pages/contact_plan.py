"""5-20-30 联络计划 Contact planner: an RM's plan for today or this week as the 5 / 20 / 30 lists,
accepted, marked done with an outcome and a note, and coverage by tier; a branch manager (or head
office) sees every RM's completion and coverage side by side."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from analytics import contact_plan as cp
from analytics import workdays
from analytics.access import AccessDenied, may
from analytics.contact_log import OUTCOMES, ContactLogError, contact_dates, logged_contacts
from analytics.settings import load_settings
from ui import charts, client_list, errors, formats, needs, notes, plan_view, shell

viewer = shell.page("contact_plan")
tr, lang = viewer.t, viewer.lang
rule = load_settings()["contact_rule"]
wh, ws = shell.warehouse(viewer.snapshot_path), shell.workspace()
scope = viewer.scope
names = "name_zh" if lang == "zh" else "name_en"

st.title(tr("plan.title"))
st.caption(
    tr("plan.caption", scope=shell.scope_label(viewer), date=formats.day(viewer.as_of, lang))
)
st.info(
    tr("plan.rule", deep=rule["deep"], calls=rule["calls"], light=rule["light"],
       interval=rule["min_interval_days"]),
    icon=":material/rule:",
)  # fmt: skip
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
if warning := workdays.calendar_warning(days):  # the days' holidays are a guess
    code, fields = warning
    st.warning(tr(f"plan.{code}", years=", ".join(str(y) for y in fields["years"])),
               icon=":material/event_busy:")  # fmt: skip
logged = contact_dates(ws, wh, scope)


def slot_title(slot: str) -> str:
    return tr(f"plan.slot_{slot}", n=rule[cp.SLOT_QUOTA_KEY[slot]])


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
    rows = pd.concat(
        [
            accepted.assign(day=accepted["plan_day"], status="accepted"),
            proposal.assign(status="proposed", plan_id=pd.NA, done=False, outcome=None, note=None),
        ],
        ignore_index=True,
    )
    rows = plan_view.with_clients(viewer, rows)
    rows["slot_rank"] = rows["slot"].map({s: i for i, s in enumerate(cp.SLOTS)})
    rows = rows.sort_values(
        ["day", "slot_rank", "priority", "client_id"], ascending=[True, True, False, True]
    ).reset_index(drop=True)

    done = int(rows["done"].fillna(False).astype(bool).sum())
    m = st.columns(4)
    for col, slot in zip(m, cp.SLOTS, strict=False):
        part = rows[rows["slot"] == slot]
        col.metric(tr("plan.slot_done", slot=slot_title(slot)), tr("plan.done_of", done=int(part["done"].fillna(False).astype(bool).sum()),
                   n=len(part)), border=True)  # fmt: skip
    m[3].metric(tr("plan.accepted"), tr("plan.days_accepted", n=len(days) - len(open_days),
                total=len(days)), border=True)  # fmt: skip

    if rows.empty:
        st.info(tr("plan.empty"))
    if open_days and not proposal.empty:
        if st.button(tr("plan.accept", n=len(proposal)), type="primary", key="plan_accept"):
            cp.accept_plan(ws, scope, proposal, scope.viewer_id or scope.rm_id)
            st.rerun()
        st.caption(tr("plan.accept_help"))
    if result is not None:  # how the proposed days were filled
        plan_view.fill_summary(viewer, result.summary, rule["min_interval_days"])

    def shown(part: pd.DataFrame) -> pd.DataFrame:
        status = [
            tr(f"outcome.{o}") if d else tr(f"plan.status_{s}")
            for d, o, s in zip(part["done"].fillna(False), part["outcome"], part["status"], strict=True)
        ]  # fmt: skip
        table = {
            tr("col.day"): [formats.day(d, lang) for d in part["day"]],
            tr("col.client_id"): part["client_id"],
            tr("col.name"): part[names],
            tr("col.tier"): [tr(f"tier.{t}") for t in part["tier_now"]],
            tr("col.aum"): [formats.money(v, lang) for v in part["aum_now"]],
            tr("col.reason"): [plan_view.reason_label(viewer, r) for r in part["reason"]],
            tr("col.topic"): [tr(f"topic.{cp.TOPIC_OF[r]}") for r in part["reason"]],
            tr("col.channel"): [tr(f"channel.{c}") for c in part["channel"]],
            tr("plan.forced"): [plan_view.forced_label(viewer, f) for f in part["forced"]],
            tr("col.status"): status,
            tr("plan.opener"): [plan_view.opener(viewer, r, d) for r, d in zip(part["reason"], part["detail"], strict=True)],
        }  # fmt: skip
        if span == "day":
            table.pop(tr("col.day"))
        return pd.DataFrame(table)

    tabs = st.tabs([slot_title(s) for s in cp.SLOTS])
    for tab, slot in zip(tabs, cp.SLOTS, strict=True):
        with tab:
            part = rows[rows["slot"] == slot].reset_index(drop=True)
            if part.empty:
                st.caption(tr("plan.slot_empty"))
                continue
            event = st.dataframe(shown(part), hide_index=True, on_select="rerun",
                                 selection_mode="single-row", key=f"plan_{slot}_table")  # fmt: skip
            pick_key = f"plan_{slot}_pick"
            st.caption(tr("plan.pick_row"))
            clicked = int(event.selection.rows[0]) if event.selection.rows else None
            if clicked is not None and st.session_state.get(f"{pick_key}_from") != clicked:
                st.session_state[pick_key] = clicked  # a newly clicked row becomes the contact
            st.session_state[f"{pick_key}_from"] = clicked
            if st.session_state.get(pick_key, 0) >= len(part):  # the list got shorter
                st.session_state[pick_key] = 0
            i = st.selectbox(
                tr("plan.contact"), range(len(part)), key=pick_key,
                format_func=lambda k, p=part: f"{p.loc[k, names]} · {p.loc[k, 'client_id']} · "
                f"{plan_view.reason_label(viewer, p.loc[k, 'reason'])}",
            )  # fmt: skip
            row = part.iloc[i]
            with st.container(border=True):
                st.markdown(
                    f"> {formats.md(plan_view.opener(viewer, row['reason'], row['detail']))}"
                )
                if st.button(tr("plan.open_client"), key=f"plan_{slot}_open"):
                    st.switch_page("pages/client.py", query_params={
                        "client": row["client_id"], "lang": lang, **client_list._as_param(viewer)})  # fmt: skip
                notes.warning(viewer, f"plan_{slot}_done")  # after a save, the row is done
                if row["status"] != "accepted":
                    st.caption(tr("plan.accept_first"))
                elif bool(row["done"]):
                    st.success(tr("plan.already_done", outcome=tr(f"outcome.{row['outcome']}")))
                else:
                    with st.form(f"plan_{slot}_done"):
                        outcome = st.radio(tr("col.outcome"), OUTCOMES, horizontal=True,
                                           format_func=lambda o: tr(f"outcome.{o}"),
                                           key=f"plan_{slot}_outcome")  # fmt: skip
                        note = st.text_input(tr("col.note"), max_chars=500, key=f"plan_{slot}_note")
                        if st.form_submit_button(tr("plan.mark_done"), type="primary",
                                                 key=f"plan_{slot}_submit"):  # fmt: skip
                            try:
                                cp.mark_done(ws, wh, scope, int(row["plan_id"]), outcome, note,
                                             today=viewer.today)  # fmt: skip
                            except (AccessDenied, ContactLogError) as e:
                                st.error(errors.contact_not_saved(e, lang))
                            else:
                                notes.saved(f"plan_{slot}_done", note)
                                st.rerun()

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
        events = pd.DataFrame({
            "plan_day": deep["day"], "rm_id": deep["rm_id"], "client_id": deep["client_id"],
            "summary": [tr("plan.ics_summary", name=n, reason=plan_view.reason_label(viewer, r))
                        for n, r in zip(deep[names], deep["reason"], strict=True)],
            "description": [plan_view.opener(viewer, r, d) for r, d in zip(deep["reason"], deep["detail"], strict=True)],
        })  # fmt: skip
        ics = cp.deep_contacts_ics(events, tr("plan.ics_name"))
        ids = sorted(set(rows["client_id"]) | set(deep["client_id"]))
        return (
            ids,
            shown(rows),
            {"iCalendar": (ics, f"deep-contacts-{week[0]}.ics", "text/calendar")},
        )

    st.divider()
    st.markdown(f"**{tr('plan.export')}**")
    client_list.downloads(viewer, "plan", f"contact-plan-{first}-{last}", (first, last, span,
                          len(rows), done, lang), build)  # fmt: skip

# ---------------------------------------------------------------------------- coverage
st.divider()
st.subheader(tr("plan.coverage"))
st.caption(
    tr("plan.coverage_help", day=formats.day(day, lang), as_of=formats.day(viewer.as_of, lang))
)
coverage = cp.coverage(wh, scope, day, logged)
if coverage.empty:
    st.info(tr("plan.coverage_empty"))
else:
    cov = coverage.assign(
        label=[f"{tr(f'tier.{t}')} · {tr('plan.every_days', n=d)}"
               for t, d in zip(coverage["tier"], coverage["cadence_days"], strict=True)],
        text=[f"{formats.pct(s, 0)} ({formats.count(c, lang)}/{formats.count(n, lang)})"
              for s, c, n in zip(coverage["share"], coverage["covered"], coverage["clients"], strict=True)],
    )  # fmt: skip
    overall = coverage["covered"].sum() / coverage["clients"].sum()
    st.metric(tr("plan.coverage_all"), formats.pct(overall, 1),
              tr("plan.coverage_count", covered=formats.count(coverage["covered"].sum(), lang),
                 clients=formats.count(coverage["clients"].sum(), lang)),
              delta_color="off", delta_arrow="off", border=False)  # fmt: skip
    cov = cov.iloc[::-1]
    fig = charts.hbar(cov, "share", "label", "text", height=60 + 40 * len(cov))
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_xaxes(range=[0, 1.15], tickformat=".0%")
    st.plotly_chart(fig, key="plan_coverage")

# ---------------------------------------------------------------------------- managers: side by side
if not may(scope, "accept_plan"):  # everyone above the RMs: the team side by side
    st.subheader(tr("plan.team"))
    st.caption(tr("plan.team_help", first=formats.day(first, lang), last=formats.day(last, lang)))
    _, _, rms = shell.snapshot_facts(viewer.snapshot_path)
    done = cp.plan_completion(ws, wh, scope, first, last).set_index("rm_id")
    by_rm = cp.coverage(wh, scope, day, logged, by_rm=True)
    share = by_rm.pivot(index="rm_id", columns="tier", values="share")
    team = rms[rms["rm_id"].isin(set(by_rm["rm_id"]) | set(done.index))].set_index("rm_id")
    table = {tr("col.rm"): team[names]}
    table[tr("plan.planned")] = done["planned"].reindex(team.index).fillna(0).astype(int)
    table[tr("plan.done")] = done["done"].reindex(team.index).fillna(0).astype(int)
    table[tr("plan.done_share")] = [
        formats.pct(v, 0) if pd.notna(v) else tr("plan.not_accepted")
        for v in done["done_share"].reindex(team.index)
    ]
    for slot in cp.SLOTS:
        p = done[f"{slot}_planned"].reindex(team.index)
        d = done[f"{slot}_done"].reindex(team.index)
        table[slot_title(slot)] = [
            f"{int(b)}/{int(a)}" if pd.notna(a) else "—" for a, b in zip(p, d, strict=True)
        ]
    for tier in [t for t in reversed(list(rule["cadence_days"])) if t in share.columns]:
        table[tr("plan.coverage_of", tier=tr(f"tier.{tier}"))] = [
            formats.pct(v, 0) if pd.notna(v) else "—" for v in share[tier].reindex(team.index)
        ]
    st.dataframe(pd.DataFrame(table).reset_index(drop=True), hide_index=True)
