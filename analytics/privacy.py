"""Masking of personal data (PII) as shown on screen and in exports.

DESIGN.md §5: names, ID numbers, phones, addresses and account numbers are masked unless the
viewer owns the client and asks to unmask (that decision and its audit live elsewhere; this module
only computes masked text). The formats follow common Chinese retail-bank display conventions::

    张三丰              -> 张**
    11010119900307123X -> 110101********123X
    13812345678        -> 138****5678
    6222021234567890123 -> ***************0123
    北京市朝阳区建国路88号 -> 北京市朝阳区****

Shared behaviour of every ``mask_*`` function:

- ``None``, ``NaN``, ``pd.NA``/``NaT`` and empty (or whitespace-only) strings are returned
  unchanged: there is nothing to hide, and missing values stay missing.
- Any other input is converted with ``str()`` and NFKC-normalised (full-width digits and letters
  such as ``１３８`` become ASCII), then stripped of surrounding whitespace.
- They never raise. Input that does not fit the expected format is masked more, never less; if
  something unexpected goes wrong the result is the fixed placeholder ``'****'``.
- The result is a ``str`` and never contains the whole input in clear.

Pure Python + pandas; never imports streamlit.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

__all__ = [
    "COMPOUND_SURNAMES",
    "PII_MASKERS",
    "contains_pii",
    "mask_account",
    "mask_address",
    "mask_frame",
    "mask_free_text",
    "mask_id_number",
    "mask_name",
    "mask_notes",
    "mask_phone",
]

MASK = "*"
# Fixed tail appended after the visible part of an address, and the result of a masker that hits
# an unexpected error: it hides the length of what it replaces.
_FIXED_MASK = "****"
# What stands for the given name in a masked name, whatever its length (mask_name).
_NAME_FIXED_MASK = "**"

# Two-character (复姓) surnames that are kept whole by mask_name.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
    }
)

# CJK unified ideographs (incl. extension A, compatibility block and the supplementary planes
# where rare surname characters live).
_CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAS_CJK = re.compile(f"[{_CJK_CHAR}]")
_WHITESPACE = re.compile(r"\s+")

_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")

# Separators people type inside phone numbers: spaces, hyphens/dashes, brackets, dots.
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015().]")
# An 11-digit mainland mobile number (starts with 1), optionally after a +86 / 0086 / 86 prefix.
_CN_MOBILE = re.compile(r"(\+86|0086|86)?(1[0-9]{10})")
_CN_PREFIX = re.compile(r"(\+86|0086)(.*)")

_ACCOUNT_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]")
_ACCOUNT_HEAD = 6  # at most the first 6 (the card BIN) ...
_ACCOUNT_TAIL = 4  # ... and the last 4 are shown
_ACCOUNT_FULL_DISPLAY_FROM = 16  # card length from which first 6 + last 4 are shown

# --- address parsing ------------------------------------------------------------------------
# An administrative unit is a short run of Chinese characters ending in a level suffix. Name
# characters exclude what only street-level parts contain (road, street, lane, number, building,
# room, village), so that '建国路88号' or '望京街' can never be taken for a district.
_ADMIN_NAME_CHAR = f"(?:(?![路街巷弄号楼室栋幢村])[{_CJK_CHAR}])"
_ADMIN_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "省",
    "盟",
    "市",
    "区",
    "县",
    "旗",
)
_ADMIN_UNIT = re.compile(
    f"(?P<name>{_ADMIN_NAME_CHAR}{{1,15}}?)(?P<suffix>{'|'.join(_ADMIN_SUFFIXES)})"
)
_PROVINCE, _PREFECTURE, _COUNTY = 1, 2, 3
_SUFFIX_LEVEL = {
    "特别行政区": _PROVINCE,
    "自治区": _PROVINCE,
    "省": _PROVINCE,
    "自治州": _PREFECTURE,
    "地区": _PREFECTURE,
    "盟": _PREFECTURE,
    "市": _PREFECTURE,  # a 市 right after a prefecture-level unit is a county-level city
    "区": _COUNTY,
    "县": _COUNTY,
    "旗": _COUNTY,
    "自治县": _COUNTY,
    "自治旗": _COUNTY,
}
# Longest name (without suffix) accepted for each suffix, from the longest real names of that
# kind (e.g. 呼和浩特市, 白云鄂博矿区, 达尔罕茂明安联合旗, 双江拉祜族佤族布朗族傣族自治县); a longer
# run before a plain 区/县/市 is a street-level place (医院家属区, ...), not a district.
_MAX_NAME_LEN = {
    "特别行政区": 3,
    "自治区": 6,
    "省": 4,
    "自治州": 15,
    "地区": 5,
    "盟": 5,
    "市": 5,
    "区": 5,
    "县": 5,
    "旗": 8,
    "自治县": 15,
    "自治旗": 15,
}
# Units ending in 区 that are not administrative districts (residential compounds, parks, ...).
_NOT_DISTRICT_ENDINGS = (
    "小区",
    "社区",
    "园区",
    "景区",
    "校区",
    "厂区",
    "片区",
    "营区",
    "工业区",
    "开发区",
    "保税区",
    "商业区",
    "生活区",
    "住宅区",
    "办公区",
)
_ADDRESS_FALLBACK_KEEP = 3


def _is_missing(value: Any) -> bool:
    """True for None and scalar missing markers (NaN, pd.NA, NaT); never raises."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(pd.api.types.is_scalar(value) and pd.isna(value))
    except Exception:
        return False


