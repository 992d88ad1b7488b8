"""The app shell shared by ``app.py`` and every page (DESIGN.md §4–§6): which snapshot is open, who is
viewing, in which language, which pages their role may open, and cached calls into ``analytics``.

Every page starts with ``viewer = shell.page("<page id>")``: it resolves the viewer again and stops
the script with a message when the role may not open the page, so a page opened directly is guarded
the same way as one reached through the navigation.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NoReturn

import pandas as pd
import streamlit as st

from analytics import access, business_day, snapshot, store
from analytics.access import Scope
from ui.formats import md
from ui.i18n import LANGS, lang_from_locale, t

ALL_ROLES = access.ROLES
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"


@dataclass(frozen=True)
class PageSpec:
    id: str
    path: str
    url_path: str
    title_key: str
    icon: str
    section_key: str

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles that may open the page: its ``page:<id>`` row of ``access.PERMISSIONS``."""
        return access.roles_for(f"page:{self.id}")


# The views in the order of the navigation. A page is listed here when it exists; who may open
# it is its ``page:<id>`` row in ``analytics/access.py``.
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
    ),
    PageSpec(
        "users", "pages/users.py", "users", "page.users", ":material/manage_accounts:",
        "section.data",
    ),
    PageSpec(
        "glossary", "pages/glossary.py", "glossary", "page.glossary", ":material/menu_book:",
        "section.rules",
    ),
    PageSpec(
        "settings", "pages/settings.py", "settings", "page.settings", ":material/tune:",
        "section.rules",
    ),
)  # fmt: skip
PAGES_BY_ID = {p.id: p for p in PAGES}


@dataclass(frozen=True)
class Viewer:
    """Who is looking, in which language, at which snapshot, on which business day.

    ``today`` is the viewer's business day (``analytics/business_day.py``): every window, day count
    and plan counts from it. ``stale`` says the imported snapshot is older than ``[stores]
    stale_after_days`` on that day (a banner says so)."""

    scope: Scope
    lang: str
    demo_mode: bool
    snapshot_path: str
    as_of: date
    source: str
    today: date
    stale: bool = False

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
        halt()
    name = candidates[0]
    st.info(t("snap.offer", lang, name=name))
    # restoring is an administrator's step on the server: nobody is logged in at this point
    st.code(f"python -m analytics.importer rollback {name}", language="bash")
    halt()


