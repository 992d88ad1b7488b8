"""The app under AppTest over a data folder of its own: one place for the fixture every page test
module uses (test_pages.py and the modules that need their own workspace)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics import store
from ui import shell
from ui.shell import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@contextlib.contextmanager
def published_demo(root: Path, demo_db_path: Path) -> Iterator[Path]:
    """``root`` as the app's data folder (BRANCHLENS_DATA) with a copy of the small demo snapshot
    published as current; yields the published snapshot's path. The app caches its workspace
    connection once per process whatever the folder (``shell.workspace``), so it is dropped on
    the way in and out: no module writes into another module's workspace."""
    copy = root / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    published = store.publish_snapshot(copy, "demo", root)
    old = os.environ.get("BRANCHLENS_DATA")
    os.environ["BRANCHLENS_DATA"] = str(root)
    shell.workspace.clear()
    try:
        yield published
    finally:
        shell.workspace.clear()
        if old is None:
            os.environ.pop("BRANCHLENS_DATA", None)
        else:
            os.environ["BRANCHLENS_DATA"] = old


def run_page(page_path: str, role: str | None, lang: str, timeout: int = 90, **params) -> AppTest:
    """The app run as ``role`` (``?as=``; None: no viewer asked for) in ``lang``, on the page at
    ``page_path`` (the overview first, as a browser opens the app), with extra query params."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if role is not None:
        at.query_params["as"] = role
    at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page_path != PAGES[0].path:
        at.switch_page(page_path)
        at.run()
    return at
