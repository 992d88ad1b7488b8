"""Browser test: a real ``streamlit run`` on localhost driven by Playwright in Debian's Chromium.

Skips, saying why, where Chromium or Playwright is absent; CI installs both (.ci/run). Set
BRANCHLENS_SCREENSHOTS=docs to refresh the README's screenshots.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import live_app
import pytest

from analytics import store

ROOT = live_app.ROOT
CHROMIUM = live_app.CHROMIUM

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def server(demo_db_path, tmp_path_factory):
    """``streamlit run app.py`` on a free loopback port over the small demo snapshot."""
    root = tmp_path_factory.mktemp("browser-data")
    live_app.demo_folder(root, demo_db_path)
    with live_app.streamlit_app(root) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with live_app.chromium() as b:
        yield b


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


def click_bar(page, index: int) -> None:
    """Click the index-th visible bar of the Plotly charts on screen, as a person would (Plotly
    takes clicks on its drag layer, so the mouse goes to the bar's centre)."""
    bars = page.locator("g.trace.bars path")
    visible: list[int] = []
    for _ in range(60):  # the chart may still be drawing
        visible = [i for i in range(bars.count()) if bars.nth(i).is_visible()]
        if len(visible) > index:
            break
        page.wait_for_timeout(500)
    box = bars.nth(visible[index]).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)


def idle(page) -> None:
    """Wait until Streamlit has finished the current rerun (its status widget goes away)."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)


def settled_text(page, locator, tries: int = 40) -> str:
    """The locator's text once the app has finished rerunning (the old list can still be on
    screen for a moment after a click): the same text twice, a second apart."""
    idle(page)
    last = None
    for _ in range(tries):
        page.wait_for_timeout(1000)
        text = locator.inner_text()
        if text == last:
            return text
        last = text
    return last


def test_segment_to_list_to_client(server, browser):
    """Segmentation: click the RFM segment 'Important to develop', its list appears, a click on
    the first row opens that very client."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600}, locale="en-US")
    page.goto(server + "/segmentation?as=manager&lang=en")
    page.get_by_role("heading", name="Segmentation").wait_for(timeout=90_000)
    page.get_by_role("tab", name="RFM").click()
    page.wait_for_timeout(1500)
    click_bar(page, 1)  # the second segment from the top: 重要发展 / Important to develop
    page.get_by_role("heading", name="Clients: Important to develop").wait_for(timeout=30_000)
    grid = page.locator("[data-testid='stDataFrame']").last
    first_client = settled_text(page, grid.locator("[role='gridcell']").first)
    assert first_client.startswith("C")
    shot(page, "segmentation-en")
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)  # the first row's selection box
    page.get_by_role("heading", name="Client 360").wait_for(timeout=30_000)
    page.wait_for_function(  # Streamlit switches pages without a load event
        f"() => location.search.includes('client={first_client}')", timeout=30_000
    )
    sync_api.expect(page.get_by_test_id("stTextInputField")).to_have_value(
        first_client, timeout=30_000
    )
    sync_api.expect(page.get_by_text(f"· {first_client}").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)
    shot(page, "client-en")
    page.close()


def test_threshold_view_in_chinese(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page.goto(server + "/threshold?as=manager&lang=zh")
    page.get_by_role("heading", name="临界客户").wait_for(timeout=90_000)
    page.get_by_text("各分层线下的临界客户").wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    shot(page, "threshold-zh")
    page.close()


def open_first_row(page, grid) -> str:
    """Click the first row of a client list and return the client number it showed."""
    first_client = settled_text(page, grid.locator("[role='gridcell']").first)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    page.get_by_role("heading", name="Client 360").wait_for(timeout=30_000)
    sync_api.expect(page.get_by_test_id("stTextInputField")).to_have_value(
        first_client, timeout=30_000
    )
    return first_client


def visible_grid(page):
    grids = page.locator("[data-testid='stDataFrame']")
    for _ in range(60):
        shown = [grids.nth(i) for i in range(grids.count()) if grids.nth(i).is_visible()]
        if shown:
            return shown[-1]
        page.wait_for_timeout(500)
    raise AssertionError("no client list on screen")


def test_senior_band_to_client(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1600}, locale="en-US")
    page.goto(server + "/seniors?as=manager&lang=en")
    page.get_by_role("heading", name="Senior clients").wait_for(timeout=90_000)
    page.get_by_role("radio", name="60-69").click()  # the band control, not the chart axis label
    idle(page)
    page.get_by_role("tab", name="Online / offline").click()
    idle(page)
    shot(page, "seniors-en")
    assert open_first_row(page, visible_grid(page)).startswith("C")
    page.close()


