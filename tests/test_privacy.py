"""Masking of personal data (analytics/privacy.py): known answers and leak properties."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from analytics.privacy import (
    COMPOUND_SURNAMES,
    PII_MASKERS,
    mask_account,
    mask_address,
    mask_frame,
    mask_id_number,
    mask_name,
    mask_phone,
)

ALL_MASKERS = [mask_name, mask_id_number, mask_phone, mask_account, mask_address]


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # the surname, then always "**": the length of the given name never shows
        ("张三", "张**"),
        ("张三丰", "张**"),
        ("李四", "李**"),
        ("王小明", "王**"),
        ("欧阳明", "欧阳**"),
        ("欧阳明月", "欧阳**"),
        ("司马光", "司马**"),
        ("司马相如", "司马**"),
        ("诸葛亮", "诸葛**"),
        ("诸葛孔明", "诸葛**"),
        ("上官婉儿", "上官**"),
        ("爱新觉罗溥仪", "爱**"),  # not in the compound list: one surname character
        ("欧阳", "欧**"),  # compound surname alone: never show a whole name
        ("司马", "司**"),
        ("张", "***"),  # a one-character name: nothing of it, same width as 张**
        ("  张三  ", "张**"),
        ("王 芳", "王**"),
    ],
)
def test_mask_name_chinese(name, expected):
    assert mask_name(name) == expected


def test_compound_surnames_set():
    assert isinstance(COMPOUND_SURNAMES, frozenset)
    assert {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙"} <= (
        COMPOUND_SURNAMES
    )
    assert {"宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里"} <= (
        COMPOUND_SURNAMES
    )
    assert all(len(s) == 2 for s in COMPOUND_SURNAMES)


def test_mask_name_non_compound_two_char_start_keeps_one_char():
    # '王欧' is not a compound surname: only the first character is the surname.
    assert mask_name("王欧阳") == "王**"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # the first word (the surname), then always " **", whatever the given name
        ("Wang Fang", "Wang **"),
        ("Liu Yi", "Liu **"),
        ("Liu Xiaoming", "Liu **"),
        ("Liu Zhongxiaoming", "Liu **"),
        ("Ouyang Mingyue", "Ouyang **"),
        ("Zhang San", "Zhang **"),
        ("Li Xiao Ming", "Li **"),  # a given name in two words: neither count nor length shows
        ("  Wang   Fang ", "Wang **"),
        ("Wang, Fang", "Wang **"),
        ("Wang", "W***"),
        ("Wangxiaoming", "W***"),
        ("W", "***"),
        (",,,", "***"),
        (",", "***"),
    ],
)
def test_mask_name_latin(name, expected):
    assert mask_name(name) == expected


def test_mask_name_width_does_not_depend_on_the_given_name():
    for group in (
        ["张三", "张三丰", "张三丰一"],
        ["欧阳明", "欧阳明月", "欧阳明月星"],
        ["Liu Yi", "Liu Xiaoming", "Liu Xiao Ming"],
    ):
        assert len({mask_name(n) for n in group}) == 1, group


def test_mask_name_never_shows_given_name():
    for name in ["张三", "张三丰", "欧阳明月", "Wang Fang", "Ouyang Mingyue"]:
        masked = mask_name(name)
        assert masked != name
        given = name.split()[-1] if " " in name else name[-1]
        assert given not in masked


# --- ID numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_number", "expected"),
    [
        ("11010119900307123X", "110101********123X"),
        ("110101199003071234", "110101********1234"),
        ("11010119900307123x", "110101********123X"),  # lowercase check digit, shown as X
        (" 11010119900307123X ", "110101********123X"),
        ("110101 19900307 1234", "110101********1234"),
        ("１１０１０１１９９００３０７１２３Ｘ", "110101********123X"),  # full-width
        ("110101900307123", "110101*****7123"),  # 15-digit first-generation card
    ],
)
def test_mask_id_number_valid(id_number, expected):
    assert mask_id_number(id_number) == expected


def test_mask_id_number_lengths_preserved():
    assert len(mask_id_number("11010119900307123X")) == 18
    assert len(mask_id_number("110101900307123")) == 15


@pytest.mark.parametrize(
    "bad",
    [
        "1101011990030712",  # 16 digits
        "1101011990030712345",  # 19 digits
        "1101011990030X1234",  # X not in last position
        "11010119900307123Y",
        "ABCDEFGHIJKLMNOPQR",
        "12345",
        "11010119900307123XX",
    ],
)
def test_mask_id_number_invalid_fully_masked(bad):
    assert mask_id_number(bad) == "*" * len(bad)


def test_mask_id_number_from_int():
    assert mask_id_number(110101199003071234) == "110101********1234"


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+8613812345678", "+86 138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("+86-138-1234-5678", "+86 138****5678"),
        ("(+86) 138-1234-5678", "+86 138****5678"),
        ("8613812345678", "86 138****5678"),
        ("0086 138 1234 5678", "0086 138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        (13812345678, "138****5678"),
    ],
)
def test_mask_phone_mobile(phone, expected):
    assert mask_phone(phone) == expected


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("010-87654321", "*******4321"),  # landline with area code: last 4 only
        ("87654321", "****4321"),
        ("1381234567", "******4567"),  # 10 digits: not a mobile
        ("138123456789", "********6789"),  # 12 digits
        ("+86 21 1234 5678", "+86 ******5678"),
        ("+852 9123 4567", "+*******4567"),
        ("1234", "****"),  # never the whole number
        ("12", "**"),
    ],
)
def test_mask_phone_other(phone, expected):
    assert mask_phone(phone) == expected


# --- accounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        # 16 and 19 digits: 6 + 4 would mask less than half, so only the last 4 show.
        ("6222021234567890", "622202******7890"),
        ("6222 0212 3456 7890", "622202******7890"),
        ("6222021234567890123", "622202*********0123"),
        ("6222 0212 3456 7890 123", "622202*********0123"),
        ("6222-0212-3456-7890-123", "622202*********0123"),
        ("62220212345678901234", "622202**********1234"),
        ("6222021234567890123456", "622202************3456"),
        # short accounts
        ("12345678", "****5678"),
        ("1234 5678", "****5678"),
        ("1234567", "****567"),
        ("123456", "***456"),
        ("1234", "**34"),
        ("1", "*"),
    ],
)
def test_mask_account(account, expected):
    assert mask_account(account) == expected


def test_mask_account_shows_at_most_six_and_four():
    for n in range(1, 30):
        masked = mask_account("9" * n)
        assert len(masked) == n
        assert len(masked) - masked.count("*") <= 10
        # a card (16+) shows first 6 + last 4; anything shorter keeps at least half hidden
        assert masked.count("*") * 2 >= n or n >= 16


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("北京市朝阳区建国路88号3单元1201室", "北京市朝阳区****"),
        ("广东省深圳市南山区科技园路1号", "广东省深圳市南山区****"),
        ("上海市浦东新区张江路100号", "上海市浦东新区****"),
        ("重庆市云阳县人民路5号", "重庆市云阳县****"),
        ("浙江省杭州市淳安县千岛湖镇新安大街1号", "浙江省杭州市淳安县****"),
        ("江苏省苏州市昆山市前进路1号", "江苏省苏州市昆山市****"),  # county-level city
        ("山东省济南市市中区经十路1号", "山东省济南市市中区****"),
        ("内蒙古自治区呼和浩特市新城区中山路2号", "内蒙古自治区呼和浩特市新城区****"),
        ("内蒙古自治区锡林郭勒盟正蓝旗上都镇", "内蒙古自治区锡林郭勒盟正蓝旗****"),
        ("湖北省恩施土家族苗族自治州来凤县翔凤镇", "湖北省恩施土家族苗族自治州来凤县****"),
        ("新疆维吾尔自治区阿克苏地区阿克苏市解放路", "新疆维吾尔自治区阿克苏地区阿克苏市****"),
        ("北京市 朝阳区 建国路88号", "北京市朝阳区****"),
        ("朝阳区建国路88号", "朝阳区****"),
        ("北京市朝阳区望京小区5号楼", "北京市朝阳区****"),
    ],
)
def test_mask_address_admin_prefix(address, expected):
    assert mask_address(address) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("广东省东莞市长安镇振安路368号", "广东省东莞市****"),  # no district level: keep the city
        ("广东省东莞市长安镇工业区8号", "广东省东莞市****"),  # 工业区 is not a district
        ("北京市朝阳门外大街1号", "北京市****"),  # street name is not a district
    ],
)
def test_mask_address_partial_prefix(address, expected):
    assert mask_address(address) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("建国路88号3单元1201室", "建国路****"),
        ("阳光小区5栋2单元", "阳光小****"),
        ("人民医院家属区3号楼", "人民医****"),
        ("88 Jianguo Road, Beijing", "88 ****"),
        ("北京", "北****"),  # too short: at most half kept
    ],
)
def test_mask_address_fallback(address, expected):
    assert mask_address(address) == expected


def test_mask_address_hides_street_and_number():
    masked = mask_address("北京市朝阳区建国路88号3单元1201室")
    for part in ["建国路", "88", "1201"]:
        assert part not in masked


# --- shared behaviour ------------------------------------------------------------------------


@pytest.mark.parametrize("masker", ALL_MASKERS)
def test_missing_values_returned_as_is(masker):
    assert masker(None) is None
    assert masker("") == ""
    assert masker("   ") == "   "
    nan = float("nan")
    result = masker(nan)
    assert isinstance(result, float) and math.isnan(result)
    assert masker(np.nan) is np.nan
    assert masker(pd.NA) is pd.NA
    assert masker(pd.NaT) is pd.NaT


@pytest.mark.parametrize("masker", ALL_MASKERS)
@pytest.mark.parametrize(
    "odd",
    [0, 12345, 3.5, True, b"\xe5\xbc\xa0", ["张三"], {"a": 1}, object(), "***", "·", ",,"],
)
def test_odd_input_never_raises_and_returns_str(masker, odd):
    assert isinstance(masker(odd), str)


class _BadStr:
    def __str__(self):
        raise RuntimeError("boom")


@pytest.mark.parametrize("masker", ALL_MASKERS)
def test_unprintable_input_gives_placeholder(masker):
    assert masker(_BadStr()) == "****"


@pytest.mark.parametrize(
    ("masker", "value"),
    [
        (mask_name, "张三"),
        (mask_name, "Wang Fang"),
        (mask_id_number, "11010119900307123X"),
        (mask_phone, "13812345678"),
        (mask_account, "6222021234567890123"),
        (mask_address, "北京市朝阳区建国路88号"),
    ],
)
def test_masked_output_differs_and_is_deterministic(masker, value):
    masked = masker(value)
    assert masked != value
    assert masker(value) == masked
    assert isinstance(masker(masked), str)  # masking masked text again is harmless


# --- frames ----------------------------------------------------------------------------------


def _clients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": ["C00000001", "C00000002", "C00000003"],
            "name_zh": ["张三", "欧阳明月", None],
            "name_en": ["Zhang San", "Ouyang Mingyue", "Li Si"],
            "id_number": ["11010119900307123X", "110101900307123", "bad"],
            "phone": ["13812345678", "+86 139-0000-1111", np.nan],
            "address": ["北京市朝阳区建国路88号", "广东省深圳市南山区科技园路1号", ""],
            "card_number": ["6222021234567890123", "12345678", "62220212345678901234"],
            "aum": [150_000.0, 2_500_000.0, 0.0],
            "risk_level": ["C3", "C4", "C1"],
        }
    )


def test_pii_maskers_mapping():
    expected = {
        "name_zh": mask_name,
        "name_en": mask_name,
        "id_number": mask_id_number,
        "phone": mask_phone,
        "card_number": mask_account,
        "address": mask_address,
    }
    assert dict(PII_MASKERS) == expected


def test_mask_frame_masks_all_pii_columns():
    df = _clients()
    out = mask_frame(df)
    assert out["name_zh"].tolist()[:2] == ["张**", "欧阳**"]
    assert pd.isna(out["name_zh"].iloc[2])
    assert out["name_en"].tolist() == ["Zhang **", "Ouyang **", "Li **"]
    assert out["id_number"].tolist() == ["110101********123X", "110101*****7123", "***"]
    assert out["phone"].tolist()[:2] == ["138****5678", "+86 139****1111"]
    assert pd.isna(out["phone"].iloc[2])
    assert out["address"].tolist() == ["北京市朝阳区****", "广东省深圳市南山区****", ""]
    assert out["card_number"].tolist() == [
        "622202*********0123",
        "****5678",
        "622202**********1234",
    ]


def test_mask_frame_leaves_other_columns_and_input_untouched():
    df = _clients()
    before = df.copy(deep=True)
    out = mask_frame(df)
    pd.testing.assert_frame_equal(df, before)
    assert list(out.columns) == list(df.columns)
    pd.testing.assert_index_equal(out.index, df.index)
    for col in ["client_id", "aum", "risk_level"]:
        pd.testing.assert_series_equal(out[col], df[col])
    assert out is not df


def test_mask_frame_subset_of_columns():
    df = _clients()
    out = mask_frame(df, columns=["phone"])
    assert out["phone"].iloc[0] == "138****5678"
    pd.testing.assert_series_equal(out["name_zh"], df["name_zh"])
    out = mask_frame(df, columns="id_number")
    assert out["id_number"].iloc[0] == "110101********123X"
    pd.testing.assert_series_equal(out["phone"], df["phone"])


def test_mask_frame_ignores_absent_columns_and_rejects_unknown():
    df = _clients()[["client_id", "phone"]]
    out = mask_frame(df, columns=["phone", "address"])
    assert out["phone"].iloc[0] == "138****5678"
    with pytest.raises(ValueError, match="mobile"):
        mask_frame(df, columns=["mobile"])


def test_mask_frame_without_pii_and_empty():
    df = pd.DataFrame({"client_id": ["C1"], "aum": [1.0]})
    pd.testing.assert_frame_equal(mask_frame(df), df)
    empty = _clients().iloc[0:0]
    assert mask_frame(empty).empty
    assert list(mask_frame(empty).columns) == list(empty.columns)


def test_mask_frame_masks_pii_index_levels():
    df = _clients().set_index("name_zh")
    out = mask_frame(df)
    assert out.index.tolist()[:2] == ["张**", "欧阳**"]
    assert df.index.tolist()[:2] == ["张三", "欧阳明月"]

    multi = _clients().set_index(["client_id", "phone"])
    out = mask_frame(multi)
    assert (
        out.index.get_level_values("client_id").tolist()
        == multi.index.get_level_values("client_id").tolist()
    )
    assert out.index.get_level_values("phone")[0] == "138****5678"
    assert out.index.names == multi.index.names


def test_mask_frame_duplicate_and_categorical_columns():
    df = pd.DataFrame([["13812345678", "13987654321", "x"]], columns=["phone", "phone", "other"])
    out = mask_frame(df)
    assert out.iloc[0].tolist() == ["138****5678", "139****4321", "x"]
    cat = pd.DataFrame({"name_zh": pd.Series(["张三", "张四", "张三"], dtype="category")})
    assert mask_frame(cat)["name_zh"].astype(str).tolist() == ["张**", "张**", "张**"]


# --- leak properties -------------------------------------------------------------------------


def _random_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _assert_only_visible(original: str, masked: str, visible: set[int]) -> None:
    """``masked`` has original's characters at ``visible`` positions and '*' everywhere else."""
    assert len(masked) == len(original)
    for i, (o, m) in enumerate(zip(original, masked, strict=True)):
        if i in visible:
            assert m == o
        else:
            assert m == "*"


