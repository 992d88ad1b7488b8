"""Single sign-on (OIDC through ``st.login``): with an ``[auth]`` section in the secrets the login
alone decides the viewer and ``?as=`` changes nothing.

Two levels: AppTest (``at.user`` stands in for the identity provider), and a real ``streamlit run``
against a local OpenID Connect provider (the ``oidc-provider-mock`` package on a loopback port)
driven by Playwright in Debian's Chromium: the login button, the provider's login page, the
callback, and the mapped user's own view. The browser part skips with a reason where Chromium,
Playwright or the mock provider is absent.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import live_app
import pytest
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.users import Accounts
from ui.i18n import EN

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
CHROMIUM = live_app.CHROMIUM
FAKE_AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "not-a-secret-for-tests-only-0123456789",
    "client_id": "branchlens",
    "client_secret": "x",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


@pytest.fixture
def oidc_data(demo_db_path, tmp_path, monkeypatch):
    """The small demo snapshot and three accounts: an RM, a disabled RM, head office."""
    root = tmp_path / "data"
    root.mkdir()
    copy = root / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", root)
    monkeypatch.setenv("BRANCHLENS_DATA", str(root))
    accts = Accounts()
    accts.add("li@bank.cn", "rm", branch_id="B001", rm_id="R0001", display_name="Li")
    accts.add("gone@bank.cn", "rm", branch_id="B001", rm_id="R0002")
    accts.set_disabled("gone@bank.cn", True)
    accts.add("boss@bank.cn", "head_office")
    return root


def rm_clients(root: Path, rm_id: str = "R0001") -> str:
    """The overview's first metric (clients) for one RM, counted independently."""
    wh = store.open_warehouse(store.current_snapshot(root))
    try:
        n = wh.scalar(
            "SELECT count(DISTINCT client_id) FROM client_aum_monthly WHERE rm_id = ? "
            "AND month_end = (SELECT max(month_end) FROM client_aum_monthly)",
            [rm_id],
        )
    finally:
        wh.close()
    return f"{int(n):,}"


