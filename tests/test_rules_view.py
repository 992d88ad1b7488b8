"""The Rules view (issue 14 point 3): settings.toml as a readable table per section, in zh and en,
with the raw file behind a collapsed expander."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import app_pages
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Expander

from analytics import rules_doc
from ui import rules_view
from ui.i18n import EN, ZH

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
RAW = (ROOT / "settings.toml").read_text(encoding="utf-8")
SETTINGS = tomllib.loads(RAW)
TABLES = {"zh": ZH, "en": EN}

# Settings of settings.toml shown without an explanation (their key only). Empty: every key a
# bank would change is explained. A key added to the file without one must be listed here (or
# given rules.<doc key> and rulename.<doc key> in ui/i18n.py).
WITHOUT_EXPLANATION: list[str] = []


def leaf_keys(table: dict, prefix: str) -> list[str]:
    """Every value's full key, walked independently of analytics.rules_doc."""
    out = []
    for key, value in table.items():
        full = f"{prefix}.{key}"
        if isinstance(value, dict) and value:
            out += leaf_keys(value, full)
        else:
            out.append(full)
    return out


def toml_comments() -> set[str]:
    """The file's comment lines (the longer ones: words a view must not show)."""
    lines = [line.strip() for line in RAW.splitlines()]
    return {c for c in (line[1:].strip() for line in lines if line.startswith("#")) if len(c) > 15}


def rows_by_key(lang: str) -> dict[str, tuple[str, str, str]]:
    """Full key -> (name, value, explanation) over every block."""
    out = {}
    for block in rules_view.blocks(SETTINGS, lang):
        for name, value, about, key in block.table.itertuples(index=False):
            out[f"{block.section}.{key}"] = (name, value, about)
    return out


# ---------------------------------------------------------------------------- the tables


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_top_level_section_gets_a_titled_block(lang):
    blocks = rules_view.blocks(SETTINGS, lang)
    assert [b.section for b in blocks] == list(SETTINGS)
    assert len(blocks) == 26
    for block in blocks:
        assert block.title == TABLES[lang][f"rulesection.{block.section}"]
    assert {b.section: b.title for b in blocks}["contact_rule"] == {
        "zh": "5-20-30 联络法则",
        "en": "5-20-30 contact rule",
    }[lang]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_table_has_a_row_per_key_of_its_section(lang):
    table = TABLES[lang]
    cols = [table[c] for c in rules_view.COLUMNS]
    for block in rules_view.blocks(SETTINGS, lang):
        assert list(block.table.columns) == cols
        expected = [k.split(".", 1)[1] for k in leaf_keys(SETTINGS[block.section], block.section)]
        assert list(block.table[cols[3]]) == expected, block.section
        assert block.table[cols[0]].str.len().min() > 0
        assert block.table[cols[1]].str.len().min() > 0
    tiers = next(b for b in rules_view.blocks(SETTINGS, lang) if b.section == "tiers").table
    assert len(tiers) == 15  # order, downgrade, high-end, 5 lines, 6 colours, empty labels