def test_property_id_numbers_hide_birth_date():
    rng = random.Random(20261123)
    for _ in range(200):
        check = rng.choice("0123456789X")
        id_number = _random_digits(rng, 17) + check
        masked = mask_id_number(id_number)
        _assert_only_visible(id_number, masked, set(range(6)) | set(range(14, 18)))
        assert id_number[6:14] not in masked


def test_property_phones_hide_middle_digits():
    rng = random.Random(7)
    for _ in range(200):
        phone = "1" + _random_digits(rng, 10)
        masked = mask_phone(phone)
        _assert_only_visible(phone, masked, {0, 1, 2, 7, 8, 9, 10})
        assert phone[3:7] not in masked
        spaced = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
        assert mask_phone(spaced) == "+86 " + masked


@pytest.mark.parametrize("length", [16, 19, 20])
def test_property_cards_hide_middle_digits(length):
    rng = random.Random(length)
    # cards show the first 6 (BIN) and the last 4
    visible = set(range(length - 4, length)) | set(range(6))
    for _ in range(200):
        card = rng.choice("456") + _random_digits(rng, length - 1)
        masked = mask_account(card)
        _assert_only_visible(card, masked, visible)
        middle = card[6 : length - 4]
        assert middle not in masked
        grouped = " ".join(card[i : i + 4] for i in range(0, length, 4))
        assert mask_account(grouped) == masked