def _masker(core: Callable[[str], str]) -> Callable[[Any], Any]:
    """Wrap ``core`` (non-empty normalised text -> masked text) with the shared behaviour."""

    @functools.wraps(core)
    def masker(value: Any) -> Any:
        if _is_missing(value):
            return value
        try:
            text = value if isinstance(value, str) else str(value)
            text = unicodedata.normalize("NFKC", text).strip()
            if not text:
                return value
            return core(text)
        except Exception:
            return _FIXED_MASK

    return masker


def _keep_last(text: str, keep: int) -> str:
    """Mask all but the last ``keep`` characters; fully mask when that would show everything."""
    if keep <= 0 or len(text) <= keep:
        return MASK * len(text)
    return MASK * (len(text) - keep) + text[-keep:]


@_masker
def mask_name(name: str) -> str:
    """Mask a personal name, keeping only the surname, at a fixed width: the result says nothing
    about how long the given name is (issue 14).

    Chinese names (any CJK character present; inner whitespace is dropped) keep the surname and
    then always show ``**``: ``张三`` -> ``张**``, ``张三丰`` -> ``张**``. A compound surname from
    :data:`COMPOUND_SURNAMES` is kept whole when a given name follows: ``欧阳明`` -> ``欧阳**``,
    ``欧阳明月`` -> ``欧阳**``. A two-character name always keeps its first character only
    (``欧阳`` -> ``欧**``) and a one-character name becomes ``***``, so a whole name is never
    visible.

    Latin/pinyin names (surname first, as in the ``name_en`` column) keep the first word and
    then always show `` **``, however long the given name is and however many words it has:
    ``Wang Fang`` -> ``Wang **``, ``Ouyang Mingyue`` -> ``Ouyang **``, ``Li Xiao Ming`` ->
    ``Li **``. Words are split on whitespace and commas. A single word keeps its first letter
    followed by a fixed ``***`` (``Wang`` -> ``W***``); a single one-letter word becomes ``***``.
    """
    if _HAS_CJK.search(name):
        chars = _WHITESPACE.sub("", name)
        if len(chars) <= 1:
            return _NAME_FIXED_MASK + MASK
        keep = 2 if len(chars) >= 3 and chars[:2] in COMPOUND_SURNAMES else 1
        return chars[:keep] + _NAME_FIXED_MASK

    words = [w for w in re.split(r"[\s,]+", name) if w]
    if not words:  # only commas
        return _NAME_FIXED_MASK + MASK
    if len(words) == 1:
        word = words[0]
        return MASK * 3 if len(word) == 1 else word[0] + MASK * 3
    return f"{words[0]} {_NAME_FIXED_MASK}"