@st.cache_data(max_entries=8, show_spinner=False)
def snapshot_facts(path: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The snapshot's meta, branches and RMs (small; cached per snapshot file)."""
    wh = warehouse(path)
    return snapshot.meta(wh), snapshot.branches(wh), snapshot.rms(wh)


# ---------------------------------------------------------------------------- viewer


def _secrets_problem() -> tuple[str, int | None] | None:
    """(file, line) of a Streamlit secrets file that exists but does not parse, else None.
    Streamlit itself only logs a warning and carries on without secrets, which would silently
    turn a bank's deployment into demo mode; BranchLens stops instead."""
    from streamlit import config

    for name in config.get_option("secrets.files") or ():
        path = Path(name)
        if not path.is_file():
            continue
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            m = re.search(r"line (\d+)", str(e))
            return str(path), int(m.group(1)) if m else None
    return None


def login_mode() -> str:
    """How viewers log in: 'oidc' (an ``[auth]`` section in Streamlit's secrets: st.login),
    'local' (``[branchlens] login = "local"`` in the secrets: local accounts), or 'none'.
    A secrets file that does not parse stops the app with a message (never demo mode)."""
    problem = _secrets_problem()
    if problem is not None:
        lang = _lang()
        st.error(t("access.secrets_broken", lang, file=problem[0], line=problem[1] or "?"))
        halt()
    try:
        secrets = st.secrets.to_dict()
    except Exception:  # no secrets file at all: nothing is configured
        return "none"
    if "auth" in secrets:
        return "oidc"
    if str((secrets.get("branchlens") or {}).get("login", "")).lower() == "local":
        return "local"
    return "none"


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
    mode = login_mode()
    is_demo = mode == "none" and meta.get("source") == "demo"
    if is_demo:
        if "_as" not in st.session_state:
            st.session_state["_as"] = st.query_params.get("as", "trainer")
        asked = st.session_state["_as"]
        scope = access.parse_as(
            asked,
            list(branches["branch_id"]),
            dict(zip(rms["rm_id"], rms["branch_id"], strict=True)),
        )
        st.session_state["_as"] = access.as_value(scope)
        unknown = unknown_as(asked, scope)
        if unknown is not None:  # shown by as_banner until the viewer picks a role
            st.session_state["_as_unknown"] = unknown
        st.query_params["as"] = st.session_state["_as"]
    elif mode == "none":
        # a bank's data and no login configured: nobody may be anybody, so nothing is shown
        st.query_params.pop("as", None)
        st.error(t("access.bank_data_needs_login", lang))
        st.info(t("access.how_to_login", lang))
        halt()
    else:
        scope = _logged_in_scope(mode, lang)
    st.query_params["lang"] = lang
    try:
        access.check_trainer_snapshot(scope, meta.get("source", ""))
    except access.AccessDenied:
        audit(scope, "page", detail="trainer_demo_only", once=True, outcome="refused")
        st.error(t("access.trainer_demo_only", lang))
        halt()
    as_of = date.fromisoformat(meta["as_of"])
    # the one place the wall clock is read: the business day follows it on imported data only
    day = business_day.business_day(as_of, meta.get("source", ""), date.today())
    return Viewer(
        scope=scope,
        lang=lang,
        demo_mode=is_demo,
        snapshot_path=path,
        as_of=as_of,
        source=meta.get("source", ""),
        today=day.day,
        stale=day.stale,
    )


def _logged_in_scope(mode: str, lang: str) -> Scope:
    """Outside demo mode the viewer is the logged-in user, mapped to a role in the accounts
    file (``ui/login.py``); nothing in the URL changes who it is."""
    st.query_params.pop("as", None)
    from ui import login  # it imports analytics.users, which demo mode never needs

    return login.login_form(lang) if mode == "local" else login.oidc_scope(lang)


@st.cache_resource(show_spinner=False)
def workspace() -> store.Database:
    """The read-write workspace database (one connection per process)."""
    return store.open_workspace()


def main() -> None:
    """The whole app: page config, viewer, navigation by role, sidebar, then the chosen page.
    An uncaught error anywhere in it shows a reference id, never its details (``ui/errors.py``)."""
    from ui import errors

    with errors.guard(_lang):
        _main()


def _main() -> None:
    # a local file: a ``:material/...:`` page icon is fetched from fonts.gstatic.com, which a
    # bank's intranet cannot reach
    st.set_page_config(page_title="BranchLens", page_icon=str(FAVICON), layout="wide")
    viewer = current_viewer()
    sections = navigation(viewer)
    nav = st.navigation(sections, expanded=True)  # the data and users pages too
    if nav.url_path == PAGES[0].url_path:  # "/overview": on to "/", where the default page is
        home = next(p for pages in sections.values() for p in pages if p.url_path == "")
        st.switch_page(home, query_params=st.query_params.to_dict())
    asked = requested_page(st.context.url)
    if asked is not None and viewer.scope.role not in asked.roles:
        # a URL naming a page outside the role's navigation (Streamlit alone would quietly run
        # the first page instead): refused, and recorded as a refused attempt
        sidebar(viewer)
        audit(viewer, "page", detail=asked.id, once=True, outcome="refused")
        st.error(viewer.t("access.page_refused"))
        st.stop()
    sidebar(viewer)
    stale_banner(viewer)
    as_banner(viewer)
    st.session_state["_in_app"] = True
    try:
        nav.run()
    finally:
        st.session_state["_in_app"] = False


def halt(navigation_done: bool = False) -> NoReturn:
    """``st.stop()`` for a screen shown before the viewer is known (a refusal, a configuration or
    snapshot problem; the login form calls ``hide_navigation`` itself, first): the pages are
    registered without being shown, so that Streamlit does not list the ``pages/`` folder's files
    beside it, and the sidebar offers the language switch alone."""
    if not navigation_done:
        with contextlib.suppress(Exception):  # the message is on screen already; never hide it
            hide_navigation()
    st.stop()


def hide_navigation() -> None:
    """Register every page, hidden, and put the language switch alone in the sidebar. A screen
    with a form calls it before the form: registered after it, Streamlit reruns the script once
    more, and the form's answer (a wrong password, say) would vanish with that rerun."""
    root = Path(__file__).resolve().parent.parent  # absolute: a page script may be the main one
    pages = [st.Page(root / p.path, title=p.id, url_path=p.url_path) for p in PAGES[1:]]
    st.navigation(_home_pages(root / PAGES[0].path, PAGES[0].id) + pages, position="hidden")
    with st.sidebar:
        _language_switch(_lang())


def _language_switch(lang: str) -> None:
    st.segmented_control(
        t("sidebar.language", lang),
        options=list(LANGS),
        format_func=lambda code: t("lang.name", code),
        default=lang,
        key="lang_widget",
        on_change=_set_lang,
    )


def requested_page(url: str | None) -> PageSpec | None:
    """The page a browser URL names (``https://host/base/data?x=1`` -> the data page), or None
    for the first page, an unknown path or no URL."""
    from urllib.parse import urlparse

    if not url:
        return None
    last = urlparse(url).path.rstrip("/").rpartition("/")[2]
    return next((p for p in PAGES if p.url_path == last), None)


def page(page_id: str) -> Viewer:
    """The guard every page starts with: the viewer, or a stop with a message if refused.

    A first visitor whose URL names a page can have that script run directly, without app.py
    (Streamlit still knows the ``pages/`` folder then). The guard notices and runs the app itself,
    so the visitor gets the same navigation, sidebar and role checks as everyone else.
    """
    audit_gate()  # before anything is rendered
    if not st.session_state.get("_in_app"):
        main()
        st.stop()
    viewer = current_viewer()
    if viewer.scope.role not in PAGES_BY_ID[page_id].roles:
        audit(viewer, "page", detail=page_id, once=True, outcome="refused")
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
        _language_switch(viewer.lang)
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
        st.caption(t("sidebar.today", viewer.lang, date=viewer.today.isoformat()))
        if viewer.source == "demo":
            st.caption(f"**{t('sidebar.demo', viewer.lang)}**")
        else:
            meta, _, _ = snapshot_facts(viewer.snapshot_path)
            when = (meta.get("created_at") or "")[:10]
            st.caption(f"**{t('sidebar.bank_data', viewer.lang, date=when)}**")
        if not viewer.demo_mode:
            from ui import login

            login.logout_button(viewer.lang)


def stale_banner(viewer: Viewer) -> None:
    """At the top of every page: a warning when the imported snapshot is older than
    ``[stores] stale_after_days`` on the viewer's business day."""
    if viewer.stale:
        st.warning(
            t("shell.stale", viewer.lang, as_of=viewer.as_of.isoformat(),
              days=(viewer.today - viewer.as_of).days, today=viewer.today.isoformat()),
            icon=":material/update:",
        )  # fmt: skip


# What of an unknown ``as=`` value the warning repeats: id characters only, and not too many
# (it comes from the URL, so it must not bring Markdown or a page of text with it).
_AS_ECHO = re.compile(r"[^0-9A-Za-z_.:\-]")
_AS_ECHO_MAX = 32


def unknown_as(asked: str | None, scope: Scope) -> tuple[str, dict] | None:
    """``(string key, fields)`` of the warning for a demo-mode ``as=`` value that names nobody in
    the snapshot (``rm:R9999``, ``manager:B999``, a misspelt role), which ``access.parse_as``
    turned into the trainer; None when the value was honoured or left empty (the default)."""
    value = (asked or "").strip()
    honoured = value == access.as_value(scope) or (value == "manager" and scope.role == "manager")
    if not value or honoured:
        return None
    kind, _, rest = value.partition(":")
    if kind == "rm" and rest:
        return "as.unknown_rm", {"rm_id": _AS_ECHO.sub("", rest)[:_AS_ECHO_MAX]}
    if kind == "manager" and rest:
        return "as.unknown_branch", {"branch_id": _AS_ECHO.sub("", rest)[:_AS_ECHO_MAX]}
    return "as.unknown_role", {"value": _AS_ECHO.sub("", value)[:_AS_ECHO_MAX]}


def as_banner(viewer: Viewer) -> None:
    """At the top of every page in demo mode: a warning that the ``as=`` of the URL named nobody
    in this snapshot and the trainer view is shown instead, until the viewer picks a role in
    the sidebar (``_set_as``)."""
    unknown = st.session_state.get("_as_unknown") if viewer.demo_mode else None
    if unknown is not None:
        key, fields = unknown
        shown = {name: md(value) for name, value in fields.items()}  # an "_" stays an "_"
        st.warning(t(key, viewer.lang, **shown), icon=":material/person_off:")


def _set_lang() -> None:
    value = st.session_state.get("lang_widget")
    if value in LANGS:  # a segmented control can be cleared; keep the language then
        st.session_state["_lang"] = value
        st.query_params["lang"] = value


def _set_as() -> None:
    st.session_state["_as"] = st.session_state["as_widget"]
    st.query_params["as"] = st.session_state["_as"]
    st.session_state.pop("_as_unknown", None)  # a role picked from the list: nothing to warn of


def navigation(viewer: Viewer) -> dict[str, list]:
    """The pages the viewer's role may open, grouped by section, for ``st.navigation``."""
    sections: dict[str, list] = {}
    for spec in PAGES:
        if viewer.scope.role in spec.roles:
            title = viewer.t(spec.title_key)
            sections.setdefault(viewer.t(spec.section_key), []).extend(
                _home_pages(spec.path, title, spec.icon)
                if spec is PAGES[0]
                else [st.Page(spec.path, title=title, icon=spec.icon, url_path=spec.url_path)]
            )
    return sections


def _home_pages(path, title: str, icon: str | None = None) -> list:
    """The default page (``PAGES[0]``, the overview) twice: served at "/" in the navigation, and
    hidden at its own path, so that a link or bookmark to ``/overview`` opens it (``_main`` then
    moves the browser on to "/") instead of Streamlit's "Page not found" dialog. Streamlit serves
    a default page at "/" only and keeps its ``url_path`` for telling pages apart, so that one
    carries a suffix no URL names."""
    spec = PAGES[0]
    return [
        st.Page(path, title=title, icon=icon, url_path=f"{spec.url_path}-home", default=True),
        st.Page(path, title=title, icon=icon, url_path=spec.url_path, visibility="hidden"),
    ]


# ---------------------------------------------------------------------------- client id


def normalize_client_id(text: str | None) -> str:
    """A typed client id as the warehouse spells it: client ids are case-insensitive (issue 14),
    so the text is NFKC-normalised (full-width letters and digits from an IME become ASCII),
    stripped and upper-cased: ``" c00000010 "`` -> ``"C00000010"``; ``""`` for nothing typed."""
    return unicodedata.normalize("NFKC", str(text or "")).strip().upper()


def client_id_input(label: str, help: str | None = None) -> str:
    """The text box of a page that opens one client, prefilled from ``?client=``: the typed id
    through ``normalize_client_id`` (``""`` when empty); a non-empty one is written back to
    ``?client=`` so the URL names the client shown. Every page that takes a typed client id uses
    it."""
    typed = st.text_input(
        label, value=normalize_client_id(st.query_params.get("client")), help=help
    )
    client_id = normalize_client_id(typed)
    if client_id:
        st.query_params["client"] = client_id
    return client_id


# ---------------------------------------------------------------------------- audit


def audit(
    viewer: Viewer | Scope,
    action: str,
    client_ids=(),
    detail: str = "",
    once: bool = False,
    outcome: str = "ok",
    branch_ids=(),
) -> None:
    """Record in the audit log who viewed, unmasked or exported which clients' data (or was
    refused: ``outcome="refused"``), BEFORE the page shows it. If the record cannot be written the
    run stops with ``audit.failed`` and so does every later run of the session, until the log is
    writable again (``audit_gate``). With ``once``, a view is recorded once while it stays on
    screen, not on every rerun. ``viewer`` may be a bare ``Scope`` where no viewer exists yet;
    ``branch_ids`` adds branches the record is about (the clients' are looked up)."""
    from ui import audit_guard  # it imports this module

    audit_guard.write(viewer, action, client_ids, detail, once, outcome, branch_ids)


def audit_gate() -> None:
    """The first line of ``page()``: a session whose audit record failed sees nothing more."""
    from ui import audit_guard

    audit_guard.gate()


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
