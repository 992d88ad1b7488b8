"""三性平衡 Asset-allocation check: scores against the target band, the four pockets, findings,
moves with products on the shelf, a what-if editor, the meeting sheet, and the branch picture."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import allocation, client360
from analytics.access import AccessDenied
from ui import audit_guard, charts, client_list, describe, formats, meeting_sheet, needs, shell
from ui.client_list import Column

viewer = shell.page("allocation")
tr, lang = viewer.t, viewer.lang
st.title(tr("page.allocation"))
st.caption(tr("al.caption", scope=shell.scope_label(viewer), date=formats.day(viewer.as_of, lang)))
DIMS = (("safety", "al.safety"), ("liquidity", "al.liquidity"), ("return_", "al.return"))
NO_RISK = ""  # the editor's risk level of a product that has none

check_tab, branch_tab = st.tabs([tr("al.tab_check"), tr("al.tab_branch")])
with check_tab:
    sources = ["client", "example", "blank"]
    source = st.segmented_control(
        tr("al.source"), sources, key="al_source",
        default="client" if st.query_params.get("client") else "example",
        format_func=lambda s: tr(f"al.source.{s}"),
    ) or "example"  # fmt: skip
    who = tr(f"al.source.{source}")
    if source == "client":
        client_id = shell.client_id_input(tr("client.pick"))
        if not client_id:
            st.info(tr("client.pick_help"))
            st.stop()
        if not needs.require(viewer, "holdings", what="al.source.client"):  # no positions to check
            st.stop()
        try:
            portfolio, kyc = shell.cached(allocation.client_portfolio, viewer, client_id)
            card = shell.cached(client360.client_card, viewer, client_id)
        except AccessDenied:
            shell.audit(viewer, "view", [client_id], "allocation", once=True, outcome="refused")
            st.error(tr("client.refused"))
            st.stop()
        shell.audit(viewer, "view", [client_id], "allocation", once=True)  # before the portfolio
        who = f"{card.name_zh if lang == 'zh' else card.name_en} ({client_id})"
    else:
        household = (
            allocation.example_household if source == "example" else allocation.blank_household
        )
        portfolio, kyc = household(viewer.as_of)
        a, b, c = st.columns(3)
        levels = ["C1", "C2", "C3", "C4", "C5"]
        level = a.selectbox(
            tr("al.risk_level"),
            levels,
            index=levels.index(kyc.risk_level or "C3"),
            key=f"al_level_{source}",
        )
        spending = b.number_input(
            tr("al.spending"),
            min_value=0.0,
            value=float(kyc.monthly_spending or 0),
            step=1000.0,
            key=f"al_spend_{source}",
        )
        children = c.number_input(
            tr("al.children"), min_value=0, value=int(kyc.children), step=1, key=f"al_kids_{source}"
        )
        kyc = allocation.KYC(
            level, kyc.assessed_on or kyc.as_of, spending, int(children), kyc.as_of
        )

    if lang == "en" and "name_en" in portfolio:
        portfolio = portfolio.assign(name=portfolio["name_en"].fillna(portfolio["name"]))
    st.markdown(f"**{tr('al.editor')}**")
    categories = [c for c in allocation.score_sheet()["category"].unique()]
    # a product without a risk level (a deposit) shows "—" in the editor, never "None"
    rows = portfolio[["category", "name", "risk_level", "amount"]]
    rows = rows.assign(risk_level=rows["risk_level"].fillna(NO_RISK))
    edited = st.data_editor(
        rows,
        num_rows="dynamic", hide_index=True, key=f"al_editor_{source}",
        column_config={
            "category": st.column_config.SelectboxColumn(tr("col.category"), options=categories, required=True,
                                                         format_func=lambda c: tr(f"cat.{c}")),
            "name": st.column_config.TextColumn(tr("col.product"), required=True),
            "risk_level": st.column_config.SelectboxColumn(tr("col.risk"), options=[NO_RISK, "R1", "R2", "R3", "R4", "R5"],
                                                           format_func=lambda r: r or tr("common.none")),
            "amount": st.column_config.NumberColumn(tr("col.amount"), format="localized"),
        },
    )  # fmt: skip
    edited = edited.assign(
        risk_level=edited["risk_level"].where(edited["risk_level"].fillna(NO_RISK) != NO_RISK)
    )
    problems = allocation.validate_portfolio(edited)
    for problem in problems:
        why, _, row = problem.partition(":")
        if why in ("amount_negative", "amount_not_number"):
            st.error(tr("al.bad_input", row=int(row) + 1, why=tr(f"al.why.{why}")))
    if not [p for p in problems if p.startswith("amount_")]:
        portfolio = allocation.with_edits(portfolio, edited)

    found = allocation.findings(portfolio, kyc)
    moves = allocation.propose_moves(
        portfolio, kyc, allocation.shelf(shell.warehouse(viewer.snapshot_path))
    )
    after = allocation.apply_moves(portfolio, moves)
    now_scores, after_scores = allocation.scores(portfolio), allocation.scores(after)
    band = allocation.target_band(kyc.risk_level) if kyc.risk_level else None

    left, right = st.columns(2)
    with left:
        st.subheader(tr("al.scores"))
        labels = [tr(k) for _, k in DIMS]
        fig = go.Figure()
        if band:
            lo = [band[d]["min"] or 1 for d, _ in DIMS]
            hi = [band[d]["max"] or 5 for d, _ in DIMS]
            fig.add_scatterpolar(r=hi + hi[:1], theta=labels + labels[:1], name=tr("al.band_max"),
                                 line=dict(dash="dot", color="#8c96a8"))  # fmt: skip
            fig.add_scatterpolar(r=lo + lo[:1], theta=labels + labels[:1], name=tr("al.band_min"),
                                 line=dict(dash="dash", color="#f2b134"))  # fmt: skip
        for name, sc, colour in (
            (tr("al.now"), now_scores, "#1f2d5a"),
            (tr("al.after"), after_scores, "#3c78b4"),
        ):
            if sc["safety"] is not None:
                r = [sc[d] for d, _ in DIMS]
                fig.add_scatterpolar(r=r + r[:1], theta=labels + labels[:1], name=name, fill="toself",
                                     line_color=colour, opacity=0.6)  # fmt: skip
        fig.update_polars(radialaxis=dict(range=[0, 5], dtick=1))
        st.plotly_chart(charts.style(fig, 340), key="al_radar")
        st.dataframe(
            pd.DataFrame({
                "": labels,
                tr("al.now"): ["—" if now_scores[d] is None else f"{now_scores[d]:.2f}" for d, _ in DIMS],
                tr("al.after"): ["—" if after_scores[d] is None else f"{after_scores[d]:.2f}" for d, _ in DIMS],
                tr("al.band_min"): [f"{band[d]['min']:.1f}" if band and band[d]["min"] is not None else "—" for d, _ in DIMS],
                tr("al.band_max"): [f"{band[d]['max']:.1f}" if band and band[d]["max"] is not None else "—" for d, _ in DIMS],
            }),
            hide_index=True,
        )  # fmt: skip
    with right:
        st.subheader(tr("al.pockets"))
        pk = allocation.pockets(portfolio, kyc)
        fig = go.Figure()
        fig.add_bar(x=[tr(f"al.pocket.{p}") for p in pk["pocket"]], y=pk["target"], name=tr("al.pocket_target"),
                    marker_color="#c6dbef", text=[formats.pct(v, 0) for v in pk["target"]])  # fmt: skip
        fig.add_bar(x=[tr(f"al.pocket.{p}") for p in pk["pocket"]], y=pk["share"], name=tr("al.pocket_actual"),
                    marker_color="#1f2d5a", text=[formats.pct(v) for v in pk["share"]])  # fmt: skip
        fig.update_yaxes(tickformat=".0%")
        fig.update_layout(barmode="group")
        st.plotly_chart(charts.style(fig, 340), key="al_pockets")

    st.subheader(tr("al.findings"))
    finding_lines = [(f.severity, describe.finding(f.code, f.fields, lang)) for f in found]
    for severity, text in finding_lines:
        icon = {"high": ":material/error:", "medium": ":material/warning:"}.get(
            severity, ":material/info:"
        )
        st.markdown(f"{icon} **{tr(f'sev.{severity}')}** · {formats.md(text)}")
    if not found:
        st.success(tr("al.no_findings"))

    st.subheader(tr("al.moves"))
    needs.note(viewer, "shelf", what="al.moves")
    move_lines = [describe.move(m, lang) for m in moves]
    for line in move_lines:
        st.markdown(f"- {formats.md(line)}")
    if not moves:
        st.caption(tr("al.no_moves"))

    sheet = meeting_sheet.sheet(
        lang, tr("al.sheet_title"),
        f"{tr('al.sheet_client')}: {who} · {tr('al.risk_level')}: {kyc.risk_level or '—'} · "
        f"{tr('al.sheet_date')}: {formats.day(viewer.as_of, lang)}",
        [
            (tr("al.scores"), meeting_sheet.table(
                ["", tr("al.now"), tr("al.after"), tr("al.band_min"), tr("al.band_max")],
                [[tr(k), "—" if now_scores[d] is None else f"{now_scores[d]:.2f}",
                  "—" if after_scores[d] is None else f"{after_scores[d]:.2f}",
                  (band[d]["min"] if band and band[d]["min"] is not None else "—"),
                  (band[d]["max"] if band and band[d]["max"] is not None else "—")] for d, k in DIMS],
                numeric={1, 2, 3, 4})),
            (tr("al.pockets"), meeting_sheet.table(
                ["", tr("al.pocket_actual"), tr("al.pocket_target")],
                [[tr(f"al.pocket.{p}"), formats.pct(s), formats.pct(t, 0)] for p, s, t in zip(pk["pocket"], pk["share"], pk["target"], strict=True)],
                numeric={1, 2})),
            (tr("al.findings"), meeting_sheet.table([tr("col.severity"), tr("col.finding")],
                [[tr(f"sev.{s}"), text] for s, text in finding_lines] or [["", tr("al.no_findings")]])),
            (tr("al.moves"), meeting_sheet.table([tr("al.moves")], [[line] for line in move_lines] or [[tr("al.no_moves")]])),
        ],
        tr("al.sheet_note"),
    )  # fmt: skip
    if source == "client":  # the client's sheet is handed out only once its export is recorded
        audit_guard.download_button(viewer, tr("al.sheet"), sheet.encode("utf-8"), "meeting-sheet.html",
                                    "text/html", key="al_sheet", client_ids=[client_id])  # fmt: skip
    else:  # the example or a blank household: no client's data
        st.download_button(tr("al.sheet"), sheet.encode("utf-8"), "meeting-sheet.html", "text/html",
                           on_click="ignore", key="al_sheet")  # fmt: skip

with branch_tab:
    st.caption(tr("al.branch_help"))
    if needs.require(viewer, "holdings", what="al.tab_branch"):
        summary = shell.cached(allocation.branch_findings, viewer)
        summary = summary[summary["clients"] > 0]
        st.dataframe(
            pd.DataFrame({
                tr("col.finding"): [tr(f"fname.{c}") for c in summary["code"]],
                tr("col.severity"): [tr(f"sev.{s}") for s in summary["severity"]],
                tr("col.clients"): summary["clients"],
                tr("col.aum"): [formats.money(v, lang) for v in summary["aum_involved"]],
            }),
            hide_index=True,
        )  # fmt: skip
        if len(summary):
            codes = list(summary["code"])
            code = st.selectbox(tr("al.pick_finding"), codes, format_func=lambda c: tr(f"fname.{c}"),
                                index=codes.index("suitability") if "suitability" in codes else 0, key="al_finding")  # fmt: skip
            members = shell.cached(allocation.finding_members, viewer, code)
            client_list.show(viewer, members, "al_list", {"amount": Column("col.amount_involved", "money")},
                             sort_by="amount", export_name=f"allocation-{code}")  # fmt: skip