@_masker
def mask_id_number(id_number: str) -> str:
    """Mask a PRC resident identity card number (居民身份证号码, GB 11643).

    - 18 characters, 17 digits plus a check character 0-9/X: the 6-digit area code and the last
      4 (3-digit sequence + check character) stay, the 8-digit birth date is masked:
      ``11010119900307123X`` -> ``110101********123X``. A lowercase ``x`` check character is
      shown as uppercase ``X``, the standard's spelling.
    - 15 digits (first-generation card, 6 area + 6 birth date YYMMDD + 3 sequence): first 6 +
      ``*****`` + last 4, keeping the 18-digit layout's "first 6 / last 4" rule at the same
      length: ``110101900307123`` -> ``110101*****7123``. The last 4 therefore include the last
      digit of the birth day; the other five birth-date digits are hidden.
    - Anything else (wrong length or characters) is fully masked, one ``*`` per character
      (whitespace removed): it is never shown in clear.
    """
    compact = _WHITESPACE.sub("", id_number).upper()
    if _ID18.fullmatch(compact):
        return compact[:6] + MASK * 8 + compact[-4:]
    if _ID15.fullmatch(compact):
        return compact[:6] + MASK * 5 + compact[-4:]
    return MASK * len(compact)


@_masker
def mask_phone(phone: str) -> str:
    """Mask a phone number, mainland-mobile style (3-4-4: ``138****5678``).

    Separators (spaces, dashes, brackets, dots) are removed first. An 11-digit mobile number
    (starting with 1) shows its first 3 and last 4 digits. A country prefix ``+86``, ``0086``
    or ``86`` in front of a mobile number stays visible, followed by one space:
    ``+86 138-1234-5678`` -> ``+86 138****5678``. Any other number keeps only its last 4
    characters (``010-87654321`` -> ``*******4321``); a ``+86``/``0086`` prefix or a leading
    ``+`` stays visible there too. Four characters or fewer are fully masked.
    """
    compact = _PHONE_SEPARATORS.sub("", phone)
    mobile = _CN_MOBILE.fullmatch(compact)
    if mobile:
        prefix, number = mobile.group(1), mobile.group(2)
        masked = number[:3] + MASK * 4 + number[-4:]
        return f"{prefix} {masked}" if prefix else masked
    prefixed = _CN_PREFIX.fullmatch(compact)
    if prefixed and prefixed.group(2):
        return f"{prefixed.group(1)} {_keep_last(prefixed.group(2), 4)}"
    if compact.startswith("+"):
        return "+" + _keep_last(compact[1:], 4)
    return _keep_last(compact, 4)


