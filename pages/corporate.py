"""对公客户价值 Corporate value and credit: RFM, lifetime value (current vs future), social value
(the payment network) and a credit scorecard trained on the demo data or an uploaded history."""

import pandas as pd
import streamlit as st

from analytics import access, corporate, scorecard
from analytics.access import AccessDenied
from analytics.rfm import SEGMENTS
from analytics.settings import load_settings
from ui import charts, corporate_view, describe, formats, needs, notes, shell

viewer = shell.page("corporate")
tr, lang = viewer.t, viewer.lang
wh, scope = shell.warehouse(viewer.snapshot_path), viewer.scope
name = "name_zh" if lang == "zh" else "name_en"
top_n = int(load_settings()["client_lists"]["top_n"])

st.title(tr("corp.title"))
st.caption(
    tr("corp.caption", scope=shell.scope_label(viewer), date=formats.day(viewer.as_of, lang))
)

rfm_tab, clv_tab, social_tab, credit_tab = st.tabs(
    [tr("corp.tab_rfm"), tr("corp.tab_clv"), tr("corp.tab_social"), tr("corp.tab_credit")]
)


def company_table(df: pd.DataFrame, extra: dict) -> pd.DataFrame:
    """Company id, name, industry and size, then the view's own columns (label -> values)."""
    return pd.DataFrame({
        tr("corp.id"): df["corp_id"], tr("corp.name"): df[name],
        tr("corp.industry"): [describe.code("industry", i, lang) for i in df["industry"]],
        tr("corp.size"): [describe.code("size", s, lang) for s in df["size"]],
        **extra,
    })  # fmt: skip


# ---------------------------------------------------------------------------- RFM
with rfm_tab:
    st.caption(tr("corp.rfm_help"))
    if needs.require(viewer, "corp_rfm", what="corp.tab_rfm"):
        rfm = shell.cached(corporate.corporate_rfm, viewer)
        if rfm.empty:
            st.info(tr("corp.empty"))
        else:
            counts = rfm["segment"].value_counts().reindex(SEGMENTS, fill_value=0)
            seg = pd.DataFrame({
                "label": [tr(f"rfm.{s}") for s in SEGMENTS], "n": counts.to_numpy(),
                "text": [formats.count(n, lang) for n in counts],
            })  # fmt: skip
            st.plotly_chart(charts.hbar(seg, "n", "label", "text", height=320), key="corp_rfm_bars")
            pick = st.selectbox(tr("corp.rfm_pick"), [None, *SEGMENTS], key="corp_rfm_segment",
                                format_func=lambda s: tr("corp.all_segments") if s is None else tr(f"rfm.{s}"))  # fmt: skip
            rows = rfm if pick is None else rfm[rfm["segment"] == pick]
            rows = rows.sort_values(["monetary", "corp_id"], ascending=[False, True]).head(top_n)
            st.caption(
                tr(
                    "list.caption",
                    shown=len(rows),
                    total=len(rfm) if pick is None else int(counts[pick]),
                )
            )
            st.dataframe(company_table(rows, {
                tr("corp.recency"): rows["recency_days"],
                tr("corp.frequency"): [f"{f:.1f}" for f in rows["frequency"]],
                tr("corp.monetary"): [formats.money(m, lang) for m in rows["monetary"]],
                "RFM": rows["rfm_code"], tr("corp.segment"): [tr(f"rfm.{s}") for s in rows["segment"]],
            }), hide_index=True, key="corp_rfm_table")  # fmt: skip