# (full key) -> {lang: (name, value)}: hand-picked settings with their exact rendering
# fmt: off
PICKED = {
    "tiers.lines.platinum": {"zh": ("分层线 · 白金", "50万"), "en": ("Line · Platinum", "¥500,000")},
    "tiers.lines.potential": {"zh": ("分层线 · 潜力", "5万"), "en": ("Line · Potential", "¥50,000")},
    "tiers.order": {
        "zh": ("层级顺序", "大众、潜力、金卡、白金、钻石、私行"),
        "en": ("Tier order", "Mass, Potential, Gold, Platinum, Diamond, Private"),
    },
    "tiers.high_end_from": {"zh": ("中高端起点", "白金"), "en": ("High-end from", "Platinum")},
    "tiers.downgrade_after_months": {"zh": ("降级等待期", "3 个月"), "en": ("Downgrade after", "3 months")},
    "tiers.labels": {"zh": ("自定义层级名称", "（空）"), "en": ("Own tier names", "(none)")},
    "funds.loss_line": {"zh": ("基金浮亏线", "-15%"), "en": ("Fund-loss line", "-15%")},
    "funds.categories": {
        "zh": ("基金类产品", "货币基金、债券基金、混合基金、股票基金"),
        "en": ("Fund categories", "Money-market funds, Bond funds, Mixed funds, Equity funds"),
    },
    "invitations.deposit_rate_3y": {"zh": ("三年期存款利率", "1.25%"), "en": ("3-year deposit rate", "1.25%")},
    "invitations.upgrade_line_tier": {"zh": ("升级目标层级", "白金"), "en": ("Upgrade target tier", "Platinum")},
    "contribution.current_deposit_spread": {"zh": ("活期存款利差", "1.8%"), "en": ("Current-deposit spread", "1.8%")},
    "contribution.cost_to_serve_per_year": {"zh": ("年服务成本", "60元"), "en": ("Cost to serve a year", "¥60")},
    "corporate.cost_to_serve_per_year": {"zh": ("年服务成本", "2,000元"), "en": ("Cost to serve a year", "¥2,000")},
    "seniors.large_maturity_amount": {"zh": ("大额到期金额", "20万"), "en": ("Large maturity", "¥200,000")},
    "contact_rule.deep": {"zh": ("每日深度联络", "5"), "en": ("Deep contacts a day", "5")},
    "contact_rule.cadence_fill_slot": {"zh": ("补位渠道", "有效电话"), "en": ("Fill-in slot", "Call")},
    "contact_rule.cadence_days.platinum": {"zh": ("联络周期 · 白金", "14 天"), "en": ("Cadence · Platinum", "14 days")},
    "contact_rule.triggers.maturity_t7.deadline_days": {
        "zh": ("产品到期（T-7） · 顺延截止", "-4 天"),
        "en": ("Maturity (T-7) · Carried until", "-4 days"),
    },
    "contact_rule.triggers.insurance_callback.keep_slot": {
        "zh": ("保险回访 · 固定渠道", "是"),
        "en": ("Insurance call-back · Keeps its slot", "Yes"),
    },
    "contact_rule.holidays": {
        "zh": ("额外休息日", "2027年1月1日、2027年2月5日、2027年2月8日"),
        "en": ("Extra days off", "1 Jan 2027, 5 Feb 2027, 8 Feb 2027"),
    },
    "contact_rule.working_days": {"zh": ("调休上班日", "（空）"), "en": ("Make-up working days", "(none)")},
    "cohorts.senior_bands": {
        "zh": ("中老年年龄段", "50–59 岁、60–69 岁、70 岁及以上"),
        "en": ("Senior age bands", "50–59, 60–69, 70+"),
    },
    "threshold.mobile_min_logins": {"zh": ("手机银行最少登录", "1 次"), "en": ("Least mobile logins", "1 time")},
    "demo.clients": {"zh": ("零售客户数", "24,000"), "en": ("Retail clients", "24,000")},
    "demo.seed": {"zh": ("随机种子", "20261123"), "en": ("Random seed", "20261123")},
    "demo.as_of": {"zh": ("数据截至", "2026年10月31日"), "en": ("As of", "31 Oct 2026")},
    "stores.stale_after_days": {"zh": ("数据过期天数", "7 天"), "en": ("Stale after", "7 days")},
    "privacy.owner_may_unmask": {"zh": ("客户经理可看明文", "是"), "en": ("RM may unmask", "Yes")},
    "tags.high_net_worth.min_tier": {"zh": ("高净值 · 最低层级", "私行"), "en": ("High net worth · Lowest tier", "Private")},
    "tags.retirement_age.F": {"zh": ("退休年龄 · 女", "55 岁"), "en": ("Retirement age · Female", "age 55")},
    "allocation.pocket_targets.grow": {"zh": ("四笔钱目标 · 生钱的钱", "30%"), "en": ("Pocket target · Money to grow", "30%")},
    "allocation.scores.wealth.R3.pocket": {
        "zh": ("三性评分 · 理财产品 · R3 · 归属", "生钱的钱"),
        "en": ("Scores · Wealth products · R3 · Pocket", "Money to grow"),
    },
    "allocation.bands.C1.safety_min": {"zh": ("目标区间 · C1 · 安全性下限", "4.5"), "en": ("Target band · C1 · Least safety", "4.5")},
    "allocation.severity.suitability": {"zh": ("严重程度 · 持有超风险等级产品", "高"), "en": None},
    "corporate.social.weights.pagerank": {"zh": ("社会价值权重 · PageRank", "40%"), "en": ("Social value weight · PageRank", "40%")},
    "scorecard.grade_pd.AAA": {"zh": ("评级违约率上限 · AAA", "0.25%"), "en": ("Grade PD limit · AAA", "0.25%")},
    "scorecard.population": {"zh": ("训练样本", "仅有贷款的企业"), "en": ("Training population", "Borrowers only")},
    "scorecard.overrides.overdue_tax.reason": {
        "zh": ("规则调整 · 欠税封顶 · 原因", "有欠税记录"),
        "en": ("Override · Tax-arrears cap · Reason", "Tax arrears on record"),
    },
    "importer.codes.gender.M": {"zh": ("代码写法 · 性别 · 男", "m、男、男性、1、male"), "en": None},
    "importer.codes.category.match": {"zh": ("代码写法 · 产品类别 · 匹配方式", "包含"), "en": ("Spellings · Product category · Match", "Contains")},
    "importer.max_upload_mb": {"zh": ("上传大小上限", "200 MB"), "en": ("Upload limit", "200 MB")},
    "importer.max_xlsx_ratio": {"zh": ("XLSX 压缩比上限", "100 倍"), "en": ("XLSX ratio limit", "100×")},
    "auth.argon2_memory_kib": {"zh": ("Argon2 内存", "19,456 KiB"), "en": ("Argon2 memory", "19,456 KiB")},
    "auth.session_minutes": {"zh": ("空闲超时", "30 分钟"), "en": ("Idle timeout", "30 minutes")},
}
# fmt: on


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hand_picked_settings_are_named_and_formatted_for_the_language(lang):
    rows = rows_by_key(lang)
    for key, by_lang in PICKED.items():
        if by_lang[lang] is None:
            continue
        name, value, about = rows[key]
        assert (name, value) == by_lang[lang], key
        assert about, key
    assert rows["tiers.lines.platinum"][2] == TABLES[lang]["rules.tiers.lines"]
    assert rows["allocation.severity.suitability"][1] == TABLES[lang]["sev.high"]


