"""A seventh AUM tier added in settings.toml works end to end (issue 13 point 7): tier assignment
with the downgrade rule, the overview's tier summary, colours, labels, and the pages that show
tiers (AppTest, zh and en) with no error and the new tier on screen.

The settings are the real settings.toml with 红宝石 Ruby (100万) added between Platinum and
Diamond the way its comment says (``order``, ``[tiers.lines]``, ``[tiers.colours]``,
``[tiers.labels]``), loaded through ``analytics.settings.SETTINGS_PATH`` like the app does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import analytics.settings
from analytics import overview, store, tiers
from analytics.access import Scope
from analytics.settings import SETTINGS_PATH, load_settings, tier_lines
from ui import charts
from ui.i18n import t

APP = str(Path(__file__).resolve().parent.parent / "app.py")
RUBY, RUBY_LINE, RUBY_COLOUR = "ruby", 1_000_000, "#b03a48"
LABELS = {"zh": "红宝石", "en": "Ruby"}


def seven_tier_toml(labels: bool = True) -> str:
    """settings.toml with the seventh tier, edited as its [tiers] comment tells a bank to."""
    text = SETTINGS_PATH.read_text(encoding="utf-8")
    order = re.search(r"^order = \[.*\]$", text, re.M)
    assert order and '"platinum", "diamond"' in order.group(0)
    text = text.replace(
        order.group(0),
        order.group(0).replace('"platinum", "diamond"', f'"platinum", "{RUBY}", "diamond"'),
    )
    text = text.replace("[tiers.lines]\n", f"[tiers.lines]\n{RUBY} = {RUBY_LINE:_}\n", 1)
    text = text.replace("[tiers.colours]\n", f'[tiers.colours]\n{RUBY} = "{RUBY_COLOUR}"\n', 1)
    if labels:
        text = text.replace(
            "[tiers.labels]\n",
            f'[tiers.labels]\n{RUBY} = {{ zh = "{LABELS["zh"]}", en = "{LABELS["en"]}" }}\n',
            1,
        )
    return text


@pytest.fixture()
def seven(tmp_path, monkeypatch):
    """The app's settings are the seven-tier file for this test."""
    path = tmp_path / "settings.toml"
    path.write_text(seven_tier_toml(), encoding="utf-8")
    monkeypatch.setattr(analytics.settings, "SETTINGS_PATH", path)
    return load_settings()


def test_the_seventh_tier_is_in_every_tier_list(seven):
    assert tiers.tier_names() == [
        "mass",
        "potential",
        "gold",
        "platinum",
        RUBY,
        "diamond",
        "private",
    ]
    assert dict(tier_lines())[RUBY] == RUBY_LINE
    assert tiers.tier_colours()[4] == RUBY_COLOUR and len(charts.tier_colours()) == 7
    assert charts.tier_colour_map()[RUBY] == RUBY_COLOUR
    assert t(f"tier.{RUBY}", "zh") == LABELS["zh"] and t(f"tier.{RUBY}", "en") == LABELS["en"]
    assert t("tier.platinum", "zh") == "白金"  # the built-in tiers keep ui/i18n.py's names


def test_assignment_at_the_new_line(seven):
    assert tiers.tier_of(RUBY_LINE) == RUBY  # exactly on the line
    assert tiers.tier_of(RUBY_LINE - 0.01) == "platinum"  # one fen below
    assert tiers.tier_of(2_000_000 - 0.01) == RUBY
    assert tiers.tier_of(2_000_000) == "diamond"


