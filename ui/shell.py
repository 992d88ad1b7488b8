"""The app shell shared by ``app.py`` and every page (DESIGN.md §4–§6): which snapshot is open, who is
viewing, in which language, which pages their role may open, and cached calls into ``analytics``.

Every page starts with ``viewer = shell.page("<page id>")``: it resolves the viewer again and stops
the script with a message when the role may not open the page, so a page opened directly is guarded
the same way as one reached through the navigation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from analytics import access, snapshot, store
from analytics.access import Scope
from ui.i18n import LANGS, lang_from_locale, t

ALL_ROLES = access.ROLES


@dataclass(frozen=True)
class PageSpec:
    id: str
    path: str
    url_path: str
    title_key: str
    icon: str
    section_key: str
    roles: tuple[str, ...] = ALL_ROLES


# The views in the order of the navigation. A page is listed here when it exists.
PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "overview", "pages/overview.py", "overview", "page.overview", ":material/dashboard:",
        "section.branch",
    ),
    PageSpec(
        "segmentation", "pages/segmentation.py", "segmentation", "page.segmentation",
        ":material/donut_small:", "section.clients",
    ),
    PageSpec(
        "threshold", "pages/threshold.py", "threshold", "page.threshold",
        ":material/trending_up:", "section.clients",
    ),
    PageSpec(
        "seniors", "pages/seniors.py", "seniors", "page.seniors", ":material/elderly:",
        "section.clients",
    ),
    PageSpec(
        "high_end", "pages/high_end.py", "high_end", "page.high_end", ":material/diamond:",
        "section.clients",
    ),
    PageSpec(
        "allocation", "pages/allocation.py", "allocation", "page.allocation",
        ":material/balance:", "section.clients",
    ),
    PageSpec(
        "client", "pages/client.py", "client", "page.client", ":material/person:",
        "section.clients",
    ),
    PageSpec(
        "contact_plan", "pages/contact_plan.py", "contact_plan", "page.contact_plan",
        ":material/event_available:", "section.marketing",
    ),
    PageSpec(
        "invitations", "pages/invitations.py", "invitations", "page.invitations",
        ":material/campaign:", "section.marketing",
    ),
    PageSpec(
        "corporate", "pages/corporate.py", "corporate", "page.corporate",
        ":material/corporate_fare:", "section.corporate",
    ),
    PageSpec(
        "data", "pages/data.py", "data", "page.data", ":material/database:", "section.data",
        roles=("head_office", "manager", "trainer"),
    ),
    PageSpec(
        "settings", "pages/settings.py", "settings", "page.settings", ":material/tune:",
        "section.rules",
    ),
)  # fmt: skip
PAGES_BY_ID = {p.id: p for p in PAGES}


@dataclass(frozen=True)
class Viewer:
    """Who is looking, in which language, at which snapshot."""

    scope: Scope
    lang: str
    demo_mode: bool
    snapshot_path: str
    as_of: date
    source: str

    def t(self, key: str, **fields) -> str:
        return t(key, self.lang, **fields)


# ---------------------------------------------------------------------------- snapshot


@st.cache_resource(max_entries=3, show_spinner=False)
def _open_warehouse(path: str) -> store.Database:
    return store.open_warehouse(path)


def warehouse(path: str) -> store.Database:
    """The cached read-only connection to a snapshot file (one per file per process)."""
    return _open_warehouse(path)


def _current_snapshot_path(lang: str) -> str:
    """The snapshot in force; builds the demo on first start. Reading ``CURRENT`` every run is how
    the app notices a newly published snapshot. On a data folder that holds a bank's data a
    missing or damaged snapshot is never replaced by the demo: the app says so and offers the last
    good snapshot instead."""
    try:
        path = store.current_snapshot()
        if path is None:
            if store.holds_bank_data():
                path = store.ensure_current_snapshot()  # raises SnapshotMissing
            with st.spinner(t("shell.building_demo", lang)):
                path = store.ensure_current_snapshot()
        _check_snapshot(str(path))
    except store.SnapshotMissing as e:
        _snapshot_recovery(e.code, e.candidates, lang)
    except store.SnapshotInvalid:
        _snapshot_recovery("current_missing_file", store.good_snapshots(), lang)
    return str(path)


@st.cache_resource(max_entries=8, show_spinner=False)
def _check_snapshot(path: str) -> None:
    """Verify a snapshot once per file and process before it is opened (a damaged file that was
    published by hand must not take every page down)."""
    store.verify_snapshot(path)


def _snapshot_recovery(code: str, candidates: list[str], lang: str) -> None:
    """Say that the current snapshot is missing or damaged and offer the last good one."""
    st.error(t(f"snap.{code}", lang))
    if not candidates:
        st.info(t("snap.none_good", lang))
        st.stop()
    name = candidates[0]
    st.info(t("snap.offer", lang, name=name))
    if demo_mode():
        if st.button(t("snap.restore", lang), key="snap_restore"):
            store.make_current(name)
            store.AuditLog().record(store.AuditEvent("recovery", "rollback", (), name))
            st.rerun()
    else:
        st.caption(t("snap.restore_cli", lang, name=name))
    st.stop()


@st.cache_data(max_entries=8, show_spinner=False)
def snapshot_facts(path: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The snapshot's meta, branches and RMs (small; cached per snapshot file)."""
    wh = warehouse(path)
    return snapshot.meta(wh), snapshot.branches(wh), snapshot.rms(wh)