# ---------------------------------------------------------------------------- lifetime value
with clv_tab:
    st.caption(tr("corp.clv_help"))
    if needs.require(viewer, "corp_clv", what="corp.tab_clv"):
        try:
            clv = shell.cached(corporate.corporate_clv, viewer)
        except corporate.ClvFitError as e:
            st.warning(tr(f"corp.clv_failed.{e.code}", **e.fields))
            clv = None
        if clv is not None and clv.empty:
            st.info(tr("corp.empty"))
        elif clv is not None:
            matrix = corporate.value_matrix(clv).set_index("quadrant")
            st.markdown(f"**{tr('corp.matrix')}**")
            for current in ("high", "low"):
                cols = st.columns(2)
                for col, future in zip(cols, ("high", "low"), strict=True):
                    q = f"{current}_{future}"
                    row = matrix.loc[q]
                    with col.container(border=True):
                        st.markdown(
                            f"**{tr(f'corp.q.{q}')}** · {tr('corp.n_clients', n=formats.count(row['clients'], lang))}"
                        )
                        st.caption(
                            tr(
                                "corp.q_money",
                                now=formats.money(row["profit_12m"], lang),
                                future=formats.money(row["future_profit_discounted"], lang),
                            )
                        )
                        st.markdown(tr(f"corp.strategy.{q}"))  # fmt: skip
            st.caption(corporate_view.no_settlement_note(viewer, clv) or "")
            st.markdown(f"**{tr('corp.clv_top')}**")
            top = clv.sort_values(["clv", "corp_id"], ascending=[False, True]).head(top_n)
            st.dataframe(company_table(top, {
                tr("corp.profit_12m"): [formats.money(v, lang) for v in top["profit_12m"]],
                tr("corp.expected_settlements"): [f"{v:.1f}" for v in top["expected_settlements"]],
                tr("corp.future_profit"): corporate_view.future_value_cells(viewer, top),
                tr("corp.clv"): [formats.money(v, lang) for v in top["clv"]],
                tr("corp.quadrant"): [tr(f"corp.q.{q}") for q in top["quadrant"]],
            }), hide_index=True, key="corp_clv_table")  # fmt: skip

# ---------------------------------------------------------------------------- social value
with social_tab:
    weights = load_settings()["corporate"]["social"]["weights"]
    st.caption(tr("corp.social_help", **{k: formats.pct(v, 0) for k, v in weights.items()}))
    if needs.require(viewer, "corp_social", what="corp.tab_social"):
        social = shell.cached(corporate.social_value, viewer)
        if social.empty:
            st.info(tr("corp.empty"))
        else:
            top = social.head(top_n)
            st.dataframe(company_table(top, {
                tr("corp.influence"): [round(float(v)) for v in top["influence"]],
                tr("corp.counterparties"): top["counterparties"],
                tr("corp.payroll"): top["payroll_headcount"],
                tr("corp.linked_aum"): [formats.money(v, lang) for v in top["linked_retail_aum"]],
            }), hide_index=True, key="corp_social_table")  # fmt: skip
            labels = dict(zip(top["corp_id"], top[name], strict=True))
            corp_id = st.selectbox(tr("corp.network_pick"), list(labels)[:50], key="corp_network",
                                   format_func=lambda c: f"{labels[c]} · {c}")  # fmt: skip
            try:
                nodes, edges = corporate.neighbourhood(wh, scope, corp_id)
            except AccessDenied:
                shell.audit(viewer, "view", [corp_id], "corp_network", once=True, outcome="refused")
                st.error(tr("client.refused"))
            else:
                shell.audit(viewer, "view", [corp_id], "corp_network", once=True)
                st.markdown(f"**{tr('corp.network', name=labels[corp_id])}**")
                st.plotly_chart(
                    corporate_view.network_figure(viewer, nodes, edges), key="corp_network_fig"
                )
                st.caption(tr("corp.network_help"))

