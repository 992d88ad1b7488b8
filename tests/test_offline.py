"""Nothing leaves the server (issue 12, item 6): a real ``streamlit run`` on 127.0.0.1 in headless
Chromium, every request the pages make recorded, and any request to another host refused and
reported. A bank's intranet has no internet: a favicon, icon font or web font fetched from a CDN
would fail there (Streamlit's ``:material/...:`` page icon is fetched from fonts.gstatic.com, so
the app's favicon is the local ``ui/static/favicon.png``).

Skips, saying why, without Debian's Chromium or Playwright (as tests/test_browser.py).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import live_app
import pytest

from analytics import store

CHROMIUM = live_app.CHROMIUM
LOCAL_HOSTS = {"127.0.0.1"}

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def server(demo_db_path, tmp_path_factory):
    """``streamlit run app.py`` on a free loopback port over the small demo snapshot."""
    root = tmp_path_factory.mktemp("offline-data")
    published = live_app.demo_folder(root, demo_db_path)
    wh = store.open_warehouse(published)
    client = wh.scalar("SELECT MIN(client_id) FROM clients WHERE rm_id = 'R0001'")
    wh.close()
    with live_app.streamlit_app(root) as url:
        yield url, client


def test_no_request_leaves_the_server(server):
    url, client = server
    outside: list[str] = []

    def route(r):
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            r.continue_()
        else:  # refused here, so the test never depends on (or reaches) the internet
            outside.append(r.request.url)
            r.abort()

    pages = [
        "/?as=manager&lang=zh",
        "/?as=manager&lang=en",
        "/segmentation?as=manager",
        "/threshold?as=rm:R0001",
        f"/client?as=rm:R0001&client={client}",
        f"/allocation?as=rm:R0001&client={client}",
        "/seniors?as=head_office",
        "/high_end?as=manager",
        "/contact_plan?as=rm:R0001",
        "/invitations?as=rm:R0001",
        "/corporate?as=manager",
        "/data?as=head_office",
        "/settings?as=trainer",
    ]
    with live_app.chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1800}, locale="zh-CN")
        context.route("**/*", route)
        seen: list[str] = []
        context.on("request", lambda r: seen.append(r.url))
        page = context.new_page()
        for path in pages:
            page.goto(url + path)
            page.get_by_test_id("stSidebar").wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)
            page.wait_for_timeout(1500)  # charts, icons and fonts load after the rerun
        icons = page.eval_on_selector_all(
            "link[rel~='icon'], link[rel='shortcut icon']", "els => els.map(e => e.href)"
        )
    print(f"{len(seen)} requests over {len(pages)} pages; outside 127.0.0.1: {outside or 'none'}")
    print("favicon:", icons)
    assert seen, "the pages made no requests at all: the test saw nothing"
    assert outside == []
    assert icons and all(urlsplit(h).hostname in LOCAL_HOSTS for h in icons)
