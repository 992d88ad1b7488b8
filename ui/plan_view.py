"""How a planned contact reads on screen: its reason, topic and a short opener in the viewer's
language, and the plan rows joined to the masked client facts (name, tier, AUM); and the pieces
of the contact-plan view (``pages/contact_plan.py``): the plan's tables, the picked contact with
its done form, the exports, coverage by tier and the team side by side."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import partial

import pandas as pd
import streamlit as st

from analytics import client_lists
from analytics import contact_plan as cp
from analytics.access import AccessDenied
from analytics.audit import AuditUnavailable
from analytics.contact_log import OUTCOMES, ContactLogError
from ui import charts, client_list, errors, exports, form_reset, formats, notes, shell
from ui.shell import Viewer

# The opener's variant when one trigger has several situations (detail "kind").
_VARIANT = {"threshold": "kind", "insurance_callback": "kind", "pay_day": "kind"}


def reason_label(viewer: Viewer, reason: str | None) -> str:
    """A trigger or campaign code in words (a contact logged by hand has no reason)."""
    return viewer.t(f"reason.{reason}") if reason else viewer.t("reason.manual")


def forced_label(viewer: Viewer, codes: str | None) -> str:
    """Why a planned contact's channel breaks the priority order (``contact_plan.forced_flags``
    codes joined by commas), in words; '' when it does not."""
    if not isinstance(codes, str) or not codes:
        return ""
    return "; ".join(viewer.t(f"plan.forced_{c}") for c in codes.split(","))


def opener(viewer: Viewer, reason: str, detail: str | dict | None) -> str:
    """The suggested first sentence for a planned contact, filled with the trigger's facts."""
    facts = json.loads(detail) if isinstance(detail, str) else dict(detail or {})
    key = reason if reason not in _VARIANT else f"{reason}_{facts.get(_VARIANT[reason])}"
    if reason == "cadence_overdue" and facts.get("days") is None:  # no contact on record at all
        key = "cadence_overdue_never"
    lang = viewer.lang
    fields = {
        "product": facts.get(f"product_{lang}", ""),
        "date": formats.day(date.fromisoformat(facts["date"]), lang) if "date" in facts else "",
        "amount": formats.money(facts.get("amount"), lang) if "amount" in facts else "",
        "pct": formats.pct(facts["pct"]) if "pct" in facts else "",
        "gap": formats.money(facts.get("gap"), lang) if "gap" in facts else "",
        "tier": viewer.t(f"tier.{facts['tier']}") if facts.get("tier") else "",
        "age": facts.get("age", ""),
        "years": facts.get("years", ""),
        "days": facts.get("days") if facts.get("days") is not None else "—",
    }
    return viewer.t(f"plan.opener.{key}", **fields)