@_masker
def mask_account(account: str) -> str:
    """Mask a bank card or account number; spaces and dashes are removed first.

    The common display of Chinese banks: at most the first 6 (the card's BIN) and the last 4
    characters are shown, so:

    - 16 characters or more (credit and debit cards, most account numbers): first 6 + ``*`` per
      hidden character + last 4, e.g. ``6222021234567890123`` -> ``622202*********0123``;
    - 8 to 15 characters: the last 4 only, e.g. ``12345678`` -> ``****5678``;
    - fewer than 8: only the last ``n // 2`` characters stay, so that at least half is masked
      (``123456`` -> ``***456``).

    The result has the same length as the compact number.
    """
    compact = _ACCOUNT_SEPARATORS.sub("", account)
    n = len(compact)
    shown = _ACCOUNT_HEAD + _ACCOUNT_TAIL
    if n >= _ACCOUNT_FULL_DISPLAY_FROM:
        return compact[:_ACCOUNT_HEAD] + MASK * (n - shown) + compact[-_ACCOUNT_TAIL:]
    return _keep_last(compact, min(_ACCOUNT_TAIL, n // 2))


def _admin_prefix_length(address: str) -> int:
    """Length of the leading administrative part of ``address`` down to the county level.

    Reads consecutive units (province 省/自治区, prefecture 市/自治州/地区/盟, county 区/县/旗 or
    a county-level 市 after a prefecture) from the start, each deeper than the one before, and
    stops after the county level. 0 when the address does not start with such a unit.
    """
    pos, level = 0, 0
    while level < _COUNTY:
        unit = _ADMIN_UNIT.match(address, pos)
        if unit is None:
            break
        suffix = unit.group("suffix")
        unit_level = _SUFFIX_LEVEL[suffix]
        if suffix == "市" and level == _PREFECTURE:
            unit_level = _COUNTY
        if unit_level <= level or len(unit.group("name")) > _MAX_NAME_LEN[suffix]:
            break
        if unit_level == _COUNTY and unit.group(0).endswith(_NOT_DISTRICT_ENDINGS):
            break
        pos, level = unit.end(), unit_level
    return pos


@_masker
def mask_address(address: str) -> str:
    """Mask a postal address, keeping the administrative prefix down to the district/county.

    The leading province (省/自治区), city (市/自治州/地区/盟) and district/county (区/县/旗, or a
    county-level 市) are kept and everything after them becomes a fixed ``****``:
    ``北京市朝阳区建国路88号3单元1201室`` -> ``北京市朝阳区****``,
    ``广东省深圳市南山区科技园路1号`` -> ``广东省深圳市南山区****``,
    ``江苏省苏州市昆山市前进路1号`` -> ``江苏省苏州市昆山市****``. When a province/city is
    found but no district (``广东省东莞市长安镇...``), the prefix found is kept. Inner whitespace
    is dropped for Chinese addresses. Street-level names (路/街/巷/弄/号/楼/室/栋/幢/村),
    non-administrative ``区`` (小区, 园区, 开发区, ...) and names longer than any real unit of
    that kind (``人民医院家属区``) are never taken for a district; such heuristics err towards
    keeping less.

    With no administrative prefix at all, the first 3 characters are kept (fewer for very short
    text: at most half of it) followed by ``****``.
    """
    text = _WHITESPACE.sub("", address) if _HAS_CJK.search(address) else address
    keep = _admin_prefix_length(text)
    if keep == 0:
        keep = min(_ADDRESS_FALLBACK_KEEP, len(text) // 2)
    return text[:keep] + _FIXED_MASK


# Warehouse column name -> masker (analytics/schema.sql, table clients).
PII_MASKERS: dict[str, Callable[[Any], Any]] = {
    "name_zh": mask_name,
    "name_en": mask_name,
    "id_number": mask_id_number,
    "phone": mask_phone,
    "card_number": mask_account,
    "address": mask_address,
}


def mask_frame(df: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Return a copy of ``df`` with its personal-data columns masked; ``df`` is not modified.

    ``columns=None`` masks every column of ``df`` named in :data:`PII_MASKERS`; otherwise only
    the given ones (names absent from ``df`` are ignored). Index levels with a PII name (e.g.
    after ``set_index("name_zh")``) are masked as well, since tables show the index. Missing
    values stay missing; all other values become masked strings.

    ``name_zh``/``name_en`` also name branches, RMs and corporate clients in the warehouse; those
    are not personal data of clients, so do not pass such frames here without ``columns=``.

    Raises ``ValueError`` for a requested column that has no masker, rather than silently
    returning it in clear.
    """
    if columns is None:
        wanted = set(PII_MASKERS)
    else:
        wanted = {columns} if isinstance(columns, str) else set(columns)
        unknown = sorted(str(c) for c in wanted if c not in PII_MASKERS)
        if unknown:
            raise ValueError(f"no masker for column(s) {unknown}; known: {sorted(PII_MASKERS)}")

    out = df.copy()
    for position, name in enumerate(out.columns):
        if name in wanted:
            out.isetitem(position, out.iloc[:, position].map(PII_MASKERS[name]))

    index_names = list(out.index.names)
    if any(name in wanted for name in index_names):
        levels = [
            out.index.get_level_values(i).map(PII_MASKERS[name])
            if name in wanted
            else out.index.get_level_values(i)
            for i, name in enumerate(index_names)
        ]
        out.index = (
            pd.MultiIndex.from_arrays(levels, names=index_names)
            if isinstance(out.index, pd.MultiIndex)
            else levels[0]
        )
    return out


# --- free text ------------------------------------------------------------------------------
# Notes typed by RMs (contact logs, grade-override reasons) may hold a client's mobile or ID
# number. ``mask_free_text`` finds digit runs inside the text and masks the ones that are personal
# data with the maskers above, leaving the rest of the text as typed.
#
# A run is digits joined by at most two separators (space, hyphen or dash, dot), optionally after a
# +86 / 0086 prefix and ending in an ID's X check character; full-width digits count (an IME types
# them). By the run's digits:
#   11 starting with 1 (or 13/15 after an 86/0086 prefix) -> a mobile, mask_phone: 138****5678;
#   18 (17 + X) or 15 with a plausible birth date         -> an ID number, mask_id_number;
#   16 to 19 written as one number or in groups of 4      -> a card number, mask_account;
#   any other run of 11 or more digits                     -> all but the last 4 digits masked (a
#                                                             landline with its area code, or two
#                                                             numbers typed with a space between).
# Shorter runs (amounts, dates, counts, an 8-digit landline without area code) stay. When in doubt
# the text is masked more, never less.

# Full-width digits, X, plus/minus, ideographic space and dashes, one character each, so that the
# positions found in the mapped text are the positions in the original.
_FREE_TEXT_MAP = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "\uff38": "X",
        "\uff58": "x",
        "\uff0b": "+",
        "\uff0d": "-",
        "\uff0e": ".",
        "\u3000": " ",
        **{dash: "-" for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"},
    }
)
_SEP = r"[ \t\-.]{0,2}"
_DIGIT_RUN = re.compile(
    rf"(?<![0-9])(?:(?:\+|00)86{_SEP})?[0-9](?:{_SEP}[0-9])*(?:{_SEP}[Xx](?![A-Za-z]))?(?![0-9])"
)
_RUN_SEPARATORS = re.compile(r"[^0-9Xx+]")


_ID18_PLAUSIBLE = re.compile(
    r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]"
)
_ID15_PLAUSIBLE = re.compile(
    r"[1-9][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}"
)
_GROUP_SPLIT = re.compile(r"[ \t\-.]+")


def _mask_run(run: str) -> str | None:
    """The masked form of one digit run, or None when it is not personal data."""
    compact = _RUN_SEPARATORS.sub("", run).upper()
    digits = compact.lstrip("+")
    national = digits[4:] if digits.startswith("0086") else digits
    national = national[2:] if len(national) == 13 and national.startswith("86") else national
    if len(national) == 11 and national.startswith("1") and national.isdigit():
        return mask_phone(run)
    if _ID18_PLAUSIBLE.fullmatch(digits) or _ID15_PLAUSIBLE.fullmatch(digits):
        return mask_id_number(digits)
    groups = _GROUP_SPLIT.split(run.strip())
    if 16 <= len(digits) <= 19 and digits.isdigit() and all(len(g) == 4 for g in groups[:-1]):
        return mask_account(digits)
    if len(digits) >= 11:
        return _keep_last(digits, 4)
    return None


def _runs(text: str) -> Iterable[tuple[int, int, str]]:
    mapped = text.translate(_FREE_TEXT_MAP)
    for m in _DIGIT_RUN.finditer(mapped):
        masked = _mask_run(m.group())
        if masked is not None:
            yield m.start(), m.end(), masked


def mask_free_text(text: Any) -> Any:
    """``text`` with the mobile, ID and card numbers found inside it masked, the rest as typed:
    ``请回电 13812345678，身份证 11010119900307123X`` -> ``请回电 138****5678，身份证
    110101********123X``. Missing values and empty strings are returned unchanged; anything
    else is converted with ``str()``. Never raises: on an unexpected error every digit is masked.
    """
    if _is_missing(text) or text == "":
        return text
    try:
        text = text if isinstance(text, str) else str(text)
        out, pos = [], 0
        for start, end, masked in _runs(text):
            out += [text[pos:start], masked]
            pos = end
        return "".join(out) + text[pos:]
    except Exception:
        return re.sub(r"[0-9\uff10-\uff19]", MASK, str(text))


def contains_pii(text: Any) -> bool:
    """Whether ``mask_free_text`` would mask something in ``text`` (a mobile, ID or card number,
    or another run of 11 or more digits)."""
    if _is_missing(text):
        return False
    try:
        return next(iter(_runs(text if isinstance(text, str) else str(text))), None) is not None
    except Exception:
        return True  # as mask_free_text: when in doubt, personal data


def mask_notes(notes: pd.Series, authors: pd.Series, viewer_id: str | None) -> pd.Series:
    """Notes as ``viewer_id`` sees them: their own notes (``authors == viewer_id``) as typed,
    everyone else's through ``mask_free_text``. A note without an author is masked for all."""
    if viewer_id:
        mine = authors.astype(object).eq(viewer_id).astype(bool)
    else:
        mine = pd.Series(False, index=notes.index)
    return notes.where(mine, notes.map(mask_free_text))