# ---------------------------------------------------------------------------- credit
with credit_tab:
    st.caption(tr("credit.help"))
    source = st.radio(tr("credit.source"), ["demo", "upload"], horizontal=True, key="credit_source",
                      format_func=lambda s: tr(f"credit.source_{s}"))  # fmt: skip
    table, target, bad_label = None, None, None
    if source == "demo":
        if needs.require(viewer, "corp_credit", what="corp.tab_credit"):
            table = shell.cached(scorecard.credit_training_table, viewer)
            target, bad_label = "default_flag", True
            st.caption(tr("credit.demo_note", n=formats.count(len(table), lang)))
    else:
        up = st.file_uploader(
            tr("credit.upload"), type=corporate_view.UPLOAD_TYPES, key="credit_file"
        )
        st.caption(tr("credit.upload_help"))
        if up is not None:
            try:
                table = corporate_view.read_upload(up.name, up.getvalue())
            except corporate_view.UploadError as e:
                st.error(
                    tr(
                        f"credit.upload_error.{e.code}",
                        max=formats.count(corporate_view.MAX_UPLOAD_ROWS, lang),
                    )
                )
            if table is not None:
                cols = list(table.columns)
                guess = next(
                    (
                        c
                        for c in cols
                        if c.lower()
                        in ("default_flag", "default", "bad", "target", "label", "违约", "是否违约")
                    ),
                    None,
                )
                a, b = st.columns(2)
                target = a.selectbox(tr("credit.target"), [None, *cols],
                                     index=cols.index(guess) + 1 if guess else 0, key="credit_target",
                                     format_func=lambda c: tr("credit.pick_target") if c is None else c)  # fmt: skip
                if target is None:
                    two = [c for c in cols if table[c].dropna().nunique() == 2]
                    if two:
                        st.info(tr("credit.choose_target", cols=", ".join(two[:8])))
                    else:
                        st.error(tr("credit.error.no_target_column"))
                else:
                    seen = table[target].dropna().unique().tolist()[:20]
                    default = next(
                        (
                            i
                            for i, v in enumerate(seen)
                            if str(v).lower() in ("1", "true", "bad", "yes", "违约")
                        ),
                        0,
                    )
                    bad_label = b.selectbox(tr("credit.bad_label"), seen or [1], index=default if seen else 0,
                                            key="credit_bad", format_func=str)  # fmt: skip
    if table is not None and target is not None:
        try:
            card = corporate_view.train(table, target, bad_label)
        except scorecard.ScorecardInputError as e:
            st.error(corporate_view.error_message(viewer, e))
            card = None
        if card is not None:
            corporate_view.show_training_notes(viewer, card)
            m = st.columns(5)
            m[0].metric(tr("credit.auc"), f"{card.auc:.3f}", border=True)
            m[1].metric("KS", f"{card.ks:.3f}", border=True)
            m[2].metric("Gini", f"{card.gini:.3f}", border=True)
            m[3].metric("PSI", f"{card.psi:.3f}", border=True)
            m[4].metric(tr("credit.train_auc"), f"{card.train_auc:.3f}", border=True)
            st.caption(tr("credit.metrics_help", bad=formats.pct(card.bad_rate, 1), seed=card.seed,
                          train=formats.count(card.n_train, lang), holdout=formats.count(card.n_holdout, lang)))  # fmt: skip
            iv = card.iv
            st.markdown(f"**{tr('credit.iv')}**")
            st.dataframe(pd.DataFrame({
                tr("credit.feature"): iv["feature"], "IV": iv["iv"].round(3),
                tr("credit.kept"): [tr("common.yes") if k else tr("common.no") for k in iv["kept"]],
                tr("col.reason"): [tr(f"credit.drop.{r}") if isinstance(r, str) and r else "" for r in iv["reason"]],
            }), hide_index=True, key="credit_iv")  # fmt: skip
            with st.expander(tr("credit.table"), icon=":material/table:"):
                t = card.table
                st.dataframe(pd.DataFrame({
                    tr("credit.feature"): t["feature"], tr("credit.bin"): t["bin"],
                    tr("credit.clients"): t["count"], tr("credit.bad_rate"): [formats.pct(v) if pd.notna(v) else "" for v in t["bad_rate"]],
                    "WOE": t["woe"].round(3), tr("credit.points"): t["points"].round(1),
                }), hide_index=True, key="credit_table")  # fmt: skip
            # the demo scores the viewer's own clients; an uploaded file scores its own rows
            mine = (
                table
                if source == "upload"
                else shell.cached(scorecard.corporate_credit_table, viewer)
            )
            scored = scorecard.apply_overrides(card.score(mine))
            st.markdown(f"**{tr('credit.grades')}**")
            dist = card.grade_distribution(scored, column="final_grade")
            st.plotly_chart(corporate_view.grade_figure(viewer, dist), key="credit_grades")
            st.caption(corporate_view.grade_rule_text(viewer, card))

            # --- one client
            st.markdown(f"**{tr('credit.one')}**")
            if source == "demo":
                names = shell.cached(corporate.corporate_rfm, viewer).set_index("corp_id")[name]
                ids = scored["corp_id"].tolist()
                options = [f"{names.get(c, '')} · {c}" for c in ids]
            else:
                options = [tr("credit.row", n=i + 1) for i in range(len(scored))]
            if not options:
                st.info(tr("corp.empty"))
            else:
                i = st.selectbox(
                    tr("credit.pick"),
                    range(len(options)),
                    key="credit_pick",
                    format_func=options.__getitem__,
                )
                one = scored.iloc[[i]]
                r = one.iloc[0]
                if source == "demo":  # one of the bank's companies (an upload's rows are its own)
                    shell.audit(viewer, "view", [r["corp_id"]], "corp_credit", once=True)
                a, b, c = st.columns(3)
                a.metric(tr("credit.score"), f"{r['score']:.0f}", border=True)
                b.metric(tr("credit.model_grade"), r["model_grade"], border=True)
                c.metric(tr("credit.final_grade"), r["final_grade"],
                         tr(f"credit.reason.{r['override_reason_code']}") if r["override"] else None,
                         delta_color="off", delta_arrow="off", border=True)  # fmt: skip
                pts = card.points_frame(one).iloc[0]
                bins = {f: card.binning[f] for f in card.features}
                st.dataframe(pd.DataFrame({
                    tr("credit.feature"): [tr("credit.base"), *card.features],
                    tr("credit.value"): ["", *[str(one[f].iloc[0]) if f in one else "" for f in bins]],
                    tr("credit.points"): [round(card.base_points, 1), *[round(float(pts[f]), 1) for f in card.features]],
                }), hide_index=True, key="credit_one")  # fmt: skip

            # --- grade adjustments after the model
            st.markdown(f"**{tr('credit.overrides')}**")
            for rule in scorecard.override_rules():
                absent = (
                    "" if rule["column"] in scored.columns else f" ({tr('credit.rule_absent')})"
                )
                st.markdown("- " + tr(f"credit.rule_{rule['action']}", column=rule["column"],
                                      grade=rule.get("grade", ""), notches=rule.get("notches", 1),
                                      worst=rule.get("from_grade", "C")) + absent)  # fmt: skip
            changed = scored[scored["override"].notna()]
            st.caption(tr("credit.overrides_count", n=formats.count(len(changed), lang)))
            if not changed.empty:
                st.dataframe(pd.DataFrame({
                    tr("corp.id"): changed["corp_id"] if "corp_id" in changed else changed.index + 1,
                    tr("credit.score"): changed["score"].round(0),
                    tr("credit.model_grade"): changed["model_grade"],
                    tr("credit.final_grade"): changed["final_grade"],
                    tr("col.reason"): [tr(f"credit.reason.{x}") for x in changed["override_reason_code"]],
                }), hide_index=True, key="credit_changed")  # fmt: skip
            if source == "demo" and access.may(scope, "set_grade"):
                ws = shell.workspace()
                snap = viewer.snapshot_path.rsplit("/", 1)[-1]
                if not changed.empty and st.button(tr("credit.record"), key="credit_record"):
                    n = scorecard.record_rule_overrides(
                        ws, wh, scope, scored, scope.viewer_id, snap
                    )
                    st.success(tr("credit.recorded", n=n))
                if options:
                    with st.form("credit_manual"):
                        st.markdown(tr("credit.manual", corp=r.get("corp_id", "")))
                        g = st.selectbox(tr("credit.final_grade"), scorecard.GRADES,
                                         index=scorecard.GRADES.index(r["final_grade"]), key="credit_manual_grade")  # fmt: skip
                        why = st.text_input(
                            tr("credit.manual_reason"), max_chars=500, key="credit_manual_reason"
                        )
                        if st.form_submit_button(
                            tr("credit.manual_save"), key="credit_manual_save"
                        ):
                            try:
                                scorecard.record_manual_grade(ws, wh, scope, r["corp_id"], r["model_grade"], g,
                                                              why, scope.viewer_id, float(r["score"]), snap)  # fmt: skip
                            except (AccessDenied, ValueError):
                                st.error(tr("credit.manual_invalid"))
                            else:
                                st.success(tr("credit.recorded", n=1))
                                notes.warn_now(viewer, why)
                log = scorecard.recorded_grades(ws, wh, scope)
                if not log.empty:
                    st.markdown(f"**{tr('credit.log')}**")
                    st.dataframe(pd.DataFrame({
                        tr("corp.id"): log["corp_id"], tr("credit.model_grade"): log["model_grade"],
                        tr("credit.final_grade"): log["final_grade"],
                        tr("col.reason"): [tr(f"credit.reason.{x}") if rule != "manual" else x
                                           for x, rule in zip(log["reason"], log["rule"], strict=True)],
                        tr("credit.decided_by"): log["decided_by"],
                        tr("col.date"): [str(d)[:16] for d in log["decided_at"]],
                    }), hide_index=True, key="credit_log")  # fmt: skip
            elif source == "demo":
                st.caption(tr("credit.deciders_only"))
