"""The glossary (术语表, issue 14 point 5): every entry's strings exist in zh and en, each term shows
both scripts, the numbers in the definitions are the settings in force (a copy of settings.toml with
another Platinum line and other 5-20-30 numbers changes the text), the page renders in both
languages for a trainer and an RM with the threshold entry's Platinum line formatted for the
language and a link to the page that uses it, and the search box filters to the expected entries."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import app_pages
import pytest
from streamlit.testing.v1 import AppTest

import analytics.settings
from analytics.settings import SETTINGS_PATH, load_settings
from ui import glossary_view
from ui.formats import money
from ui.i18n import EN, ZH
from ui.shell import PAGES_BY_ID

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TABLES = {"zh": ZH, "en": EN}


# ---------------------------------------------------------------------------- the entries


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_entry_key_exists_in_zh_and_en(lang):
    found = glossary_view.entries(lang)
    fixed = [key for key, _, _, _ in glossary_view.FIXED]
    tiers = [f"tier.{code}" for code in load_settings()["tiers"]["order"]]
    assert [e.key for e in found] == fixed[:3] + tiers + fixed[3:]  # the tiers follow "tiers"
    for entry in found:
        for key in entry.keys:
            assert key in ZH and key in EN, (entry.key, key)
        assert entry.group in glossary_view.GROUPS
        assert entry.page in PAGES_BY_ID
        assert entry.term and entry.definition
        assert "{" not in entry.term + entry.definition  # every field filled in
    for key, _, _, term_key in glossary_view.FIXED:
        assert f"gloss.def.{key}" in ZH and f"gloss.def.{key}" in EN
        assert (term_key or f"gloss.term.{key}") in ZH and (term_key or f"gloss.term.{key}") in EN
    for key in ("page.glossary", "gloss.title", "gloss.search", "gloss.count", "gloss.none"):
        assert key in ZH and key in EN


def by_key(lang: str, settings: dict | None = None) -> dict[str, glossary_view.Entry]:
    return {e.key: e for e in glossary_view.entries(lang, settings)}


def test_terms_show_both_scripts():
    zh, en = by_key("zh"), by_key("en")
    assert zh["threshold"].term == en["threshold"].term == "临界客户 · Threshold clients"
    assert zh["tier.platinum"].term == "白金 · Platinum"
    assert zh["dormant"].term == "睡眠户 · dormant account"
    assert zh["contact_rule"].term == "5-20-30 客户联络法则 · 5-20-30 contact rule"
    assert zh["pagerank"].term == "PageRank"  # the same in both scripts: shown once


def test_definitions_carry_the_default_numbers():
    """Known answers on the shipped settings.toml (50万 Platinum line, 10% bands, 5-20-30, ...)."""
    zh, en = by_key("zh"), by_key("en")
    assert "白金门槛 50万" in zh["threshold"].definition
    assert "AUM 在 45万 及以上、不足 50万" in zh["threshold"].definition
    assert "the Platinum line of ¥500,000, AUM from ¥450,000" in en["threshold"].definition
    assert "within 10% below" in en["threshold"].definition
    assert "3 consecutive months" in en["threshold"].definition
    assert "Mass < ¥50,000 ≤ Potential < ¥200,000 ≤ Gold < ¥500,000 ≤ Platinum" in (
        en["tiers"].definition
    )
    assert en["tier.platinum"].definition.startswith("Clients with AUM from ¥500,000 up to below")
    assert "5 deep contacts" in en["contact_rule"].definition
    assert "20 effective calls and 30 light touches" in en["contact_rule"].definition
    assert "前 20%" in zh["mvc"].definition and "非负贡献客户人数" in zh["mvc"].definition
    assert "the top 30% of them" in en["mgc"].definition
    assert "percentile 80" in en["potential"].definition
    assert "in the last 12 months" in en["dormant"].definition
    assert "180 days" in en["dormant"].definition
    assert "Private every 7 days" in en["cadence"].definition
    assert "Mass: none" in en["cadence"].definition
    assert "AAA ≤ 0.25%" in en["grades"].definition and "CC ≤ 25%" in en["grades"].definition
    assert "damping 0.85) 40%" in en["social"].definition
    assert "要花的钱 10%、保命的钱 20%、生钱的钱 30%、保本升值的钱 40%" in zh["pockets"].definition


def test_definitions_follow_a_patched_settings_dict(monkeypatch):
    """Change the numbers in a copy of the settings and the text changes with them."""
    s = copy.deepcopy(load_settings())
    s["tiers"]["lines"]["platinum"] = 800_000
    s["threshold"]["upgrade_band"] = 0.05
    s["contact_rule"].update(deep=6, calls=25, light=40)
    s["value_tiers"]["mvc_top_share"] = 0.25
    monkeypatch.setattr(glossary_view, "load_settings", lambda: s)
    for lang in ("zh", "en"):
        found = by_key(lang)
        assert money(800_000, lang) in found["threshold"].definition
        assert money(760_000, lang) in found["threshold"].definition  # (1 - 5%) x 80万
        assert money(500_000, lang) not in found["threshold"].definition
        assert "5%" in found["threshold"].definition
        assert money(800_000, lang) in found["tier.platinum"].definition
        assert money(800_000, lang) in found["tier.gold"].definition  # Gold ends at Platinum
        assert money(800_000, lang) in found["high_end"].definition
        assert "6-25-40" in found["contact_rule"].term
        assert "5-20-30" not in found["contact_rule"].term
        assert "25%" in found["mvc"].definition
    en = by_key("en")
    assert "6 deep contacts" in en["contact_rule"].definition
    assert "25 effective calls and 40 light touches" in en["contact_rule"].definition
    assert "6 次深度联络" in by_key("zh")["contact_rule"].definition


def patched_settings_file(path: Path) -> Path:
    """settings.toml with the Platinum line at 80万 and the 5-20-30 rule as 6-25-40."""
    text = SETTINGS_PATH.read_text(encoding="utf-8")

    def set_in(section: str, key: str, value: str) -> None:
        nonlocal text
        start = text.index(f"\n[{section}]\n")
        m = re.compile(rf"^{key} = [\d_.]+", re.M).search(text, start)
        assert m, (section, key)
        text = text[: m.start()] + f"{key} = {value}" + text[m.end() :]

    set_in("tiers.lines", "platinum", "800_000")
    for key, value in (("deep", "6"), ("calls", "25"), ("light", "40")):
        set_in("contact_rule", key, value)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def patched_file(tmp_path, monkeypatch):
    """The app's settings are the patched copy of settings.toml for this test."""
    path = patched_settings_file(tmp_path / "settings.toml")
    monkeypatch.setattr(analytics.settings, "SETTINGS_PATH", path)
    return load_settings()


