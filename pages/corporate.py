"""对公客户价值 Corporate value and credit: RFM, lifetime value (current vs future), social value
(the payment network) and a credit scorecard trained on the demo data or an uploaded history.
A row of the RFM list opens that company (its figures and payment network) under the list.
The tables, notes and figures are drawn by ``ui/corporate_view.py``."""

import streamlit as st

from analytics import access, corporate, scorecard
from analytics.access import AccessDenied
from analytics.rfm import SEGMENTS
from analytics.settings import load_settings
from ui import corporate_view as view
from ui import formats, needs, notes, shell

viewer = shell.page("corporate")
tr, lang = viewer.t, viewer.lang
wh, scope = shell.warehouse(viewer.snapshot_path), viewer.scope
top_n = int(load_settings()["client_lists"]["top_n"])

st.title(tr("corp.title"))
st.caption(
    tr("corp.caption", scope=shell.scope_label(viewer), date=formats.day(viewer.as_of, lang))
)

rfm_tab, clv_tab, social_tab, credit_tab = st.tabs(
    [tr("corp.tab_rfm"), tr("corp.tab_clv"), tr("corp.tab_social"), tr("corp.tab_credit")]
)

# ---------------------------------------------------------------------------- RFM
with rfm_tab:
    st.caption(tr("corp.rfm_help"))
    rfm = None
    if needs.require(viewer, "corp_rfm", what="corp.tab_rfm"):
        rfm = shell.cached(corporate.corporate_rfm, viewer)
    if rfm is not None and rfm.empty:
        st.info(tr("corp.empty"))
    elif rfm is not None:
        st.plotly_chart(view.segment_figure(viewer, view.segment_counts(rfm)), key="corp_rfm_bars")
        pick = st.selectbox(tr("corp.rfm_pick"), [None, *SEGMENTS], key="corp_rfm_segment",
                            format_func=lambda s: view.segment_label(viewer, s))  # fmt: skip
        rows, total = view.segment_rows(rfm, pick, top_n)
        st.caption(tr("corp.rfm_caption", shown=len(rows), total=total))
        # one table per segment: a row selected in one segment's list opens nothing in another's
        event = st.dataframe(view.rfm_table(viewer, rows), hide_index=True,
                             key=f"corp_rfm_table_{pick or 'all'}", on_select="rerun",
                             selection_mode="single-row")  # fmt: skip
        opened = view.picked_row(rows, event)  # a row opens the company below the list
        if opened is not None:
            view.show_company(viewer, opened)

# ---------------------------------------------------------------------------- lifetime value
with clv_tab:
    st.caption(tr("corp.clv_help"))
    clv = None
    try:
        if needs.require(viewer, "corp_clv", what="corp.tab_clv"):
            clv = shell.cached(corporate.corporate_clv, viewer)
    except corporate.ClvFitError as e:
        st.warning(tr(f"corp.clv_failed.{e.code}", **e.fields))
    if clv is not None and clv.empty:
        st.info(tr("corp.empty"))
    elif clv is not None:
        view.show_value_matrix(viewer, corporate.value_matrix(clv))
        view.show_clv_notes(viewer, clv)  # companies without settlements; the models used
        st.markdown(f"**{tr('corp.clv_top')}**")
        st.dataframe(view.clv_table(viewer, clv, top_n), hide_index=True, key="corp_clv_table")

# ---------------------------------------------------------------------------- social value
with social_tab:
    st.caption(view.social_caption(viewer))
    social = None
    if needs.require(viewer, "corp_social", what="corp.tab_social"):
        social = shell.cached(corporate.social_value, viewer)
    if social is not None and social.empty:
        st.info(tr("corp.empty"))
    elif social is not None:
        top = social.head(top_n)
        st.dataframe(view.social_table(viewer, top), hide_index=True, key="corp_social_table")
        labels = view.company_labels(viewer, top)
        corp_id = st.selectbox(tr("corp.network_pick"), list(labels)[:50], key="corp_network",
                               format_func=lambda c: f"{labels[c]} · {c}")  # fmt: skip
        try:
            nodes, edges = corporate.neighbourhood(wh, scope, corp_id)
        except AccessDenied:
            shell.audit(viewer, "view", [corp_id], "corp_network", once=True, outcome="refused")
            st.error(tr("client.refused"))
        else:
            shell.audit(viewer, "view", [corp_id], "corp_network", once=True)
            view.show_network(viewer, labels[corp_id], nodes, edges)