# ---------------------------------------------------------------------------- viewer


def demo_mode() -> bool:
    """Demo mode unless a login is configured (an ``[auth]`` section in Streamlit's secrets)."""
    try:
        return "auth" not in st.secrets
    except Exception:  # no secrets file at all
        return True


def _lang() -> str:
    if "_lang" not in st.session_state:
        q = st.query_params.get("lang")
        st.session_state["_lang"] = q if q in LANGS else lang_from_locale(st.context.locale)
    return st.session_state["_lang"]


def current_viewer() -> Viewer:
    """Resolve the viewer for this run; stops the script with a message if they may see nothing."""
    lang = _lang()
    path = _current_snapshot_path(lang)
    meta, branches, rms = snapshot_facts(path)
    is_demo = demo_mode()
    if is_demo:
        if "_as" not in st.session_state:
            st.session_state["_as"] = st.query_params.get("as", "trainer")
        scope = access.parse_as(
            st.session_state["_as"],
            list(branches["branch_id"]),
            dict(zip(rms["rm_id"], rms["branch_id"], strict=True)),
        )
        st.session_state["_as"] = access.as_value(scope)
        st.query_params["as"] = st.session_state["_as"]
    else:
        scope = _logged_in_scope(lang)
    st.query_params["lang"] = lang
    try:
        access.check_trainer_snapshot(scope, meta.get("source", ""))
    except access.AccessDenied:
        st.error(t("access.trainer_demo_only", lang))
        st.stop()
    return Viewer(
        scope=scope,
        lang=lang,
        demo_mode=is_demo,
        snapshot_path=path,
        as_of=date.fromisoformat(meta["as_of"]),
        source=meta.get("source", ""),
    )


def _logged_in_scope(lang: str) -> Scope:
    """Outside demo mode the viewer is the logged-in user, mapped to a role in the workspace."""
    if not st.user.is_logged_in:
        st.info(t("access.login_needed", lang))
        st.button(t("access.login", lang), on_click=st.login)
        st.stop()
    ws = workspace()
    scope = access.scope_for_user(ws, str(st.user.email))
    if scope is None:
        st.error(t("access.unknown_user", lang, user=st.user.email))
        st.stop()
    return scope


@st.cache_resource(show_spinner=False)
def workspace() -> store.Database:
    """The read-write workspace database (one connection per process)."""
    return store.open_workspace()


def main() -> None:
    """The whole app: page config, viewer, navigation by role, sidebar, then the chosen page."""
    st.set_page_config(
        page_title="BranchLens", page_icon=":material/account_balance:", layout="wide"
    )
    viewer = current_viewer()
    nav = st.navigation(navigation(viewer))
    sidebar(viewer)
    st.session_state["_in_app"] = True
    try:
        nav.run()
    finally:
        st.session_state["_in_app"] = False


def page(page_id: str) -> Viewer:
    """The guard every page starts with: the viewer, or a stop with a message if refused.

    A first visitor whose URL names a page can have that script run directly, without app.py
    (Streamlit still knows the ``pages/`` folder then). The guard notices and runs the app itself,
    so the visitor gets the same navigation, sidebar and role checks as everyone else.
    """
    if not st.session_state.get("_in_app"):
        main()
        st.stop()
    viewer = current_viewer()
    if viewer.scope.role not in PAGES_BY_ID[page_id].roles:
        st.error(viewer.t("access.page_refused"))
        st.stop()
    return viewer


def scope_label(viewer: Viewer) -> str:
    """The viewer's role and reach in words: 总行 / 网点负责人 · 朝阳路支行 / 客户经理 · 王芳."""
    _, branches, rms = snapshot_facts(viewer.snapshot_path)
    return _role_label(viewer.scope, viewer.lang, branches, rms)