def oidc_app(user: dict, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = FAKE_AUTH
    at.user = user
    at.query_params["lang"] = "en"
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("as_", ["head_office", "trainer", "manager:B001", "rm:R0001"])
def test_oidc_configured_shows_only_the_login_and_as_changes_nothing(oidc_data, as_):
    at = oidc_app({"is_logged_in": False}, **{"as": as_})
    assert [b.label for b in at.button] == [EN["access.login"]]
    assert not at.metric and not at.dataframe and not at.selectbox and not at.sidebar.selectbox
    assert "as" not in at.query_params


@pytest.mark.parametrize("as_", [None, "head_office", "manager:B002", "rm:R0009"])
def test_oidc_user_gets_their_mapped_scope_whatever_as_says(oidc_data, as_):
    params = {} if as_ is None else {"as": as_}
    at = oidc_app({"is_logged_in": True, "email": "Li@Bank.cn"}, **params)
    assert at.title[0].value == EN["page.overview"]
    assert at.metric[0].value == rm_clients(oidc_data)
    assert not at.sidebar.selectbox and "as" not in at.query_params
    assert EN["login.signed_in_as"].format(name="Li", user="Li@Bank.cn") in [
        c.value for c in at.sidebar.caption
    ]


@pytest.mark.parametrize(
    "email, key",
    [("nobody@bank.cn", "access.unknown_user"), ("gone@bank.cn", "login.sso_disabled")],
)
def test_oidc_unknown_or_disabled_user_sees_only_the_refusal(oidc_data, email, key):
    at = oidc_app({"is_logged_in": True, "email": email}, **{"as": "head_office"})
    assert [e.value for e in at.error] == [EN[key].format(user=email)]
    assert [b.label for b in at.button] == [EN["login.switch_account"]]
    assert not at.metric and not at.dataframe and not at.sidebar.selectbox


def test_oidc_unverified_email_is_refused(oidc_data):
    at = oidc_app({"is_logged_in": True, "email": "li@bank.cn", "email_verified": False})
    assert [e.value for e in at.error] == [EN["access.unknown_user"].format(user="li@bank.cn")]
    assert not at.metric


# ---------------------------------------------------------------------------- a real provider


@pytest.fixture(scope="module")
def live(demo_db_path, tmp_path_factory):
    """The mock OIDC provider and ``streamlit run app.py`` with an ``[auth]`` section naming it,
    both on free loopback ports; yields (app URL, data folder)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed")
    if importlib.util.find_spec("oidc_provider_mock") is None:
        pytest.skip("oidc-provider-mock is not installed (requirements-dev.txt)")
    root = tmp_path_factory.mktemp("oidc-data")
    live_app.demo_folder(root, demo_db_path)
    accts = Accounts(root / "users.sqlite3")
    accts.add("li@bank.cn", "rm", branch_id="B001", rm_id="R0001", display_name="Li")
    idp_port, app_port = live_app.free_port(), live_app.free_port()
    idp, app = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{app_port}"
    secrets_file = root / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{app}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "branchlens-test"\n'
        f'client_secret = "{secrets.token_urlsafe(16)}"\n'
        f'server_metadata_url = "{idp}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "BRANCHLENS_DATA": str(root)}
    idp_log = root / "idp.log"
    with open(idp_log, "w") as f:
        provider = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(idp_port),
             "--user", "li@bank.cn", "--user", "nobody@bank.cn"],
            env=env, stdout=f, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        live_app.wait_for(f"{idp}/.well-known/openid-configuration", provider, idp_log,
                          "the OIDC mock")  # fmt: skip
        with live_app.streamlit_app(root, f"--secrets.files={secrets_file}", port=app_port):
            yield app, root
    finally:
        provider.terminate()
        try:
            provider.wait(timeout=10)
        except subprocess.TimeoutExpired:
            provider.kill()


@pytest.fixture(scope="module")
def browser(live):
    with live_app.chromium() as b:
        yield b


def sso_login(browser, app: str, who: str, as_: str = "head_office"):
    """Open the app with ``?as=``, press Log in, pick ``who`` at the provider; the page after the
    callback."""
    page = browser.new_context(locale="en-US").new_page()
    page.goto(f"{app}/?as={as_}")
    login = page.get_by_role("button", name=EN["access.login"])
    login.wait_for(timeout=60_000)
    assert page.get_by_text(EN["sidebar.view_as"]).count() == 0
    assert page.get_by_test_id("stMetricValue").count() == 0
    login.click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.get_by_role("button", name=who).click()
    page.wait_for_url(f"{app}/**", timeout=30_000)
    return page


@pytest.mark.browser
def test_oidc_login_page_and_as_ignored_with_a_real_provider(live, browser):
    app, _ = live
    page = browser.new_context(locale="en-US").new_page()
    for as_ in ("head_office", "rm:R0001", "trainer"):
        page.goto(f"{app}/?as={as_}")
        page.get_by_role("button", name=EN["access.login"]).wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        assert page.get_by_test_id("stMetricValue").count() == 0
        assert page.get_by_text(EN["sidebar.view_as"]).count() == 0
        assert "as=" not in page.url
    page.context.close()


@pytest.mark.browser
def test_oidc_login_through_the_provider_lands_the_mapped_user(live, browser):
    app, root = live
    page = sso_login(browser, app, "li@bank.cn")
    page.get_by_role("heading", name=EN["page.overview"]).wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    want = rm_clients(root)
    assert page.get_by_test_id("stMetricValue").first.inner_text() == want
    assert page.get_by_text(EN["sidebar.view_as"]).count() == 0
    # the URL cannot make them anybody else
    page.goto(f"{app}/?as=head_office")
    page.get_by_role("heading", name=EN["page.overview"]).wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    assert page.get_by_test_id("stMetricValue").first.inner_text() == want
    assert "as=" not in page.url
    page.context.close()


@pytest.mark.browser
def test_oidc_unmapped_user_sees_only_the_refusal_with_a_real_provider(live, browser):
    app, _ = live
    page = sso_login(browser, app, "nobody@bank.cn")
    page.get_by_text(EN["access.unknown_user"].format(user="nobody@bank.cn")).wait_for(
        timeout=60_000
    )
    assert page.get_by_test_id("stMetricValue").count() == 0
    assert page.get_by_role("button", name=EN["login.switch_account"]).is_visible()
    page.context.close()