def with_clients(viewer: Viewer, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (with client_id) plus each client's masked names, tier and latest AUM, fetched
    under the viewer's scope (a client outside it drops out)."""
    if rows.empty:
        return rows.assign(name_zh=[], name_en=[], tier_now=[], aum_now=[])
    ids = pd.DataFrame({"client_id": rows["client_id"].drop_duplicates()})
    facts = client_lists.client_list(
        shell.warehouse(viewer.snapshot_path), viewer.scope, ids, limit=len(ids)
    ).rows[["client_id", "name_zh", "name_en", "tier", "aum"]]
    facts = facts.rename(columns={"tier": "tier_now", "aum": "aum_now"})
    return rows.merge(facts, on="client_id", how="inner")


def fill_summary(viewer: Viewer, summary: pd.DataFrame, interval: int) -> None:
    """How each proposed day's slots were filled (``contact_plan.plan_with_summary``): by a
    trigger, from the cadence queue, or left empty and why. Nothing when there is no summary."""
    if summary.empty:
        return
    tr = viewer.t
    st.markdown(f"**{tr('plan.summary')}**")
    st.caption(tr("plan.summary_help", slots=int(summary["slots"].max()), interval=interval))
    st.dataframe(pd.DataFrame({
        tr("col.day"): [formats.day(d, viewer.lang) for d in summary["day"]],
        tr("plan.sum_trigger"): summary["by_trigger"],
        tr("plan.sum_cadence"): summary["by_cadence"],
        tr("plan.sum_empty_interval"): summary["empty_interval"],
        tr("plan.sum_empty_none"): summary["empty_no_client"],
    }), hide_index=True)  # fmt: skip


# ---------------------------------------------------------------------------- the contact-plan view


def slot_title(viewer: Viewer, rule: dict, slot: str) -> str:
    """A slot's name with its daily quota (``[contact_rule]``), e.g. 'Calls 20'."""
    return viewer.t(f"plan.slot_{slot}", n=rule[cp.SLOT_QUOTA_KEY[slot]])


def header(viewer: Viewer, rule: dict) -> None:
    """The view's title, whose plan it is and as of when, and the 5-20-30 rule in force."""
    tr, as_of = viewer.t, formats.day(viewer.as_of, viewer.lang)
    st.title(tr("plan.title"))
    st.caption(tr("plan.caption", scope=shell.scope_label(viewer), date=as_of))
    st.info(
        tr("plan.rule", deep=rule["deep"], calls=rule["calls"], light=rule["light"],
           interval=rule["min_interval_days"]),
        icon=":material/rule:",
    )  # fmt: skip


def calendar_warning(viewer: Viewer, warning: tuple[str, dict] | None) -> None:
    """``workdays.calendar_warning``'s result in words: the days' holidays are a guess."""
    if not warning:
        return
    code, fields = warning
    years = ", ".join(str(y) for y in fields["years"])
    st.warning(viewer.t(f"plan.{code}", years=years), icon=":material/event_busy:")


def in_plan_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Plan rows by day, then slot (deep, call, light), higher priority first, then client id."""
    rank = rows["slot"].map({s: i for i, s in enumerate(cp.SLOTS)})
    ordered = rows.assign(slot_rank=rank).sort_values(
        ["day", "slot_rank", "priority", "client_id"], ascending=[True, True, False, True]
    )
    return ordered.drop(columns="slot_rank").reset_index(drop=True)


def plan_rows(viewer: Viewer, accepted: pd.DataFrame, proposal: pd.DataFrame) -> pd.DataFrame:
    """The accepted rows (``status`` 'accepted') and the proposed ones ('proposed', not done yet)
    of the days shown, with the client facts, in plan order."""
    rows = pd.concat(
        [
            accepted.assign(day=accepted["plan_day"], status="accepted"),
            proposal.assign(status="proposed", plan_id=pd.NA, done=False, outcome=None, note=None),
        ],
        ignore_index=True,
    )
    return in_plan_order(with_clients(viewer, rows))


def done_count(rows: pd.DataFrame) -> int:
    """How many of ``rows`` are marked done (a proposed row never is)."""
    return int(rows["done"].fillna(False).astype(bool).sum())


def progress(viewer: Viewer, rule: dict, rows: pd.DataFrame, days: int, accepted: int) -> None:
    """Done of planned per slot and how many of the ``days`` shown are ``accepted``; a note when
    there is nothing to plan."""
    tr = viewer.t
    m = st.columns(4)
    for col, slot in zip(m, cp.SLOTS, strict=False):
        part = rows[rows["slot"] == slot]
        done = tr("plan.done_of", done=done_count(part), n=len(part))
        col.metric(tr("plan.slot_done", slot=slot_title(viewer, rule, slot)), done, border=True)
    shown = tr("plan.days_accepted", n=accepted, total=days)
    m[3].metric(tr("plan.accepted"), shown, border=True)
    if rows.empty:
        st.info(tr("plan.empty"))


def accept_button(viewer: Viewer, n: int) -> bool:
    """The button that accepts the ``n`` proposed contacts, with its help; True when clicked."""
    clicked = st.button(viewer.t("plan.accept", n=n), type="primary", key="plan_accept")
    st.caption(viewer.t("plan.accept_help"))
    return clicked


def audited(viewer: Viewer, change: Callable[[], object]):
    """Run a plan change that writes its own audit record (``contact_plan``); when the record
    cannot be written the change was not made: show ``audit.failed``, flag the session (as
    ``ui/audit_guard.py`` does) and stop."""
    try:
        return change()
    except AuditUnavailable:
        st.session_state["_audit_failed"] = True
        st.error(viewer.t("audit.failed"))
        st.stop()


def undo_failed(viewer: Viewer, error: Exception) -> str:
    """Why an undo was refused, in words (``contact_plan.PlanError`` by its code; a refusal as
    such); never the exception's own text."""
    code = getattr(error, "code", "undo_access")
    return viewer.t("plan.undo_failed", reason=viewer.t(f"log_error.{code}"))


def withdraw_control(viewer: Viewer, days: list[date], withdraw: Callable[[date], int]) -> None:
    """Undo an acceptance: the accepted ``days`` shown (one picked when there are several) and
    the button that withdraws that day's accepted plan with ``withdraw(day)``, back to the
    proposal; after the rerun, what was withdrawn."""
    tr, lang = viewer.t, viewer.lang
    form_reset.show("plan_withdraw")
    if not days:
        return
    day = days[0]
    if len(days) > 1:
        day = st.selectbox(tr("plan.withdraw_day"), days, key="plan_withdraw_day",
                           format_func=lambda d: formats.day(d, lang))  # fmt: skip
    if st.button(tr("plan.withdraw", day=formats.day(day, lang)), key="plan_withdraw",
                 icon=":material/undo:"):  # fmt: skip
        try:
            n = audited(viewer, lambda: withdraw(day))
        except (AccessDenied, ContactLogError) as e:
            st.error(undo_failed(viewer, e))
        else:
            form_reset.saved("plan_withdraw", tr("plan.withdrawn", n=n, day=formats.day(day, lang)))
            st.rerun()
    st.caption(tr("plan.withdraw_help"))


def plan_columns(viewer: Viewer, part: pd.DataFrame, with_day: bool) -> list[exports.Col]:
    """Plan rows (``plan_rows``) as columns (``exports.Col``): client, tier, AUM (yuan), reason,
    topic, channel, why the channel breaks the order, status (the outcome once done) and the
    opener; the day (a date) first when ``with_day`` (a week is shown)."""
    tr = viewer.t
    status = [
        tr(f"outcome.{o}") if d else tr(f"plan.status_{s}")
        for d, o, s in zip(part["done"].fillna(False), part["outcome"], part["status"], strict=True)
    ]
    text = lambda key, values: exports.Col(tr(key), exports.TEXT, values)  # noqa: E731
    day = [exports.Col(tr("col.day"), exports.DATE, part["day"])] if with_day else []
    return [
        *day,
        text("col.client_id", part["client_id"]),
        text("col.name", part[_names(viewer)]),
        text("col.tier", [tr(f"tier.{t}") for t in part["tier_now"]]),
        exports.Col(tr("col.aum"), exports.MONEY, part["aum_now"]),
        text("col.reason", [reason_label(viewer, r) for r in part["reason"]]),
        text("col.topic", [tr(f"topic.{cp.TOPIC_OF[r]}") for r in part["reason"]]),
        text("col.channel", [tr(f"channel.{c}") for c in part["channel"]]),
        text("plan.forced", [forced_label(viewer, f) for f in part["forced"]]),
        text("col.status", status),
        text("plan.opener",
             [opener(viewer, r, d) for r, d in zip(part["reason"], part["detail"], strict=True)]),
    ]  # fmt: skip


def plan_table(viewer: Viewer, part: pd.DataFrame, with_day: bool) -> pd.DataFrame:
    """Plan rows as shown (``plan_columns``): days in words, AUM as 万/¥."""
    return exports.shown(plan_columns(viewer, part, with_day), viewer.lang)


def plan_export_table(viewer: Viewer, part: pd.DataFrame, with_day: bool) -> pd.DataFrame:
    """Plan rows as exported (``exports.frame``): days as dates, AUM in yuan, names masked."""
    return exports.frame(plan_columns(viewer, part, with_day), viewer.lang)


def pick_contact(viewer: Viewer, part: pd.DataFrame, slot: str, with_day: bool) -> pd.Series | None:
    """One slot's rows as a table and the contact picked in it: a newly clicked row, else the
    one chosen in the select box. None (and a note) when the slot is empty."""
    tr, names = viewer.t, _names(viewer)
    part = part.reset_index(drop=True)
    if part.empty:
        st.caption(tr("plan.slot_empty"))
        return None
    event = st.dataframe(plan_table(viewer, part, with_day), hide_index=True, on_select="rerun",
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
        format_func=lambda k: f"{part.loc[k, names]} · {part.loc[k, 'client_id']} · "
        f"{reason_label(viewer, part.loc[k, 'reason'])}",
    )  # fmt: skip
    return part.iloc[i]


def contact_card(
    viewer: Viewer,
    row: pd.Series,
    slot: str,
    mark_done: Callable[[int, str, str], object],
    undo_done: Callable[[int], object] | None = None,
) -> None:
    """The picked contact: its opener, a link to the client view, and for an accepted contact
    not yet done the form that marks it done with ``mark_done(plan_id, outcome, note)``; once
    done, the button that takes it back to open with ``undo_done(plan_id)``."""
    tr = viewer.t
    with st.container(border=True):
        st.markdown(f"> {formats.md(opener(viewer, row['reason'], row['detail']))}")
        if st.button(tr("plan.open_client"), key=f"plan_{slot}_open"):
            st.switch_page("pages/client.py", query_params={
                "client": row["client_id"], "lang": viewer.lang, **client_list._as_param(viewer)})  # fmt: skip
        form = f"plan_{slot}_done"
        form_reset.show(form, (f"plan_{slot}_outcome", f"plan_{slot}_note"))  # what was saved
        form_reset.show(f"plan_{slot}_undo")  # what was undone
        notes.warning(viewer, form)  # after a save, the row is done
        if row["status"] != "accepted":
            st.caption(tr("plan.accept_first"))
        elif bool(row["done"]):
            st.success(tr("plan.already_done", outcome=tr(f"outcome.{row['outcome']}")))
            if undo_done is not None:
                _undo_button(viewer, row, slot, undo_done)
        else:
            _done_form(viewer, row, slot, partial(mark_done, int(row["plan_id"])))


def _client_label(viewer: Viewer, row: pd.Series) -> str:
    return f"{row[_names(viewer)]} · {row['client_id']}"


def _undo_button(
    viewer: Viewer, row: pd.Series, slot: str, undo_done: Callable[[int], object]
) -> None:
    tr = viewer.t
    if not st.button(tr("plan.undo_done"), key=f"plan_{slot}_undo", icon=":material/undo:"):
        return
    try:
        audited(viewer, lambda: undo_done(int(row["plan_id"])))
    except (AccessDenied, ContactLogError) as e:
        st.error(undo_failed(viewer, e))
    else:
        form_reset.saved(f"plan_{slot}_undo", tr("plan.undone", client=_client_label(viewer, row)))
        st.rerun()


def _done_form(
    viewer: Viewer, row: pd.Series, slot: str, save: Callable[[str, str], object]
) -> None:
    tr, form = viewer.t, f"plan_{slot}_done"
    with st.form(form):
        outcome = st.radio(tr("col.outcome"), OUTCOMES, horizontal=True,
                           format_func=lambda o: tr(f"outcome.{o}"), key=f"plan_{slot}_outcome")  # fmt: skip
        note = st.text_input(tr("col.note"), max_chars=500, key=f"plan_{slot}_note")
        submit = st.form_submit_button(
            tr("plan.mark_done"), type="primary", key=f"plan_{slot}_submit"
        )
        if not submit:
            return
        try:
            audited(viewer, lambda: save(outcome, note))
        except (AccessDenied, ContactLogError) as e:
            st.error(errors.contact_not_saved(e, viewer.lang))
        else:
            notes.saved(form, note)
            form_reset.saved(form, saved_message(viewer, "plan.done_saved",
                                                 _client_label(viewer, row), outcome, note))  # fmt: skip
            st.rerun()


def saved_message(
    viewer: Viewer, key: str, client: str, outcome: str, note: str | None, channel: str = ""
) -> str:
    """What a saved contact form recorded, in words: ``key`` (``plan.done_saved``,
    ``inv.record_saved``) with the client, channel, outcome and the note as typed (the author
    reads their own words), or that it has none."""
    tr = viewer.t
    text = (note or "").strip()
    return tr(
        key, client=client, outcome=tr(f"outcome.{outcome}"),
        channel=tr(f"channel.{channel}") if channel else "",
        note=tr("form.note_saved", note=text) if text else tr("form.no_note"),
    )  # fmt: skip


def ics_events(viewer: Viewer, deep: pd.DataFrame) -> pd.DataFrame:
    """Deep contacts (with client facts) as ``contact_plan.deep_contacts_ics`` events: the
    client's name and the reason as the summary, the opener as the description."""
    return pd.DataFrame({
        "plan_day": deep["day"], "rm_id": deep["rm_id"], "client_id": deep["client_id"],
        "summary": [viewer.t("plan.ics_summary", name=n, reason=reason_label(viewer, r))
                    for n, r in zip(deep[_names(viewer)], deep["reason"], strict=True)],
        "description": [opener(viewer, r, d) for r, d in zip(deep["reason"], deep["detail"], strict=True)],
    })  # fmt: skip


def plan_exports(
    viewer: Viewer, rows: pd.DataFrame, deep: pd.DataFrame, week: list[date], with_day: bool
):
    """What ``client_list.downloads`` exports: the clients on it, the plan as data, and the
    week's deep contacts (``deep``) as an iCalendar file."""
    ics = cp.deep_contacts_ics(ics_events(viewer, deep), viewer.t("plan.ics_name"))
    ids = sorted(set(rows["client_id"]) | set(deep["client_id"]))
    calendar = (ics, f"deep-contacts-{week[0]}.ics", "text/calendar")
    return ids, plan_export_table(viewer, rows, with_day), {"iCalendar": calendar}


def coverage_bars(viewer: Viewer, coverage: pd.DataFrame) -> pd.DataFrame:
    """``contact_plan.coverage`` with a bar label (tier · cadence) and text (share (covered /
    clients)), top tier first."""
    tr, lang = viewer.t, viewer.lang
    return coverage.assign(
        label=[f"{tr(f'tier.{t}')} · {tr('plan.every_days', n=d)}"
               for t, d in zip(coverage["tier"], coverage["cadence_days"], strict=True)],
        text=[f"{formats.pct(s, 0)} ({formats.count(c, lang)}/{formats.count(n, lang)})"
              for s, c, n in zip(coverage["share"], coverage["covered"], coverage["clients"], strict=True)],
    ).iloc[::-1]  # fmt: skip


def coverage_by_tier(viewer: Viewer, coverage: pd.DataFrame, day: date) -> None:
    """Coverage by tier on ``day`` (``contact_plan.coverage``): the share of each tier's clients
    contacted within its cadence, overall and as bars."""
    tr, lang = viewer.t, viewer.lang
    st.divider()
    st.subheader(tr("plan.coverage"))
    st.caption(
        tr("plan.coverage_help", day=formats.day(day, lang), as_of=formats.day(viewer.as_of, lang))
    )
    if coverage.empty:
        st.info(tr("plan.coverage_empty"))
        return
    covered, clients = coverage["covered"].sum(), coverage["clients"].sum()
    st.metric(tr("plan.coverage_all"), formats.pct(covered / clients, 1),
              tr("plan.coverage_count", covered=formats.count(covered, lang),
                 clients=formats.count(clients, lang)),
              delta_color="off", delta_arrow="off", border=False)  # fmt: skip
    bars = coverage_bars(viewer, coverage)
    fig = charts.hbar(bars, "share", "label", "text", height=60 + 40 * len(bars))
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_xaxes(range=[0, 1.15], tickformat=".0%")
    st.plotly_chart(fig, key="plan_coverage")


def team_table(
    viewer: Viewer, rule: dict, rms: pd.DataFrame, completion: pd.DataFrame, by_rm: pd.DataFrame
) -> pd.DataFrame:
    """The team side by side: per RM (``rms`` who have a plan or clients in scope) planned and
    done contacts (``contact_plan.plan_completion``), per slot done/planned, and coverage by tier
    (``contact_plan.coverage(by_rm=True)``), top tier first; '—' where there is nothing."""
    tr = viewer.t
    done = completion.set_index("rm_id")
    share = by_rm.pivot(index="rm_id", columns="tier", values="share")
    members = rms[rms["rm_id"].isin(set(by_rm["rm_id"]) | set(done.index))].set_index("rm_id")
    table = {tr("col.rm"): members[_names(viewer)]}
    table[tr("plan.planned")] = done["planned"].reindex(members.index).fillna(0).astype(int)
    table[tr("plan.done")] = done["done"].reindex(members.index).fillna(0).astype(int)
    table[tr("plan.done_share")] = [
        formats.pct(v, 0) if pd.notna(v) else tr("plan.not_accepted")
        for v in done["done_share"].reindex(members.index)
    ]
    for slot in cp.SLOTS:
        p = done[f"{slot}_planned"].reindex(members.index)
        d = done[f"{slot}_done"].reindex(members.index)
        table[slot_title(viewer, rule, slot)] = [
            f"{int(b)}/{int(a)}" if pd.notna(a) else "—" for a, b in zip(p, d, strict=True)
        ]
    for tier in [t for t in reversed(list(rule["cadence_days"])) if t in share.columns]:
        table[tr("plan.coverage_of", tier=tr(f"tier.{tier}"))] = [
            formats.pct(v, 0) if pd.notna(v) else "—" for v in share[tier].reindex(members.index)
        ]
    return pd.DataFrame(table).reset_index(drop=True)


def team(
    viewer: Viewer,
    rule: dict,
    rms: pd.DataFrame,
    completion: pd.DataFrame,
    by_rm: pd.DataFrame,
    first: date,
    last: date,
) -> None:
    """The team side by side (``team_table``) for the days from ``first`` to ``last``."""
    tr, lang = viewer.t, viewer.lang
    st.subheader(tr("plan.team"))
    st.caption(tr("plan.team_help", first=formats.day(first, lang), last=formats.day(last, lang)))
    st.dataframe(team_table(viewer, rule, rms, completion, by_rm), hide_index=True)


def _names(viewer: Viewer) -> str:
    return "name_zh" if viewer.lang == "zh" else "name_en"