# ---------------------------------------------------------------------------- credit
with credit_tab:
    st.caption(tr("credit.help"))
    source = st.radio(tr("credit.source"), ["demo", "upload"], horizontal=True, key="credit_source",
                      format_func=lambda s: tr(f"credit.source_{s}"))  # fmt: skip
    demo = source == "demo"
    table, target, bad_label = None, None, None
    if demo and needs.require(viewer, "corp_credit", what="corp.tab_credit"):
        table = shell.cached(scorecard.credit_training_table, viewer)
        target, bad_label = "default_flag", True
        st.caption(view.training_note(viewer, table))
    elif not demo:
        up = st.file_uploader(tr("credit.upload"), type=view.UPLOAD_TYPES, key="credit_file")
        st.caption(tr("credit.upload_help"))
        table = view.upload_table(viewer, up)
    chosen = not demo and table is not None  # an uploaded table: its target is chosen here
    if chosen:
        cols = list(table.columns)
        guess = view.guess_target(cols)
        a, b = st.columns(2)
        target = a.selectbox(tr("credit.target"), [None, *cols],
                             index=cols.index(guess) + 1 if guess else 0, key="credit_target",
                             format_func=lambda c: tr("credit.pick_target") if c is None else c)  # fmt: skip
    if chosen and target is None:
        view.show_target_hint(viewer, table)
    elif chosen:
        seen = view.target_values(table, target)
        bad_label = b.selectbox(tr("credit.bad_label"), seen or [1], index=view.guess_bad(seen),
                                key="credit_bad", format_func=str)  # fmt: skip

    card = None
    if table is not None and target is not None:
        card = view.train_card(viewer, table, target, bad_label)
    if card is not None:
        view.show_card(viewer, card, named=demo)  # the demo's columns by name
        # the demo scores the viewer's own clients; an uploaded file scores its own rows
        mine = shell.cached(scorecard.corporate_credit_table, viewer) if demo else table
        scored = scorecard.apply_overrides(card.score(mine))
        view.show_grades(viewer, card, card.grade_distribution(scored, column="final_grade"))
        st.markdown(f"**{tr('credit.one')}**")  # --- one client
        companies = shell.cached(corporate.corporate_rfm, viewer) if demo else None
        names = view.company_labels(viewer, companies) if demo else None
        options = view.client_options(viewer, scored, names)
    r = None
    if card is not None and not options:
        st.info(tr("corp.empty"))
    elif card is not None:
        i = st.selectbox(tr("credit.pick"), range(len(options)), key="credit_pick",
                         format_func=options.__getitem__)  # fmt: skip
        one = scored.iloc[[i]]
        r = one.iloc[0]
        if demo:  # one of the bank's companies (an upload's rows are its own)
            shell.audit(viewer, "view", [r["corp_id"]], "corp_credit", once=True)
        view.show_one(viewer, card, one, named=demo)
    if card is not None:  # --- grade adjustments after the model
        changed = view.show_overrides(viewer, scorecard.override_rules(), scored, named=demo)

    # --- recording them: deciders on the bank's own companies
    deciding = card is not None and demo and access.may(scope, "set_grade")
    if card is not None and demo and not deciding:
        st.caption(tr("credit.deciders_only"))
    ws = shell.workspace() if deciding else None
    snap = viewer.snapshot_path.rsplit("/", 1)[-1]
    if deciding and not changed.empty and st.button(tr("credit.record"), key="credit_record"):
        n = scorecard.record_rule_overrides(ws, wh, scope, scored, scope.viewer_id, snap)
        st.success(tr("credit.recorded", n=n))
    form, saved = (st.form("credit_manual") if deciding and r is not None else None), False
    if form is not None:
        form.markdown(tr("credit.manual", corp=r.get("corp_id", "")))
        g = form.selectbox(tr("credit.final_grade"), scorecard.GRADES,
                           index=scorecard.GRADES.index(r["final_grade"]), key="credit_manual_grade")  # fmt: skip
        why = form.text_input(tr("credit.manual_reason"), max_chars=500, key="credit_manual_reason")
        saved = form.form_submit_button(tr("credit.manual_save"), key="credit_manual_save")
    if saved:
        try:
            scorecard.record_manual_grade(ws, wh, scope, r["corp_id"], r["model_grade"], g,
                                          why, scope.viewer_id, float(r["score"]), snap)  # fmt: skip
        except (AccessDenied, ValueError):
            form.error(tr("credit.manual_invalid"))
        else:
            form.success(tr("credit.recorded", n=1))
            with form:
                notes.warn_now(viewer, why)
    if deciding:
        view.show_grade_log(viewer, scorecard.recorded_grades(ws, wh, scope))
