"""From a bank's cell text to canonical values: header names, units, and one SQL expression per
column kind that turns a raw VARCHAR cell into its typed value (NULL when it cannot be read; the
validation step then says why). Everything runs inside DuckDB, so 40M rows never pass through
Python one by one.

What a cell may look like is in BANK-EXPORTS.md: full-width digits and spaces (normalised first),
thousands separators, amounts in 万元, negatives in parentheses, percentages, many date spellings
and Excel serial numbers. XLSX cells that were numbers arrive with the ``NUMBER_MARK`` prefix (see
``readers``), so an ID number that Excel turned into a number is recognised and rejected.
"""

from __future__ import annotations

import re
import unicodedata

# Prefix the XLSX reader puts before the text of a numeric cell: Excel held the value as a number.
NUMBER_MARK = "\x01"

_UNIT_RE = re.compile(r"[\(（\[【]\s*(万元|万|元|%|％|百分比|亿元|天)\s*[\)）\]】]|(万元|亿元)$")


def fold(text: str) -> str:
    """Full-width letters, digits, spaces and punctuation to their ASCII forms (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", str(text)).replace("\u3000", " ").strip()


def header_key(header: str) -> str:
    """A header reduced to what identifies it: folded, lower case, without a unit in brackets,
    spaces, line breaks, '*' (required markers) and trailing colons."""
    h = fold(header).lower()
    h = _UNIT_RE.sub("", h)
    return re.sub(r"[\s*:：_\-]+", "", h)


def header_unit(header: str) -> str | None:
    """The unit a header states: 'wan' (万元), 'yi' (亿元), 'yuan', 'percent', or None."""
    m = _UNIT_RE.search(fold(header))
    if not m:
        return None
    unit = m.group(1) or m.group(2)
    return {"万元": "wan", "万": "wan", "亿元": "yi", "元": "yuan", "%": "percent",
            "百分比": "percent", "天": None}[unit]  # fmt: skip


def title_unit(title: str) -> str | None:
    """A unit stated for the whole sheet in a title or note row (单位：万元)."""
    m = re.search(r"单位\s*[:：]\s*(万元|亿元|元)", fold(title))
    return None if not m else {"万元": "wan", "亿元": "yi", "元": "yuan"}[m.group(1)]


UNIT_FACTOR = {"yuan": 1, "wan": 10_000, "yi": 100_000_000}


# ---------------------------------------------------------------------------- SQL per column kind
#
# Each builder takes the SQL of a raw VARCHAR cell and returns (value_sql, problem_sql): the typed
# value (NULL when empty or unreadable) and a reason code when the non-empty cell is unusable (NULL
# when it is fine). Reason codes are translated by the pages and the CLI (ui/i18n.py 'why.*').

_FW = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_HW = "".join(chr(c) for c in range(0x21, 0x7F))


def q(text: str) -> str:
    """A SQL string literal (for texts that come from this module or settings, never from a file)."""
    return "'" + str(text).replace("'", "''") + "'"


def folded_sql(raw: str) -> str:
    """The cell folded like ``fold``: full-width to ASCII, ideographic space to space, the minus
    sign (U+2212) to '-', trimmed, the XLSX number mark removed; NULL when empty.

    ``translate`` costs about 7 µs a cell (DuckDB scans the 94-character map for every
    character), so a cell that is plain ASCII (bytes = characters), nearly every cell of a 40M-row
    export, takes the short path."""
    fold_all = (
        f"trim(translate(replace(replace(replace({raw}, chr(12288), ' '), chr(1), ''), "
        f"chr(8722), '-'), {q(_FW)}, {q(_HW)}))"
    )
    return (
        f"NULLIF(CASE WHEN strlen({raw}) = length({raw}) THEN trim(replace({raw}, chr(1), '')) "
        f"ELSE {fold_all} END, '')"
    )


# What report exports put in an empty numeric or date cell.
_EMPTY_MARKS = ("-", "--", "—", "——", "/", "n/a", "na", "null", "#n/a", "无", "空")


def _was_number(raw: str) -> str:
    return f"starts_with({raw}, chr(1))"


_SCI = r"'^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$'"

# The builders below take ``raw`` (the cell as read, for the XLSX number mark) and ``f`` (the
# folded cell, ``folded_sql(raw)``, computed once per column by the caller) and return
# (value_sql, problem_sql). ``problem_sql`` refers to the typed value as VALUE, which the caller
# replaces with the value's column, so no value is computed twice. Each has a fast path for the
# clean cell that nearly every row of a big export is (one cast), and the slow path for the rest.
VALUE = "__VALUE__"


def key_sql(raw: str, f: str) -> tuple[str, str]:
    # an integral number cell (客户号 123456) is fine; scientific notation lost digits
    value = f"CASE WHEN strpos({f}, '.') = 0 THEN {f} ELSE regexp_replace({f}, '\\.0+$', '') END"
    problem = (
        f"CASE WHEN strpos(lower({f}), 'e') = 0 THEN NULL "
        f"WHEN regexp_matches({f}, {_SCI}) THEN 'id_as_number' END"
    )
    return value, problem


def text_sql(raw: str, f: str) -> tuple[str, str]:
    return f, "NULL"


# ISO 7064 MOD 11-2: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; check chars 1 0 X 9 8 7 6 5 4 3 2
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_sql(v: str) -> str:
    """The expected 18th character of a resident ID whose first 17 are digits."""
    terms = " + ".join(
        f"CAST(substr({v}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(_ID_WEIGHTS)
    )
    return f"substr('10X98765432', (({terms}) % 11) + 1, 1)"


def id_number_sql(raw: str, f: str, id_type: str | None = None) -> tuple[str, str]:
    v = f"upper(replace({f}, ' ', ''))"
    resident = "TRUE" if id_type is None else (
        f"({folded_sql(id_type)} IS NULL OR {folded_sql(id_type)} SIMILAR TO '.*(身份证|居民).*' "
        f"OR upper({folded_sql(id_type)}) IN ('1', '01', '0', 'ID', 'A'))"
    )  # fmt: skip
    problem = (
        f"CASE WHEN {_was_number(raw)} OR regexp_matches({VALUE}, {_SCI}) THEN 'id_as_number' "
        f"WHEN NOT {resident} THEN NULL "
        f"WHEN NOT regexp_matches({VALUE}, '^[0-9]{{17}}[0-9X]$') THEN 'id_format' "
        f"WHEN {id_check_sql(VALUE)} <> substr({VALUE}, 18, 1) THEN 'id_check_digit' END"
    )
    return v, problem


def phone_sql(raw: str, f: str) -> tuple[str, str]:
    v = f"regexp_replace(regexp_replace({f}, '[\\s\\-()]', '', 'g'), '^(\\+?86)(1[0-9]{{10}})$', '\\2')"
    v = f"regexp_replace({v}, '\\.0$', '')"
    value = f"CASE WHEN regexp_matches({f}, '^1[3-9][0-9]{{9}}$') THEN {f} ELSE {v} END"
    problem = f"CASE WHEN NOT regexp_matches({VALUE}, '^1[3-9][0-9]{{9}}$') THEN 'phone_format' END"
    return value, problem


def card_sql(raw: str, f: str) -> tuple[str, str]:
    v = f"regexp_replace({f}, '[\\s\\-]', '', 'g')"
    problem = (
        f"CASE WHEN {_was_number(raw)} OR regexp_matches({VALUE}, {_SCI}) THEN 'id_as_number' "
        f"WHEN NOT regexp_matches({VALUE}, '^[0-9]{{12,19}}$') THEN 'card_format' END"
    )
    return v, problem


def _marks_empty(f: str) -> str:
    """``f`` with the usual empty-cell marks of reports read as empty."""
    marks = ", ".join(q(m) for m in _EMPTY_MARKS)
    longest = max(len(m) for m in _EMPTY_MARKS)  # most cells are longer: skip the list then
    return (
        f"CASE WHEN length({f}) > {longest} THEN {f} "
        f"WHEN lower({f}) IN ({marks}) THEN NULL ELSE {f} END"
    )


def _plain_number(f: str) -> str:
    """Cell text as a plain number string: separators, currency signs and units removed,
    (123) as -123; report marks for an empty cell ('-', '--', 'N/A') as empty."""
    v = f"regexp_replace({_marks_empty(f)}, '[,\\s¥$元]|RMB|CNY', '', 'g')"
    return f"regexp_replace({v}, '^\\((.*)\\)$', '-\\1')"


def money_sql(raw: str, f: str, unit: str | None) -> tuple[str, str]:
    factor = UNIT_FACTOR.get(unit or "yuan", 1)
    n = _plain_number(f)
    # a cell may state its own unit: 12.5万
    slow = (
        f"CASE WHEN ends_with({n}, '万') THEN TRY_CAST(rtrim({n}, '万') AS DECIMAL(38, 6)) * 10000 "
        f"WHEN ends_with({n}, '亿') THEN TRY_CAST(rtrim({n}, '亿') AS DECIMAL(38, 6)) * 100000000 "
        f"ELSE TRY_CAST({n} AS DECIMAL(38, 6)) * {factor} END"
    )
    # the fast path in DOUBLE (exact to the fen below 10^13 yuan); the slow one in DECIMAL
    fast = f"TRY_CAST(round(TRY_CAST({f} AS DOUBLE) * {factor}, 2) AS DECIMAL(18, 2))"
    value = (
        f"COALESCE({fast}, CASE WHEN {f} IS NOT NULL THEN "
        f"TRY_CAST(round({slow}, 2) AS DECIMAL(18, 2)) END)"
    )
    problem = f"CASE WHEN {VALUE} IS NOT NULL THEN NULL WHEN {_marks_empty(f)} IS NOT NULL THEN 'not_a_number' END"
    return value, problem


def rate_sql(raw: str, f: str, unit: str | None) -> tuple[str, str]:
    n = _plain_number(f)
    div = 100 if unit == "percent" else 1
    value = (
        f"CASE WHEN ends_with({n}, '%') THEN TRY_CAST(rtrim({n}, '%') AS DOUBLE) / 100 "
        f"ELSE TRY_CAST({n} AS DOUBLE) / {div} END"
    )
    problem = f"CASE WHEN {VALUE} IS NOT NULL THEN NULL WHEN {_marks_empty(f)} IS NOT NULL THEN 'not_a_number' END"
    return value, problem


def int_sql(raw: str, f: str) -> tuple[str, str]:
    d = f"COALESCE(TRY_CAST({f} AS DOUBLE), TRY_CAST({_plain_number(f)} AS DOUBLE))"
    value = f"CASE WHEN {d} = floor({d}) AND abs({d}) < 1e15 THEN CAST({d} AS BIGINT) END"
    problem = f"CASE WHEN {VALUE} IS NOT NULL THEN NULL WHEN {_marks_empty(f)} IS NOT NULL THEN 'not_an_integer' END"
    return value, problem


def date_sql(raw: str, f: str) -> tuple[str, str]:
    v = _marks_empty(f)
    # a timestamp keeps its date part; 2024年1月5日, 2024/1/5 and 2024.1.5 become 2024-1-5
    d = f"regexp_replace(regexp_replace(split_part({v}, ' ', 1), '[年月/.]', '-', 'g'), '日$', '')"
    d = f"split_part({d}, 'T', 1)"
    slow = (
        f"CASE WHEN regexp_matches({d}, '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}$') "
        f"THEN CAST(try_strptime({d}, '%Y-%m-%d') AS DATE) "
        f"WHEN regexp_matches({v}, '^[0-9]{{8}}$') THEN CAST(try_strptime({v}, '%Y%m%d') AS DATE) "
        # an Excel serial day number (1900 date system; 1899-12-30 absorbs Excel's 1900 leap bug)
        f"WHEN regexp_matches({v}, '^[0-9]{{5}}(\\.[0-9]+)?$') "
        f"THEN CAST(DATE '1899-12-30' + CAST(floor(CAST({v} AS DOUBLE)) AS INTEGER) AS DATE) END"
    )
    # the fast path takes ISO dates only (a cast would also read 2024-1-5 11 as a date)
    fast = f"CASE WHEN length({f}) = 10 AND substr({f}, 5, 1) = '-' THEN TRY_CAST({f} AS DATE) END"
    value = f"COALESCE({fast}, CASE WHEN {f} IS NOT NULL THEN {slow} END)"
    problem = f"CASE WHEN {VALUE} IS NOT NULL THEN NULL WHEN {v} IS NOT NULL THEN 'date_format' END"
    return value, problem


_YES = ("是", "y", "yes", "1", "true", "有", "已开通", "开通", "签约", "已签约", "√", "t")
_NO = ("否", "n", "no", "0", "false", "无", "未开通", "未签约", "×", "f", "-")


def bool_sql(raw: str, f: str) -> tuple[str, str]:
    v = f"lower({f})"
    yes, no = ", ".join(q(x) for x in _YES), ", ".join(q(x) for x in _NO)
    value = f"CASE WHEN {v} IN ({yes}) THEN TRUE WHEN {v} IN ({no}) THEN FALSE END"
    return value, f"CASE WHEN {VALUE} IS NULL THEN 'not_yes_no' END"


def code_sql(raw: str, f: str, codes: dict) -> tuple[str, str]:
    """``codes`` is one ``[importer.codes.<list>]`` section: match = exact|contains, then each code
    with its spellings. Spellings compare folded and lower-cased."""
    v = f"lower({f})"
    contains = codes.get("match") == "contains"
    arms = []
    for code, spellings in codes.items():
        if code == "match":
            continue
        words = [fold(s).lower() for s in spellings]
        if contains:
            cond = " OR ".join(f"contains({v}, {q(w)})" for w in words)
        else:
            cond = f"{v} IN ({', '.join(q(w) for w in words)})"
        arms.append(f"WHEN {cond} THEN {q(code)}")
    value = f"CASE {' '.join(arms)} END" if arms else "NULL"
    return value, f"CASE WHEN {VALUE} IS NULL THEN 'unknown_code' END"


def empty_sql(kind: str, raw: str, f: str | None = None) -> str:
    """Whether a cell counts as empty for its kind (numbers and dates also take '-', 'N/A'...)."""
    f = f or folded_sql(raw)
    v = _marks_empty(f) if kind in ("money", "rate", "int", "date") else f
    return f"({v} IS NULL)"


_BUILDERS = {
    "key": key_sql, "text": text_sql, "phone": phone_sql, "card": card_sql, "int": int_sql,
    "date": date_sql, "bool": bool_sql,
}  # fmt: skip


def column_sql(kind: str, raw: str, *, unit: str | None = None, codes: dict | None = None,
               id_type: str | None = None, folded: str | None = None,
               value_ref: str | None = None) -> tuple[str, str]:  # fmt: skip
    """(value_sql, problem_sql) for a raw cell of a column of ``kind`` (see contract.py).

    ``folded`` names the cell's folded text when the caller computed it once (else it is folded
    here); ``value_ref`` names the typed value the problem should test (else the value
    expression is repeated inside it)."""
    f = folded or folded_sql(raw)
    if kind == "id_number":
        value, problem = id_number_sql(raw, f, id_type)
    elif kind == "money":
        value, problem = money_sql(raw, f, unit)
    elif kind == "rate":
        value, problem = rate_sql(raw, f, unit)
    elif kind == "code":
        value, problem = code_sql(raw, f, codes or {})
    elif kind in _BUILDERS:
        value, problem = _BUILDERS[kind](raw, f)
    else:
        raise ValueError(f"unknown column kind {kind!r}")
    return value, problem.replace(VALUE, value_ref or f"({value})")