def test_the_explanations_come_from_the_string_table_not_the_toml_comments():
    comments = toml_comments()
    for lang in ("zh", "en"):
        for _, _, about in rows_by_key(lang).values():
            assert about not in comments
            assert about == "" or about in TABLES[lang].values()


# ---------------------------------------------------------------------------- the string table


def test_every_explanation_and_name_key_exists_in_zh_and_en():
    keys = rules_doc.spec_doc_keys()
    assert len(keys) > 200
    for key in keys:
        for table in (ZH, EN):
            assert f"rules.{key}" in table, key
            assert f"rulename.{key}" in table, key
    for section in SETTINGS:
        assert f"rulesection.{section}" in ZH and f"rulesection.{section}" in EN, section
    view_keys = {
        k for k in ZH if k.startswith(("rules.", "rulename.", "rulesection.", "rulesview."))
    }
    assert view_keys == {
        k for k in EN if k.startswith(("rules.", "rulename.", "rulesection.", "rulesview."))
    }


def test_the_settings_without_an_explanation_are_listed():
    assert set(rules_doc.doc_keys(SETTINGS)) <= set(rules_doc.spec_doc_keys())
    for lang in ("zh", "en"):
        assert rules_view.missing_explanations(SETTINGS, lang) == WITHOUT_EXPLANATION


def test_every_code_in_the_settings_has_a_label():
    """Codes shown by name have one in both languages; only codes that are names themselves
    (risk levels, grades, T+n liquidity) show as written."""
    as_written = set()
    for lang in ("zh", "en"):
        for _, rows in rules_doc.settings_doc(SETTINGS):
            for row in rows:
                for kind, code in row.codes:
                    if kind != "raw" and rules_view.code_label(kind, code, lang) == code:
                        as_written.add((kind, code))
    assert as_written == {("liquidity", "T+0"), ("liquidity", "T+1"), ("liquidity", "T+3")}


