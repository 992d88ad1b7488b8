"""The one-page meeting sheet (面谈单) of the three-balance check: HTML with print styles, in the
viewer's language, identity masked. The RM downloads it and prints it or shows it in the meeting."""

from __future__ import annotations

from html import escape

SHEET_CSS = """
@page { size: A4; margin: 14mm; }
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: #1f2d5a; font-size: 12px; max-width: 760px; margin: 0 auto; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 14px; margin: 14px 0 6px;
     border-bottom: 1px solid #c6dbef; padding-bottom: 2px; }
.meta { color: #555; margin-bottom: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #c6dbef; padding: 3px 6px; text-align: left; }
th { background: #eef4fb; }
td.num { text-align: right; }
.sev-high { color: #b22222; font-weight: bold; } .sev-medium { color: #b8860b; }
.note { color: #777; font-size: 10px; margin-top: 14px; }
@media print { .noprint { display: none; } }
"""


def table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{escape(str(c))}</td>' if i in numeric else f"<td>{escape(str(c))}</td>"
            for i, c in enumerate(row)
        ) + "</tr>"
        for row in rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def sheet(
    lang: str,
    title: str,
    meta: str,
    sections: list[tuple[str, str]],
    note: str,
) -> str:
    """A printable page: ``sections`` are (heading, HTML body) pairs already in the language."""
    parts = "".join(f"<h2>{escape(h)}</h2>{body}" for h, body in sections)
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{SHEET_CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><div class="meta">{escape(meta)}</div>{parts}'
        f'<div class="note">{escape(note)}</div></body></html>'
    )
