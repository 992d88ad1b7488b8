"""Browser test of a deployment with local accounts (issue 12): a real ``streamlit run`` with
``[branchlens] login = "local"`` in its secrets file, driven by Playwright in Debian's Chromium.

An RM logs in through the form, opens every page of an RM's navigation (one client of their own
book on the client and three-balance pages), opens every tab, downloads every file offered, and
no page text and no file holds an unmasked mobile or ID number: neither one of the snapshot's
clients' own numbers nor anything shaped like one. ``as=`` in the URL changes nothing.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import live_app
import pytest

from analytics import store, users

CHROMIUM = live_app.CHROMIUM
RM, RM_BRANCH, PASSWORD = "R0001", "B001", "Kf7#pLm2-Qz9!"
USER = "li.ming@bank.test"

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

# Anything shaped like a mainland mobile or resident ID number, not masked.
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9])\d{17}[0-9Xx](?![0-9])")


@pytest.fixture(scope="module")
def deployment(demo_db_path, tmp_path_factory):
    """(url, data folder): the app over the small demo snapshot with local logins configured and
    one RM account."""
    root = tmp_path_factory.mktemp("login-data")
    live_app.demo_folder(root, demo_db_path)
    secrets = root / "secrets.toml"
    secrets.write_text('[branchlens]\nlogin = "local"\n', encoding="utf-8")
    users.Accounts(root / "users.sqlite3").add(
        USER, "rm", branch_id=RM_BRANCH, rm_id=RM, password=PASSWORD, must_change=False,
        display_name="李明",
    )  # fmt: skip
    with live_app.streamlit_app(root, f"--secrets.files={secrets}") as url:
        yield url, root


@pytest.fixture(scope="module")
def browser():
    with live_app.chromium() as b:
        yield b


def clear_numbers(demo_db_path) -> set[str]:
    """Every client's own mobile and ID number in the snapshot, as stored (unmasked)."""
    wh = store.open_warehouse(demo_db_path)
    try:
        rows = wh.query(
            "SELECT phone AS v FROM clients WHERE phone IS NOT NULL "
            "UNION SELECT id_number FROM clients WHERE id_number IS NOT NULL"
        )
    finally:
        wh.close()
    values = {str(v) for v in rows["v"]}
    assert len(values) > 100  # the demo has numbers to leak, or the test proves nothing
    return values


def leaks(text: str, numbers: set[str]) -> list[str]:
    """Unmasked mobiles or ID numbers in ``text``: the clients' own, or anything shaped so."""
    found = set(MOBILE.findall(text)) | set(ID_NUMBER.findall(text))
    digits = re.findall(r"[0-9Xx]{11,18}", text)
    return sorted(found | {d for d in digits if d in numbers})


def file_text(data: bytes, name: str) -> str:
    """The text of a downloaded file: an XLSX's cell values (from its XML), else decoded."""
    if name.endswith(".xlsx"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return " ".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return data.decode("utf-8-sig", errors="replace")


def fill_login(page, password: str = PASSWORD) -> None:
    from ui.i18n import EN

    page.get_by_role("heading", name=EN["login.title"]).wait_for(timeout=90_000)
    page.get_by_label(EN["login.user"]).fill(USER)
    page.get_by_label(EN["login.password"], exact=True).fill(password)
    page.get_by_role("button", name=EN["login.submit"]).click()


def log_in(page, url: str, password: str = PASSWORD) -> None:
    page.goto(url + "/?lang=en")
    fill_login(page, password)


def element_keys(main, test_id: str, suffix: str = "") -> list[str]:
    """The widget keys (Streamlit's ``st-key-<key>`` class) of the visible ``test_id`` elements
    whose key ends with ``suffix``; the suffix is cut off."""
    keys = []
    for box in main.locator(f"[class*='st-key-']:has(> [data-testid='{test_id}'])").all():
        if not box.is_visible():
            continue
        key = next(c[7:] for c in box.get_attribute("class").split() if c.startswith("st-key-"))
        if key.endswith(suffix):
            keys.append(key[: len(key) - len(suffix)] if suffix else key)
    return keys


def nav_link(page, title: str):
    """The sidebar's link to a page by its title (the link's text also holds its icon's name)."""
    return (
        page.get_by_test_id("stSidebar")
        .get_by_test_id("stSidebarNavLink")
        .filter(has=page.get_by_text(title, exact=True))
    )


def run_finished(page) -> None:
    """Wait until the script run on screen has ended (the app root's ``data-test-script-state``
    is ``notRunning``). A click does not change that state until the server starts the run, so
    call it only once something the new run draws is on screen (a title, a button): then the run
    has started, and ``notRunning`` means it is over. After a click that reruns nothing (most
    tabs) it returns at once; a tab with ``on_change="rerun"`` may start its run later."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        timeout=90_000
    )


def wait_until_running_done(page, heading: str) -> None:
    """The page's title is there and the run that draws the page has ended."""
    page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=90_000)
    run_finished(page)