def test_a_key_the_table_does_not_know_shows_its_key_and_no_explanation():
    own = copy.deepcopy(SETTINGS)
    own["tiers"]["review_day"] = 15
    own["branch_rules"] = {"quiet": {"hours": ["12:00", "13:00"]}}
    rows = {}
    for block in rules_view.blocks(own, "zh"):
        for r in block.table.itertuples(index=False):
            rows[f"{block.section}.{r[3]}"] = (rules_view.heading(block), *r[:3])
    assert rows["tiers.review_day"] == ("AUM 分层 `tiers`", "review_day", "15", "")
    assert rows["branch_rules.quiet.hours"] == (
        "`branch_rules`",  # a section the table has no title for: its name only
        "quiet.hours",
        "12:00、13:00",
        "",
    )
    assert rules_view.missing_explanations(own, "zh") == [
        "tiers.review_day",
        "branch_rules.quiet.hours",
    ]


def test_a_value_of_the_wrong_type_is_shown_as_written():
    own = copy.deepcopy(SETTINGS)
    own["tiers"]["lines"]["platinum"] = "fifty"
    (tiers,) = [b.table for b in rules_view.blocks(own, "en") if b.section == "tiers"]
    assert tiers.set_index("Key in the file").loc["lines.platinum", "Value"] == "fifty"


# ---------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def app_data(demo_db_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("rulesdata")
    with app_pages.published_demo(root, demo_db_path):
        yield root


def rules_page(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["as"] = "trainer"
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def texts_outside_expanders(node) -> list[str]:
    """Every visible text of the page outside expanders: headings, markdown, captions, code and
    every cell and header of every table."""
    out = []
    for child in getattr(node, "children", {}).values():
        if isinstance(child, Expander):
            continue
        kind = getattr(child, "type", "")
        if kind in ("dataframe", "table"):
            df = child.value
            out += [str(c) for c in df.columns] + [str(v) for v in df.to_numpy().ravel()]
        elif kind in ("markdown", "title", "header", "subheader", "caption", "code", "text"):
            out.append(str(child.value))
        out += texts_outside_expanders(child)
    return out


def test_the_page_in_zh_shows_a_block_per_section_and_the_raw_file_only_in_the_expander(app_data):
    at = rules_page("zh")
    assert at.title[0].value == ZH["settings.title"]
    # the tier-lines summary first (its first column: the tier names), then a block per section:
    # its title from the string table with the section's name in the file, and its table
    subheaders = [s.value for s in at.subheader]
    titles = [f"{ZH[f'rulesection.{s}']} `{s}`" for s in SETTINGS]
    assert subheaders == [ZH["settings.tier_lines"], *titles]
    assert (
        subheaders[2] == "AUM 分层 `tiers`" and subheaders[11] == "5-20-30 联络法则 `contact_rule`"
    )
    tier_names = ["大众", "潜力", "金卡", "白金", "钻石", "私行"]
    assert len(at.dataframe) == 1 and list(at.dataframe[0].value.iloc[:, 0]) == tier_names
    assert len(at.table) == len(SETTINGS)
    tiers = at.table[list(SETTINGS).index("tiers")].value
    values = tiers.set_index(ZH["rulesview.col_key"])[ZH["rulesview.col_value"]]
    assert (
        values["lines.platinum"] == "50万"
        and values["order"] == "大众、潜力、金卡、白金、钻石、私行"
    )

    # the raw file: one code block, inside the collapsed expander
    (expander,) = at.expander
    assert expander.label == ZH["rulesview.raw"] and not expander.proto.expanded
    assert len(at.code) == 1 and expander.code[0].value == RAW.rstrip("\n")

    outside = texts_outside_expanders(at.main)
    assert "50万" in outside and ZH["rules.tiers.lines"] in outside  # the tables were read
    assert RAW.rstrip("\n") not in outside
    assignment = re.compile(r"^\s*[\w\"+-]+\s*=\s*\S", re.M)
    header = re.compile(r"^\s*\[[\w.]+\]\s*$", re.M)
    comments = toml_comments()
    for text in outside:
        assert not assignment.search(text), text
        assert not header.search(text), text
        assert not any(c in text for c in comments), text


def test_the_page_in_en_names_the_sections_in_english(app_data):
    at = rules_page("en")
    subheaders = [s.value for s in at.subheader]
    assert "Credit scorecard `scorecard`" in subheaders
    assert not [s for s in subheaders if ZH["rulesection.scorecard"] in s]
    assert at.expander[0].label == EN["rulesview.raw"]
