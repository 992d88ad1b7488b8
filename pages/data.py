"""数据管理 Data: import the bank's export files (check, report, import), the kept snapshots with
rollback, and blank templates with the data dictionary."""

from datetime import datetime

import streamlit as st

from analytics import access, snapshot, store
from analytics.importer import mappings, pipeline
from ui import audit_view, import_view, shell

viewer = shell.page("data")
tr, lang = viewer.t, viewer.lang
st.title(tr("page.data"))
st.caption(tr("imp.caption"))
may_import = access.may(viewer.scope, "import")
reads_audit = access.may(viewer.scope, "read_audit")
labels = [tr("imp.tab_import"), tr("imp.tab_snapshots"), tr("imp.tab_templates")]
# the audit tab runs (and records the reading) only when it is opened, not on every visit
tabs = st.tabs(labels + [tr("audit.tab")] * reads_audit, key="data_tabs", on_change="rerun")
import_tab, snap_tab, tpl_tab = tabs[:3]

with import_tab:
    if viewer.demo_mode and access.may(viewer.scope, "check_import"):
        st.info(tr("imp.demo_no_import"))
    elif not may_import:
        st.info(tr("imp.check_only"))
    a, b = st.columns(2)
    as_of = a.date_input(
        tr("imp.as_of"), value=datetime.now().date(), key="imp_as_of"
    )  # the files' date
    _, branches, _ = shell.snapshot_facts(viewer.snapshot_path)
    own = (
        list(viewer.scope.branch_ids)
        if viewer.scope.role == "manager"
        else list(branches["branch_id"])
    )
    branch = b.selectbox(tr("imp.branch"), own, index=0 if own else None, key="imp_branch",
                         help=tr("imp.branch_help"), accept_new_options=viewer.scope.role != "manager")  # fmt: skip
    uploads = st.file_uploader(tr("imp.files"), type=["csv", "xlsx", "txt"], accept_multiple_files=True,
                               key="imp_files", help=tr("imp.files_help"))  # fmt: skip
    samples = st.multiselect(tr("imp.samples"), import_view.sample_files(), key="imp_samples",
                             help=tr("imp.samples_help"), placeholder=tr("imp.samples_pick"))  # fmt: skip
    saved = mappings.saved_mapping(shell.workspace())
    files_in = [*(uploads or []), *(import_view.sample(name) for name in samples)]
    chosen = [import_view.file_panel(viewer, u, saved, n) for n, u in enumerate(files_in)]
    if chosen:
        c1, c2, c3 = st.columns(3)
        do_check = c1.button(tr("imp.check"), key="imp_check")
        do_import = c2.button(
            tr("imp.import"), key="imp_import", type="primary", disabled=not may_import
        )
        if c3.button(tr("imp.save_mapping"), key="imp_save", disabled=not may_import):
            for c in chosen:
                if c.table:
                    mappings.save_mapping(
                        shell.workspace(), c.table, c.mapping_rows, viewer.scope.viewer_id
                    )
            st.toast(tr("imp.mapping_saved"))
        if do_check or do_import:
            bar = st.progress(0.0, text=tr("imp.working"))
            with import_view.spooled(chosen) as files:
                run = pipeline.load if do_import and may_import else pipeline.check
                report = run(files, as_of=as_of, scope=viewer.scope, branch=branch,
                             mapping=import_view.mapping_of(chosen),
                             progress=lambda f, s: bar.progress(f, text=tr("imp.working")))  # fmt: skip
            bar.empty()
            if report.snapshot:
                shell.audit(
                    viewer,
                    "import",
                    detail=f"{report.snapshot}: " + ", ".join(c.name for c in chosen),
                )
            st.session_state["imp_report"] = report
        if "imp_report" in st.session_state:
            import_view.show_report(viewer, st.session_state["imp_report"])

with snap_tab:
    kept = store.list_snapshots()
    st.dataframe(import_view.snapshot_frame(viewer, kept), hide_index=True)
    names = [
        n
        for n, cur, ok in zip(kept["name"], kept["current"], kept["valid"], strict=True)
        if ok and not cur
    ]
    if access.may(viewer.scope, "rollback") and names:
        pick = st.selectbox(tr("snap.pick"), names, key="snap_pick")
        if st.button(tr("snap.make_current"), key="snap_make_current"):
            store.make_current(pick)
            shell.audit(viewer, "rollback", detail=pick)
            st.session_state.pop("imp_report", None)
            st.rerun()
    tables = snapshot.imported_tables(shell.warehouse(viewer.snapshot_path))
    st.caption(tr("snap.tables", tables=import_view.table_names(viewer, tables)))

with tpl_tab:
    import_view.templates(viewer)

if reads_audit and tabs[3].open:
    with tabs[3]:
        audit_view.show(viewer)