def test_an_rm_logs_in_opens_every_page_and_downloads_no_clear_number(
    deployment, browser, demo_db_path, tmp_path
):
    from ui.i18n import EN
    from ui.shell import PAGES

    url, root = deployment
    numbers = clear_numbers(demo_db_path)
    wh = store.open_warehouse(demo_db_path)
    client = wh.scalar(
        "SELECT c.client_id FROM clients c JOIN holdings_monthly h USING (client_id) "
        "WHERE c.rm_id = ? GROUP BY 1 HAVING COUNT(DISTINCT h.product_id) >= 3 ORDER BY 1 LIMIT 1",
        [RM],
    )
    other = wh.scalar("SELECT min(client_id) FROM clients WHERE rm_id <> ?", [RM])
    wh.close()

    page = browser.new_page(viewport={"width": 1400, "height": 1800}, locale="en-US",
                            accept_downloads=True)  # fmt: skip
    log_in(page, url, "wrong password")
    page.get_by_text(EN["login.refused.bad_password"]).wait_for(timeout=30_000)
    log_in(page, url)
    wait_until_running_done(page, EN["page.overview"])
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text(USER).wait_for(timeout=30_000)  # who is logged in
    assert (
        sidebar.get_by_text(EN["sidebar.view_as"]).count() == 0
    )  # no role switcher outside demo mode

    rm_pages = [p for p in PAGES if "rm" in p.roles]
    assert {p.id for p in rm_pages} >= {"overview", "client", "allocation", "contact_plan"}
    seen, files, fetched = [], [], set()
    main = page.get_by_test_id("stMain")

    def prepare_export(key: str) -> None:
        """Click the list's export button until its files are on screen. A tab that reruns the
        page (segmentation's list follows the open tab) may start its run after the click, and
        that run draws the list afresh without the files: then the click is made again. The wait
        is for the files themselves, never for the page to stop changing."""
        ready = main.locator(f".st-key-{key}_csv [data-testid='stDownloadButton']")
        for _ in range(6):
            if ready.count():
                break
            main.locator(f".st-key-{key}_export button").click()
            try:
                ready.first.wait_for(timeout=20_000)
            except sync_api.Error:
                run_finished(page)
        ready.first.wait_for(timeout=10_000)
        run_finished(page)

    def collect(page_id: str) -> None:
        """Every tab of the page on screen: its text, and each file it offers, downloaded."""
        tabs = main.get_by_role("tab")
        for i in range(max(1, tabs.count())):
            if tabs.count():
                tabs.nth(i).click()
                run_finished(page)
            # a client list's export is prepared by its button first; its files then appear
            # under the list's own key (``<key>_export`` -> ``<key>_csv``, ``<key>_xlsx``)
            for key in element_keys(main, "stButton", "_export"):
                prepare_export(key)
            seen.append((page_id, main.inner_text()))
            for key in element_keys(main, "stDownloadButton"):
                if (page_id, key) in fetched:
                    continue  # a list below the tabs is on screen in every tab
                fetched.add((page_id, key))
                with page.expect_download(timeout=60_000) as download:
                    main.locator(f".st-key-{key} button").click()
                d = download.value
                saved = tmp_path / f"{len(files)}-{d.suggested_filename}"
                d.save_as(saved)
                files.append((page_id, d.suggested_filename, saved.read_bytes()))
        page.screenshot(path=str(tmp_path / f"{page_id}.png"), full_page=True)

    # Links within the session only: a new page load is a new session, which logs in again.
    for spec in rm_pages:
        if spec.id == "allocation":
            continue  # opened from the client below, with the client's own portfolio
        nav_link(page, EN[spec.title_key]).click()
        wait_until_running_done(page, EN[spec.title_key])
        if spec.id == "client":
            box = main.get_by_test_id("stTextInputField").first
            box.fill(client)
            box.press("Enter")
            main.get_by_text("Three-balance check ·").wait_for(timeout=60_000)
            wait_until_running_done(page, EN[spec.title_key])
        collect(spec.id)
        if spec.id == "client":
            main.get_by_text("Three-balance check ·").click()
            wait_until_running_done(page, EN["page.allocation"])
            # the client's own sheet (not the example's): its button comes with the portfolio
            main.get_by_role("button", name=EN["al.sheet"]).wait_for(timeout=60_000)
            collect("allocation")

    assert {s for s, _ in seen} == {p.id for p in rm_pages}
    assert any(s == "allocation" and n == "meeting-sheet.html" for s, n, _ in files), files
    assert any(n.endswith(".xlsx") for _, n, _ in files) and any(
        n.endswith(".csv") for _, n, _ in files
    ), [n for _, n, _ in files]
    for spec_id, text in seen:
        assert not leaks(text, numbers), (spec_id, leaks(text, numbers))
    for spec_id, name, data in files:
        assert not leaks(file_text(data, name), numbers), (spec_id, name)

    # the audit holds the login, the client views and one record per download, by this login
    log = store.AuditLog(root / "audit.jsonl").read()
    mine = log[log["viewer"] == USER]
    assert {"login", "view", "export"} <= set(mine["action"])
    assert (mine["action"] == "export").sum() == len(files)  # every file an RM gets: client data
    assert not (log["viewer"].str.startswith("demo:")).any()

    # as= in the URL changes nothing: a new load asks for the login, then it is the same RM,
    # refused another RM's client
    page.goto(url + f"/client?as=head_office&lang=en&client={other}")
    fill_login(page)
    page.get_by_text(EN["client.refused"]).wait_for(timeout=90_000)
    assert sidebar.get_by_text(EN["sidebar.view_as"]).count() == 0

    # a page outside an RM's navigation, asked for by its URL: refused, and the attempt recorded
    page.goto(url + "/data?lang=en")
    fill_login(page)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log = store.AuditLog(root / "audit.jsonl").read()
        hit = log[(log["action"] == "page") & (log["detail"] == "data")]
        if len(hit):
            break
        page.wait_for_timeout(250)
    assert hit[["viewer", "outcome"]].values.tolist() == [[USER, "refused"]]
    page.close()
