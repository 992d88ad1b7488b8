"""A real ``streamlit run app.py`` on a loopback port and Debian's Chromium, for the browser tests
(test_browser.py, test_browser_login.py, test_offline.py, test_oidc.py). Each test module skips,
saying why, where Chromium or Playwright is absent; CI installs both (.ci/run)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics import store

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_folder(root: Path, demo_db_path: Path) -> Path:
    """``root`` as a data folder whose current snapshot is a copy of the small demo; the path of
    the published snapshot."""
    copy = root / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    return store.publish_snapshot(copy, "demo", root)


def wait_for(url: str, proc: subprocess.Popen, log: Path, what: str, timeout: float = 60) -> None:
    """Poll ``url`` until it answers; fail with ``what``'s log if it does not in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    proc.kill()
    pytest.fail(f"{what} did not start: " + log.read_text())


@contextlib.contextmanager
def streamlit_app(root: Path, *args: str, port: int | None = None) -> Iterator[str]:
    """``streamlit run app.py`` over the data folder ``root`` (extra command-line ``args``, e.g.
    ``--secrets.files=...``); yields its URL and stops it after. Its log is root/streamlit.log."""
    port = port or free_port()
    env = {**os.environ, "BRANCHLENS_DATA": str(root)}
    log_path = root / "streamlit.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
             f"--server.port={port}", "--server.address=127.0.0.1",
             "--browser.gatherUsageStats=false", *args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(url + "/_stcore/health", proc, log_path, "streamlit")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Debian Chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