def _role_label(scope: Scope, lang: str, branches: pd.DataFrame, rms: pd.DataFrame) -> str:
    name_col = "name_zh" if lang == "zh" else "name_en"
    if scope.role == "manager":
        row = branches[branches["branch_id"] == scope.branch_ids[0]]
        return t("role.manager", lang, branch=row[name_col].iloc[0] if len(row) else "")
    if scope.role == "rm":
        row = rms[rms["rm_id"] == scope.rm_id]
        return t("role.rm", lang, name=row[name_col].iloc[0] if len(row) else scope.rm_id)
    return t(f"role.{scope.role}", lang)


# ---------------------------------------------------------------------------- sidebar & navigation


def sidebar(viewer: Viewer) -> None:
    """Language switch, the demo role switcher and the snapshot's as-of month."""
    with st.sidebar:
        st.segmented_control(
            t("sidebar.language", viewer.lang),
            options=list(LANGS),
            format_func=lambda code: t("lang.name", code),
            default=viewer.lang,
            key="lang_widget",
            on_change=_set_lang,
        )
        if viewer.demo_mode:
            _, branches, rms = snapshot_facts(viewer.snapshot_path)
            options = ["trainer", "head_office"]
            options += [f"manager:{b}" for b in branches["branch_id"]]
            options += [f"rm:{r}" for r in rms["rm_id"]]
            branch_ids = tuple(branches["branch_id"])
            rm_branch = dict(zip(rms["rm_id"], rms["branch_id"], strict=True))

            def label(value: str) -> str:
                scope = access.parse_as(value, list(branch_ids), rm_branch)
                return _role_label(scope, viewer.lang, branches, rms)

            current = access.as_value(viewer.scope)
            st.selectbox(
                t("sidebar.view_as", viewer.lang),
                options,
                index=options.index(current) if current in options else 0,
                format_func=label,
                key="as_widget",
                on_change=_set_as,
            )
        st.caption(t("sidebar.as_of", viewer.lang, date=viewer.as_of.isoformat()))
        if viewer.source == "demo":
            st.caption(f"**{t('sidebar.demo', viewer.lang)}**")
        else:
            meta, _, _ = snapshot_facts(viewer.snapshot_path)
            when = (meta.get("created_at") or "")[:10]
            st.caption(f"**{t('sidebar.bank_data', viewer.lang, date=when)}**")


def _set_lang() -> None:
    value = st.session_state.get("lang_widget")
    if value in LANGS:  # a segmented control can be cleared; keep the language then
        st.session_state["_lang"] = value
        st.query_params["lang"] = value


def _set_as() -> None:
    st.session_state["_as"] = st.session_state["as_widget"]
    st.query_params["as"] = st.session_state["_as"]


def navigation(viewer: Viewer) -> dict[str, list]:
    """The pages the viewer's role may open, grouped by section, for ``st.navigation``."""
    sections: dict[str, list] = {}
    for spec in PAGES:
        if viewer.scope.role in spec.roles:
            sections.setdefault(viewer.t(spec.section_key), []).append(
                st.Page(
                    spec.path,
                    title=viewer.t(spec.title_key),
                    icon=spec.icon,
                    url_path=spec.url_path,
                    default=spec.id == PAGES[0].id,
                )
            )
    return sections


# ---------------------------------------------------------------------------- audit


def audit(viewer: Viewer, action: str, client_ids=(), detail: str = "", once: bool = False) -> None:
    """Append to the audit log who viewed, unmasked or exported which clients' data. With
    ``once``, the same event is recorded once per browser session (not on every rerun)."""
    event = store.AuditEvent(viewer.scope.viewer_id, action, tuple(client_ids), detail)
    if once:
        seen = st.session_state.setdefault("_audited", set())
        if event in seen:
            return
        seen.add(event)
    store.AuditLog().record(event)


# ---------------------------------------------------------------------------- cached analytics


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_call(name: str, path: str, scope: Scope, args: tuple, _fn: Callable):
    return _fn(warehouse(path), scope, *args)


def cached(fn: Callable, viewer: Viewer, *args):
    """Call ``fn(warehouse, scope, *args)`` through ``st.cache_data``, keyed by the function, the
    snapshot file, the viewer's scope and the (small, hashable) arguments."""
    return _cached_call(
        f"{fn.__module__}.{fn.__qualname__}", viewer.snapshot_path, viewer.scope, args, fn
    )