def test_downgrade_rule_with_the_new_tier(seven, tmp_path):
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE client_aum_monthly (month_end DATE, client_id VARCHAR, branch_id VARCHAR,"
        " rm_id VARCHAR, aum DECIMAL(18,2), aum_month_end DECIMAL(18,2))"
    )
    series = {
        "up": [600_000, 600_000, 1_000_000, 1_000_000],  # reaches Ruby in month 3
        "down": [2_500_000, 1_500_000, 1_500_000, 1_500_000],  # Diamond, then 3 months in Ruby
        "grace": [1_200_000, 800_000, 800_000, 1_000_000],  # 2 months below Ruby: stays Ruby
    }
    for cid, values in series.items():
        for m, v in enumerate(values, start=1):
            con.execute(
                "INSERT INTO client_aum_monthly VALUES (?, ?, 'B001', 'R0001', ?, ?)",
                [date(2026, m, 28), cid, v, v],
            )
    con.close()
    sql, params = tiers.held_tiers_sql(Scope("head_office"))
    df = store.Database(path, read_only=True).query(
        f"SELECT client_id, month_end, tier FROM ({sql}) ORDER BY ALL", params
    )
    names = tiers.tier_names()
    held = {c: [names[x] for x in g["tier"]] for c, g in df.groupby("client_id")}
    assert held["up"] == ["platinum", "platinum", RUBY, RUBY]
    assert held["down"] == ["diamond", "diamond", "diamond", RUBY]
    assert held["grace"] == [RUBY, RUBY, RUBY, RUBY]


def test_overview_tier_summary_has_the_new_tier(demo_db_path, tmp_path, monkeypatch):
    """Seven tiers per month; the new tier takes its clients from Platinum only (it lies between
    Platinum and Diamond), and the high-end headline is unchanged (Ruby is above Platinum)."""
    wh = store.open_warehouse(demo_db_path)
    scope = Scope("head_office")
    six = overview.tier_summary(wh, scope)
    path = tmp_path / "settings.toml"
    path.write_text(seven_tier_toml(), encoding="utf-8")
    monkeypatch.setattr(analytics.settings, "SETTINGS_PATH", path)
    got = overview.tier_summary(wh, scope)
    assert set(got.groupby("month_end")["tier"].apply(tuple)) == {tuple(tiers.tier_names())}
    assert list(got.drop_duplicates("tier").sort_values("rank")["tier"]) == tiers.tier_names()
    per = got.pivot(index="month_end", columns="tier", values="clients")
    before = six.pivot(index="month_end", columns="tier", values="clients")
    for name in ("mass", "potential", "gold", "diamond", "private"):
        assert (per[name] == before[name]).all(), name
    assert (per["platinum"] + per[RUBY] == before["platinum"]).all()
    assert per[RUBY].iloc[-1] > 0  # the small demo has clients between 100万 and 200万
    # the same AUM partition
    assert (
        got.groupby("month_end")["aum"]
        .sum()
        .round(2)
        .equals(six.groupby("month_end")["aum"].sum().round(2))
    )
    assert overview.headline(got).high_end_clients == overview.headline(six).high_end_clients
    # independently: held Ruby in the latest month = the highest AUM of the last 3 month-ends
    # (the downgrade window) in [100万, 200万)
    latest = got["month_end"].max()
    window = sorted(got["month_end"].unique())[-3:]
    want = wh.scalar(
        """
        SELECT COUNT(*) FROM (
            SELECT client_id, MAX(aum) AS top FROM client_aum_monthly
            WHERE month_end IN (SELECT UNNEST(?::DATE[])) GROUP BY client_id
            HAVING BOOL_OR(month_end = ?)
        ) WHERE top >= ? AND top < ?
        """,
        [window, latest, RUBY_LINE, dict(tier_lines())["diamond"]],
    )
    assert per.loc[latest, RUBY] == want


