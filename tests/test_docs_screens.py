"""The README's screenshots (issue 14): every page of the navigation in Chinese and English at
1280×720, on the default demo (settings.toml [demo]: three branches), written to docs/screens/
by this test, which also checks what each one shows: the page's own heading, its navigation entry
marked current in the viewer's language, no error box and no "Page not found" dialog.

Each page is taken as the first role that may open it of: the first branch's manager (what a
trainer shows a class), head office (data and users), the trainer, the first RM. The client and
three-balance views open the first Platinum client of branch B001 with an RM. Run alone with
``python -m pytest tests/test_docs_screens.py``; commit the PNGs it rewrites.
"""

from __future__ import annotations

from pathlib import Path

import live_app
import pytest

from analytics import demo_data, store
from analytics.settings import load_settings, tier_lines
from ui.i18n import EN, ZH
from ui.shell import PAGES

pytestmark = pytest.mark.browser

if not Path(live_app.CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

DOCS = live_app.ROOT / "docs" / "screens"
ROLES = ("manager", "head_office", "trainer", "rm:R0001")
TABLES = {"zh": ZH, "en": EN}


def role_for(spec) -> str:
    return next(r for r in ROLES if r.split(":")[0] in spec.roles)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """(url, a Platinum client of B001 with an RM): the app over the default demo."""
    d = load_settings()["demo"]
    root = tmp_path_factory.mktemp("docs-data")
    built = root / "built.duckdb"
    demo_data.build_snapshot(
        built, clients=int(d["clients"]), branches=int(d["branches"]), months=int(d["months"]),
        seed=int(d["seed"]), rms_per_branch=int(d["rms_per_branch"]),
        corporates=int(d["corporates_per_branch"]) * int(d["branches"]),
    )  # fmt: skip
    path = store.publish_snapshot(built, "demo", root)
    wh = store.open_warehouse(path)
    try:
        client = wh.scalar(
            """SELECT min(a.client_id) FROM client_aum_monthly a JOIN clients c USING (client_id)
               WHERE c.branch_id = 'B001' AND c.rm_id IS NOT NULL AND a.aum >= ?
                 AND a.month_end = (SELECT max(month_end) FROM client_aum_monthly)""",
            [dict(tier_lines())["platinum"]],
        )
    finally:
        wh.close()
    assert client
    with live_app.streamlit_app(root) as url:
        yield url, client


@pytest.fixture(scope="module")
def browser():
    with live_app.chromium() as b:
        yield b


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("spec", PAGES, ids=[p.id for p in PAGES])
def test_page_screenshot(app, browser, spec, lang):
    url, client = app
    role = role_for(spec)
    path = "" if spec is PAGES[0] else spec.url_path
    query = f"as={role}&lang={lang}" + (
        f"&client={client}" if spec.id in ("client", "allocation") else ""
    )
    page = browser.new_page(viewport={"width": 1280, "height": 720}, locale=f"{lang}-CN")
    try:
        page.goto(f"{url}/{path}?{query}")
        page.locator("h1").first.wait_for(timeout=120_000)
        page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(
            timeout=120_000
        )
        current = page.locator("[data-testid=stSidebarNavLink][aria-current=page]")
        sync_api.expect(current).to_have_count(1)
        assert current.inner_text().splitlines()[-1] == TABLES[lang][spec.title_key]
        assert page.locator("[data-testid=stException]").count() == 0
        assert page.get_by_text("Page not found").count() == 0
        assert page.locator("h1").first.inner_text().strip()
        page.wait_for_timeout(1000)  # let the charts finish their entry animation
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{spec.id}-{lang}.png"))
    finally:
        page.close()