def test_high_end_tier_to_client(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page.goto(server + "/high_end?as=manager&lang=zh")
    page.get_by_role("heading", name="中高端客户").wait_for(timeout=90_000)
    # Platinum: the test snapshot's few Diamond clients of a branch may have no gap in common
    page.get_by_text("白金", exact=True).first.click()
    idle(page)
    page.get_by_role("tab", name="配置缺口").click()
    idle(page)
    shot(page, "high-end-zh")
    grid = visible_grid(page)
    first_client = settled_text(page, grid.locator("[role='gridcell']").first)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    page.get_by_role("heading", name="客户360").wait_for(timeout=30_000)
    sync_api.expect(page.get_by_test_id("stTextInputField")).to_have_value(
        first_client, timeout=30_000
    )
    page.close()


def wait_for_cells(page, cells, want, timeout_s: float = 60) -> list[str]:
    """The grid's cell texts once ``want(texts)`` holds; fails with the last texts seen when it
    does not within the timeout. A rerun can start late, so the test waits for the value it
    expects, never for the grid to stop changing."""
    deadline = time.monotonic() + timeout_s
    texts: list[str] = []
    while time.monotonic() < deadline:
        texts = cells.all_inner_texts()
        if texts and want(texts):
            return texts
        page.wait_for_timeout(250)
    raise AssertionError(f"the grid never showed the expected values; last seen: {texts}")


def test_allocation_from_a_client_edit_and_meeting_sheet(server, browser, demo_db_path, tmp_path):
    """From a client to the three-balance check, change an amount in the editor, see the scores
    change to the values worked out for the edited portfolio, download the meeting sheet and
    render it in Chromium."""
    from analytics import allocation
    from analytics.access import Scope

    wh = store.open_warehouse(demo_db_path)
    client = wh.scalar(
        "SELECT c.client_id FROM clients c JOIN holdings_monthly h USING (client_id) "
        "WHERE c.rm_id = 'R0001' GROUP BY 1 HAVING COUNT(DISTINCT h.product_id) >= 3 ORDER BY 1 LIMIT 1"
    )
    # The known answer: the "Now" scores of the portfolio with its first row's amount set to 1.
    portfolio, _ = allocation.client_portfolio(wh, Scope("rm", rm_id="R0001"), client)
    edited = portfolio.copy()
    edited.loc[edited.index[0], "amount"] = 1.0

    def now_column(sc: dict) -> list[str]:
        return [f"{sc[d]:.2f}" for d in ("safety", "liquidity", "return_")]

    want_before = now_column(allocation.scores(portfolio))
    want_after = now_column(allocation.scores(edited))
    assert want_after != want_before  # the edit must move the scores, or the wait proves nothing

    def now_cells(texts: list[str]) -> list[str]:
        return texts[1::5][:3]  # rows of (label, now, after, band min, band max)

    page = browser.new_page(viewport={"width": 1400, "height": 1800}, locale="en-US")
    page.goto(server + f"/client?as=rm:R0001&lang=en&client={client}")
    page.get_by_role("heading", name="Client 360").wait_for(timeout=90_000)
    page.get_by_text("Three-balance check ·").wait_for(timeout=60_000)
    idle(page)
    page.get_by_text("Three-balance check ·").click()
    page.get_by_role("heading", name="Three-balance check", exact=True).wait_for(timeout=60_000)
    scores = page.locator("[data-testid='stDataFrame']").filter(has_text="After the moves")
    cells = scores.locator("[role='gridcell']")
    wait_for_cells(page, cells, lambda texts: now_cells(texts) == want_before)
    editor = page.locator("[data-testid='stDataFrame']").first
    editor.scroll_into_view_if_needed()
    box = editor.bounding_box()  # the amount is the last column; the first row is under the header
    page.mouse.dblclick(box["x"] + box["width"] - 40, box["y"] + 35 + 17)
    # the grid's cell editor opens in an overlay; type only once it is there
    overlay = page.locator("#portal input, #portal textarea").first
    overlay.wait_for(state="visible", timeout=30_000)
    overlay.fill("1")
    overlay.press("Enter")
    wait_for_cells(page, cells, lambda texts: now_cells(texts) == want_after)
    idle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the meeting sheet (printable)").click()
    sheet = tmp_path / "sheet.html"
    download.value.save_as(sheet)
    html = sheet.read_text(encoding="utf-8")
    assert "Asset allocation review" in html and client in html
    assert all(v in html for v in want_after)  # the sheet carries the edited scores
    name = wh.scalar("SELECT name_en FROM clients WHERE client_id = ?", [client])
    assert name not in html  # masked
    view = browser.new_page(viewport={"width": 900, "height": 1200})
    view.goto(sheet.as_uri())
    shot(view, "meeting-sheet-en")
    view.close()
    page.close()


def test_plan_accept_mark_done_then_client_history(server, browser):
    """An RM accepts today's plan, marks the first deep contact done with an outcome and a note,
    opens the client and finds the contact in the client's contact history."""
    import re

    page = browser.new_page(viewport={"width": 1400, "height": 2200}, locale="en-US")
    page.goto(server + "/contact_plan?as=rm:R0004&lang=en")
    page.get_by_role("heading", name="5-20-30 contact plan").wait_for(timeout=90_000)
    page.get_by_role("button", name=re.compile(r"^Accept the plan")).click()
    idle(page)
    page.get_by_text("Mark done").first.wait_for(timeout=30_000)
    main = page.get_by_test_id("stMain")
    idle(page)
    picked = main.get_by_test_id("stSelectbox").first.locator("input").input_value()
    client_id = re.search(r"C\d{8}", picked).group(0)
    form = page.get_by_test_id("stForm").first
    form.get_by_text("Visit booked", exact=True).click()
    form.get_by_role("textbox").fill("browser: booked a visit")
    form.get_by_role("button", name="Mark done").click()
    page.get_by_text("Done: Visit booked").wait_for(timeout=30_000)
    shot(page, "contact-plan-en")
    page.get_by_role("button", name="Open Client 360").first.click()
    sync_api.expect(page.get_by_test_id("stTextInputField").first).to_have_value(
        client_id, timeout=60_000
    )
    page.get_by_role("tab", name="Contact history").click()
    grid = visible_grid(page)
    cells = wait_for_cells(
        page, grid.locator("[role='gridcell']"), lambda t: "browser: booked a visit" in t
    )
    assert "Visit booked" in cells and "BranchLens" in cells
    page.close()
