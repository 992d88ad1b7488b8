"""Browser test: a real ``streamlit run`` on localhost driven by Playwright in Debian's Chromium.

Skips, saying why, where Chromium or Playwright is absent; CI installs both (.ci/run). Set
BRANCHLENS_SCREENSHOTS=docs to refresh the README's screenshots.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from analytics import store

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_db_path, tmp_path_factory):
    """``streamlit run app.py`` on a free loopback port over the small demo snapshot."""
    root = tmp_path_factory.mktemp("browser-data")
    copy = root / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", root)
    port = free_port()
    env = {**os.environ, "BRANCHLENS_DATA": str(root)}
    log = open(root / "streamlit.log", "w")  # noqa: SIM115 (closed after the server stops)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1",
         "--browser.gatherUsageStats=false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + (root / "streamlit.log").read_text())
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()


def shot(page, name: str) -> None:
    folder = Path(os.environ.get("BRANCHLENS_SCREENSHOTS", ROOT / "test-results"))
    if not folder.is_absolute():
        folder = ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_overview_switches_language(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2000}, locale="zh-CN")
    page.goto(server + "/?as=manager")
    title = page.get_by_role("heading", name="网点总览")
    title.wait_for(timeout=60_000)
    page.get_by_text("客户与 AUM 分层").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # let the charts draw
    shot(page, "overview-zh")
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="Branch overview").wait_for(timeout=30_000)
    assert page.get_by_text("Clients and AUM by tier").first.is_visible()
    assert page.get_by_role("heading", name="网点总览").count() == 0
    assert "lang=en" in page.url
    page.wait_for_timeout(1500)
    shot(page, "overview-en")
    page.close()
