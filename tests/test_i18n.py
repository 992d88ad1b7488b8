"""The zh and en string tables and the number formats."""

import re
import string
from datetime import date
from pathlib import Path

from ui import formats
from ui.i18n import EN, EN_ONE, ZH, lang_from_locale, t

ROOT = Path(__file__).resolve().parent.parent


def test_tables_have_identical_keys():
    assert set(ZH) == set(EN)


def test_placeholders_match():
    def fields(s):
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    for key in ZH:
        assert fields(ZH[key]) == fields(EN[key]), key


def test_english_singulars_fit_their_strings():
    """Every singular belongs to a key of the tables, names the count field that string has, and
    uses no field the string lacks (a caller passes the string's fields)."""

    def fields(s):
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    for key, (count, one) in EN_ONE.items():
        assert key in EN and count in fields(EN[key]), key
        assert fields(one) <= fields(EN[key]), key


def test_a_count_of_one_reads_in_the_singular():
    assert t("client.children", "en", n=1, ages="14") == "1 child (aged 14)"
    assert t("client.children", "en", n=2, ages="8, 12") == "2 children (aged 8, 12)"
    assert t("plan.days_accepted", "en", n=0, total=1) == "0 of 1 day"
    assert t("plan.days_accepted", "en", n=1, total=5) == "1 of 5 days"
    assert t("client.children", "zh", n=1, ages="14") == ZH["client.children"].format(
        n=1, ages="14"
    )
    assert "(s)" not in " ".join(EN.values())


def test_no_empty_strings():
    assert all(v.strip() for v in ZH.values()) and all(v.strip() for v in EN.values())


def test_every_key_used_in_code_exists():
    """Literal keys passed to t()/tr() anywhere in the app exist in the table."""
    used = set()
    for path in [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")]:
        used |= set(re.findall(r"""\btr?\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text()))
    assert used, "found no keys: the pattern is wrong"
    assert used <= set(ZH), used - set(ZH)


def test_t_formats_fields():
    assert t("sidebar.as_of", "zh", date="2026-10-31") == "数据截至 2026-10-31"
    assert t("sidebar.as_of", "en", date="2026-10-31") == "Data as of 2026-10-31"


def test_locale():
    assert lang_from_locale("zh-CN") == "zh" and lang_from_locale("zh-TW") == "zh"
    assert lang_from_locale("en-US") == "en" and lang_from_locale(None) == "en"


def test_money_formats():
    assert formats.money(123_456_789, "zh") == "1.23亿"
    assert formats.money(4_567_000, "zh") == "456.7万"
    assert formats.money(8_900, "zh") == "8,900元"
    assert formats.money(1_234_567, "en") == "¥1,234,567"
    assert formats.money(-500, "en") == "-¥500"
    assert formats.money(None, "en") == "—"
    assert formats.money_short(2_500_000, "en") == "¥2.5m"
    assert formats.money_short(2_500_000, "zh") == "250万"


def test_whole_wan_and_yi_read_without_zeros():
    """Issue 14: a whole 万 is "50万", not "50.0万"; the rounding decides what is whole."""
    assert formats.money(500_000, "zh") == "50万"
    assert formats.money(500_400, "zh") == "50万"  # 50.04万 at one decimal
    assert formats.money(505_000, "zh") == "50.5万"
    assert formats.money(-500_000, "zh") == "-50万"
    assert formats.money(26_460_000, "zh") == "2,646万"
    assert formats.money(200_000_000, "zh") == "2亿"
    assert formats.money(150_000_000, "zh") == "1.5亿"
    assert formats.money(8_000, "zh") == "8,000元"


def test_dates_and_shares():
    d = date(2026, 10, 31)
    assert formats.day(d, "zh") == "2026年10月31日" and formats.day(d, "en") == "31 Oct 2026"
    assert formats.month(d, "zh") == "2026年10月" and formats.month(d, "en") == "Oct 2026"
    assert formats.pct(0.1234) == "12.3%"
    assert abs(formats.change(110, 100) - 0.1) < 1e-12
    assert formats.change(1, 0) is None and formats.change(1, None) is None