def test_definitions_follow_a_patched_settings_file(patched_file):
    assert patched_file["tiers"]["lines"]["platinum"] == 800_000
    for lang in ("zh", "en"):
        found = by_key(lang)  # no settings passed: the file in force
        assert money(800_000, lang) in found["threshold"].definition
        assert money(720_000, lang) in found["threshold"].definition  # (1 - 10%) x 80万
        assert found["contact_rule"].term == "6-25-40 客户联络法则 · 6-25-40 contact rule"
    assert "6 deep contacts" in by_key("en")["contact_rule"].definition


# ---------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    "lang, query, keys",
    [
        ("zh", "临界", ["aum", "threshold", "relationship", "contact_rule"]),
        ("zh", "THRESHOLD", ["threshold"]),  # the English half of the term, any case
        ("en", "threshold", ["aum", "threshold", "contact_rule"]),
        ("en", "mvc", ["mvc", "mgc", "lvc"]),
        ("zh", "ＭＶＣ", ["mvc", "mgc", "lvc"]),  # full-width letters from an IME
        ("en", "PageRank", ["social", "pagerank"]),
        ("en", "白金", ["tier.platinum"]),  # the Chinese half of the term in the English view
        ("en", "no such term", []),
    ],
)
def test_search_matches_term_or_definition(lang, query, keys):
    found = glossary_view.entries(lang)
    assert [e.key for e in glossary_view.matching(found, query)] == keys


def test_an_empty_search_shows_everything():
    found = glossary_view.entries("en")
    assert glossary_view.matching(found, "") == found
    assert glossary_view.matching(found, "   ") == found
    assert glossary_view.matching(found, None) == found


# ---------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def app_data(demo_db_path, tmp_path_factory):
    """A data folder with the small demo snapshot published as current; the app reads it."""
    root = tmp_path_factory.mktemp("glossary-data")
    with app_pages.published_demo(root, demo_db_path):
        yield root


def open_glossary(role: str, lang: str) -> AppTest:
    """The app opened on the glossary directly (its url_path is its file name, so the page can be
    picked before the first run: the overview is not run first)."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["as"] = role
    at.query_params["lang"] = lang
    at.switch_page(PAGES_BY_ID["glossary"].path)
    at.run()
    return at


def shown(at: AppTest) -> dict[str, str]:
    """Term -> definition of the entries on screen (each entry: a bold term, then its text)."""
    values = [m.value for m in at.main.markdown]
    return {
        v.strip("*"): values[i + 1]
        for i, v in enumerate(values[:-1])
        if v.startswith("**") and v.endswith("**")
    }


def links(at: AppTest) -> list[str]:
    return [el.proto.label for el in at.main.get("page_link")]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ["trainer", "rm:R0001"])
def test_the_page_renders_with_the_threshold_entry(app_data, role, lang):
    at = open_glossary(role, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    table = TABLES[lang]
    assert at.title[0].value == table["page.glossary"]
    entries = shown(at)
    assert len(entries) == len(glossary_view.entries(lang))
    threshold = entries["临界客户 · Threshold clients"]
    line = money(500_000, lang)
    assert line == ("50万" if lang == "zh" else "¥500,000")
    assert line in threshold and money(450_000, lang) in threshold
    see = table["gloss.see"].format(page=table["page.threshold"])
    assert see in links(at)
    assert len(links(at)) == len(entries)  # every page linked is open to every role


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_search_box_filters_the_page(app_data, lang):
    at = open_glossary("rm:R0001", lang)
    at.text_input(key="gloss_q").input("pagerank").run()
    assert not at.exception
    entries = shown(at)
    assert list(entries) == ["社会价值（影响力） · social value (influence)", "PageRank"]
    total = len(glossary_view.entries(lang))
    assert TABLES[lang]["gloss.count"].format(n=2, total=total) in [c.value for c in at.caption]
    assert set(links(at)) == {TABLES[lang]["gloss.see"].format(page=TABLES[lang]["page.corporate"])}
    at.text_input(key="gloss_q").input("no such term").run()
    assert shown(at) == {}
    assert [i.value for i in at.info] == [TABLES[lang]["gloss.none"].format(q="no such term")]


def test_the_page_follows_a_patched_settings_file(app_data, patched_file):
    at = open_glossary("trainer", "en")
    assert not at.exception, [e.value for e in at.exception]
    entries = shown(at)
    assert "¥800,000" in entries["临界客户 · Threshold clients"]
    assert "6 deep contacts" in entries["6-25-40 客户联络法则 · 6-25-40 contact rule"]
