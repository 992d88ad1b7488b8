"""The zh and en string tables and the number formats."""

import re
import string
from datetime import date
from pathlib import Path

from ui import formats
from ui.i18n import EN, ZH, lang_from_locale, t

ROOT = Path(__file__).resolve().parent.parent


def test_tables_have_identical_keys():
    assert set(ZH) == set(EN)


def test_placeholders_match():
    def fields(s):
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    for key in ZH:
        assert fields(ZH[key]) == fields(EN[key]), key


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
    assert formats.money_short(2_500_000, "zh") == "250.0万"


def test_dates_and_shares():
    d = date(2026, 10, 31)
    assert formats.day(d, "zh") == "2026年10月31日" and formats.day(d, "en") == "31 Oct 2026"
    assert formats.month(d, "zh") == "2026年10月" and formats.month(d, "en") == "Oct 2026"
    assert formats.pct(0.1234) == "12.3%"
    assert abs(formats.change(110, 100) - 0.1) < 1e-12
    assert formats.change(1, 0) is None and formats.change(1, None) is None