def test_a_tier_without_a_label_shows_its_code(tmp_path, monkeypatch):
    """The choice written in settings.toml: no [tiers.labels] entry and no translation -> the code
    as typed in `order`; a labelled tier wins over the translation table."""
    path = tmp_path / "settings.toml"
    path.write_text(seven_tier_toml(labels=False), encoding="utf-8")
    monkeypatch.setattr(analytics.settings, "SETTINGS_PATH", path)
    assert t(f"tier.{RUBY}", "zh") == RUBY and t(f"tier.{RUBY}", "en") == RUBY
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(
        seven_tier_toml(labels=False).replace(
            "[tiers.labels]\n", '[tiers.labels]\ngold = { zh = "金卡客户", en = "Gold card" }\n', 1
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(analytics.settings, "SETTINGS_PATH", renamed)
    assert t("tier.gold", "zh") == "金卡客户" and t("tier.gold", "en") == "Gold card"
    assert t("tier.potential", "en") == "Potential"


def test_bad_tier_settings_are_refused_with_the_reason():
    s = load_settings()
    no_line = {**s, "tiers": {**s["tiers"], "order": [*s["tiers"]["order"], "black"]}}
    with pytest.raises(ValueError, match="black"):
        tier_lines(no_line)
    falling = {**s, "tiers": {**s["tiers"], "lines": {**s["tiers"]["lines"], "gold": 10_000}}}
    with pytest.raises(ValueError, match="rise"):
        tier_lines(falling)


# ---------------------------------------------------------------------------- pages


@pytest.fixture(scope="module")
def seven_app(demo_db_path, tmp_path_factory):
    """A data folder with the small demo published as current."""
    root = tmp_path_factory.mktemp("seven_app")
    copy = root / "incoming.duckdb"
    shutil.copy(demo_db_path, copy)
    store.publish_snapshot(copy, "demo", root)
    yield root
    st.cache_resource.clear()
    st.cache_data.clear()


def run(root: Path, page: str, lang: str, role: str = "head_office", **params) -> AppTest:
    old = os.environ.get("BRANCHLENS_DATA")
    os.environ["BRANCHLENS_DATA"] = str(root)
    try:
        # cached results are keyed by snapshot and scope, not by settings (read once per process
        # in the app): start from an empty cache so the seven-tier settings are what is computed
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["as"] = role
        at.query_params["lang"] = lang
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        if page != "pages/overview.py":
            at.switch_page(page)
            at.run()
        return at
    finally:
        if old is None:
            os.environ.pop("BRANCHLENS_DATA", None)
        else:
            os.environ["BRANCHLENS_DATA"] = old
        st.cache_data.clear()


def chart(at: AppTest, key: str) -> dict:
    """The plotly figure of the chart with widget key ``key``, as a dict."""
    for el in at.get("plotly_chart"):
        if key in el.proto.id:
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key}")


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_page_shows_the_seventh_tier(seven, seven_app, lang):
    at = run(seven_app, "pages/overview.py", lang)
    ok(at)
    bars = chart(at, "ov_tiers")["data"]
    label = LABELS[lang]
    for trace in bars:  # clients and AUM: seven bars each, Ruby in its colour
        assert len(trace["y"]) == 7 and label in trace["y"]
        assert trace["marker"]["color"][trace["y"].index(label)] == RUBY_COLOUR
    trend = chart(at, "ov_trend")
    ruby = [tr for tr in trend["data"] if tr.get("legendgroup") == RUBY or tr.get("name") == RUBY]
    assert ruby and ruby[0]["line"]["color"] == RUBY_COLOUR
    assert len(trend["data"]) == 7


def test_segmentation_high_end_threshold_and_rules_show_the_seventh_tier(seven, seven_app):
    seg = run(seven_app, "pages/segmentation.py", "zh")
    ok(seg)
    aum_bars = chart(seg, "seg_aum")["data"][0]
    assert aum_bars["y"][2] == LABELS["zh"]  # private, diamond, ruby, ...
    assert aum_bars["marker"]["color"][2] == RUBY_COLOUR

    he = run(seven_app, "pages/high_end.py", "en")
    ok(he)
    options = he.get("button_group")[0].proto.options
    assert LABELS["en"] in [o.content for o in options]

    th = run(seven_app, "pages/threshold.py", "en")
    ok(th)

    # a tier without a contact weight or cadence (both optional) plans and shows coverage
    plan = run(seven_app, "pages/contact_plan.py", "en", role="rm:R0001")
    ok(plan)

    rules = run(seven_app, "pages/settings.py", "zh")
    ok(rules)
    table = rules.dataframe[0].value
    assert LABELS["zh"] in list(table.iloc[:, 0])


def test_a_ruby_clients_view_names_the_tier(seven, seven_app, demo_db_path):
    wh = store.open_warehouse(demo_db_path)
    sql, params = tiers.held_tiers_sql(Scope("head_office"))
    client = wh.scalar(
        f"SELECT MIN(client_id) FROM ({sql}) WHERE tier = 4 "
        "AND month_end = (SELECT MAX(month_end) FROM client_aum_monthly)",
        params,
    )
    assert client is not None
    at = run(seven_app, "pages/client.py", "zh", client=client)
    ok(at)
    assert any(f"**{LABELS['zh']}**" in m.value for m in at.markdown)
