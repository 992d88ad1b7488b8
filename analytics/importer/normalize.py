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
