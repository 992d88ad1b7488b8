"""No stray language on screen (issue 14 point 3): every page, for every role, shows in Chinese no
run of English words that is not a code, a number or an allowed term, and in English no Chinese
character outside client and company names (which are data) and the language switch's "中文".

What a page shows is read from the whole element tree AppTest exposes (titles, headings, markdown,
captions, metrics, alerts, widget labels, help texts and options, tab and expander labels, the
column labels and text cells of every table, the text of every chart), so a view cannot show a
string the test does not see. A chart whose axis Plotly fills with its own date ticks (English
month names whatever the language) fails too, and so do the plural and number slips the issue
names ("1 clients", "1 year(s)", "50.0万").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import app_pages
import pytest
from app_pages import run_page
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.privacy import mask_address, mask_name
from ui.i18n import EN, ZH
from ui.shell import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ROLES = ["trainer", "head_office", "manager", "rm:R0001"]


@pytest.fixture(scope="module")
def app_data(demo_db_path, tmp_path_factory):
    """A data folder of its own with the small demo snapshot published as current."""
    root = tmp_path_factory.mktemp("stray_data")
    with app_pages.published_demo(root, demo_db_path) as published:
        yield published


# ----------------------------------------------------------------------------- allow-lists

# Words that are never right on screen, in either language, even alone: values that leaked from
# Python, pandas or JavaScript instead of being shown as a page means them ("None" in a table
# cell, where a missing value should read "—").
LEAKED_VALUES = {"None", "nan", "NaN", "NaT", "null", "True", "False", "undefined"}

# Month and weekday names: on a Chinese screen, a date that Plotly or strftime wrote in English
# ("Nov 1 2026"); an English screen writes dates with them (``formats.day``: "31 Oct 2026").
ENGLISH_DATE_WORDS = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    "January", "February", "March", "April", "June", "July", "August", "September", "October",
    "November", "December", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
}  # fmt: skip

# The English terms a Chinese screen may show side by side (a run of two or more English words
# fails unless every word of it is one of these): codes and terms that Chinese banks and the two
# curricula write in Latin letters, each with why. A single word on its own is not checked:
# "AUM", "RFM", a grade "AAA" or a product code stand alone in Chinese text as they should.
# Codes with digits (C00000010, R0001, B001, C3, T+0), dotted or slashed names (settings.toml,
# BG/NBD, CSV/XLSX) and code spans are not words at all (``english_runs``).
ZH_ALLOWED_WORDS: dict[str, str] = {
    "AUM": "资产管理规模: Chinese banks write AUM",
    "RFM": "the RFM model (recency, frequency, monetary), as the curriculum names it",
    "R": "RFM's recency score", "F": "RFM's frequency score", "M": "RFM's monetary score",
    "MVC": "value-tier code (最有价值客户), shown after its Chinese name",
    "MGC": "value-tier code (最具增长性客户)",
    "LVC": "value-tier code (低贡献客户)",
    "BZ": "value-tier code (负值客户)",
    "KS": "scorecard validation statistic (Kolmogorov-Smirnov)",
    "AUC": "scorecard validation statistic (area under the ROC curve)",
    "Gini": "scorecard validation statistic",
    "PSI": "population stability index of a scorecard",
    "IV": "information value of a scorecard variable",
    "WOE": "weight of evidence (scorecard binning)",
    "PD": "probability of default",
    "PDO": "points to double the odds (scorecard scaling)",
    "Platt": "Platt scaling, how the scorecard's PD is calibrated",
    "AAA": "a credit grade", "AA": "a credit grade", "A": "a credit grade",
    "BBB": "a credit grade", "BB": "a credit grade", "B": "a credit grade",
    "CCC": "a credit grade", "CC": "a credit grade", "C": "a credit grade",
    "BG": "BG/NBD, the corporate CLV's purchase model", "NBD": "BG/NBD",
    "Gamma-Gamma": "the corporate CLV's spend model",
    "CLV": "customer lifetime value",
    "PageRank": "the social-value algorithm",
    "k-means": "the clustering algorithm",
    "CSV": "a file format", "XLSX": "a file format", "ICS": "the calendar file format",
    "Excel": "the program a bank's exports open in",
    "CRM": "the bank's contact-history system",
    "ATM": "a transaction channel", "POS": "a transaction channel",
    "FTP": "funds transfer pricing", "UTC": "the time zone of the audit log",
    "DuckDB": "the database engine",
    "PIN": "a card credential", "CVV": "a card credential",
    "MB": "a file-size unit", "KiB": "a file-size unit",
    "ID": "an identifier (客户 ID)",
    "BranchLens": "the product's name",
}  # fmt: skip


# ----------------------------------------------------------------------------- what is shown


@dataclass(frozen=True)
class Shown:
    """One piece of text on screen: where it is (element type and label) and the text."""

    where: str
    text: str
    data: bool = False  # a name or a header spelling: data, shown as the bank keeps it


# Element types whose text the collector reads; and those that hold none (layout, or a code block
# that shows a command as it is typed).
_LAYOUT = {
    "root", "main", "sidebar", "event", "flex_container", "column", "tab_container", "form",
    "divider", "space", "empty", "spinner", "vertical", "horizontal", "chat_message", "dialog",
    "popover", "code",
}  # fmt: skip

_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_CODE = re.compile(r"`[^`]*`")
_HTML_TAG = re.compile(r"<[^>]*>")
_PLOTLY_FIELD = re.compile(r"%\{[^}]*\}")
_MATERIAL_ICON = re.compile(r":material/[a-z_]+:")
_MD_DIRECTIVE = re.compile(r":[a-z]+(?:-[a-z]+)?\[")  # :blue-badge[...], :red[...]


def _plain(text: str) -> str:
    """Markdown and HTML as a reader sees it: links by their text, code spans and tags dropped
    (a code span is a code: a file name or a command as it is typed), escapes undone."""
    text = _MD_CODE.sub(" ", _MD_LINK.sub(r"\1", text))
    text = _MATERIAL_ICON.sub(" ", _HTML_TAG.sub(" ", text))
    text = _MD_DIRECTIVE.sub(" ", text)
    return text.replace("\\", "")


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict) and "bdata" in node:
        return []  # a numeric array, base64-encoded by Plotly
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list | tuple):
        return [s for v in node for s in _strings(v)]
    return []


# the keys of a Plotly figure whose strings a viewer reads (on the chart or when hovering)
_FIGURE_TEXT = {
    "text", "name", "hovertemplate", "texttemplate", "ticktext", "labels", "theta",
    "categoryarray", "hovertext", "title",
}  # fmt: skip


def _figure_texts(node, key: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "template":
                continue
            if k in ("x", "y") and isinstance(v, list) and all(isinstance(s, str) for s in v):
                out += v  # category values are the tick labels
            elif k in _FIGURE_TEXT:
                out += [_PLOTLY_FIELD.sub(" ", s) for s in _strings(v)]
            else:
                out += _figure_texts(v, k)
    elif isinstance(node, list):
        for v in node:
            out += _figure_texts(v, key)
    return out


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T][\d:.]+)?$")


def plotly_date_axes(spec: dict) -> list[str]:
    """The axes of a figure Plotly draws as date axes with its own tick labels: their ticks and
    hover labels are English month names ("Nov 1 2026") in either language, so a time axis must
    carry labels from ``ui/formats`` (category labels, or tickvals with ticktext) instead."""
    layout = spec.get("layout", {})
    found = []
    for trace in spec.get("data", []):
        for letter in ("x", "y"):
            values = trace.get(letter)
            axis = trace.get(f"{letter}axis", letter)
            name = axis.replace(letter, f"{letter}axis", 1)
            conf = layout.get(name, {})
            if conf.get("type") == "category" or conf.get("ticktext"):
                continue
            dated = conf.get("type") == "date" or (
                isinstance(values, list) and values
                and all(isinstance(v, str) and _ISO_DATE.match(v) for v in values)
            )  # fmt: skip
            if dated:
                found.append(name)
    return sorted(set(found))


# The settings whose values are spellings found in a bank's files: what the importer maps to a
# code (``[importer.codes.<list>] <code> = [...]``: 餐饮, catering) and the header names the
# scorecard takes for a row key (``[scorecard] identifier_columns``: client_id, 客户号).
_SPELLINGS_KEY = re.compile(r"^(codes\.[a-z_]+\.[^.]+|identifier_columns)$")


def _spelling_rows(frame) -> list[bool]:
    """Per row of a rules-view table: whether its value is a list of spellings (``_SPELLINGS_KEY``)
    written as the banks' files write them, in whatever language: data."""
    for table in (ZH, EN):
        key, value = table["rulesview.col_key"], table["rulesview.col_value"]
        if key in frame.columns and value in frame.columns:
            keys = frame[key].astype(str)
            return [bool(_SPELLINGS_KEY.match(k)) and not k.endswith(".match") for k in keys]
    return [False] * len(frame)


def _table_texts(where: str, element) -> list[Shown]:
    """A table's column labels (from its column config) and the cells of its text columns."""
    try:
        config = json.loads(element.proto.columns or "{}")
    except AttributeError:  # st.table has no column config
        config = {}
    frame = element.value
    order = list(getattr(element.proto, "column_order", []) or [])
    spellings = _spelling_rows(frame)
    value_labels = {ZH["rulesview.col_value"], EN["rulesview.col_value"]}
    out: list[Shown] = []
    for column in frame.columns:
        conf = config.get(str(column), {})
        if conf.get("hidden") or (order and str(column) not in order):
            continue
        label = conf.get("label") or str(column)
        out.append(Shown(f"{where} column", label))
        kind = (conf.get("type_config") or {}).get("type")
        options = (conf.get("type_config") or {}).get("options")
        if options:
            out += [Shown(f"{where} '{label}' option", o.get("label", str(o.get("value")))
                          if isinstance(o, dict) else str(o)) for o in options]  # fmt: skip
        values = frame[column]
        if kind in ("number", "checkbox", "progress") or values.dtype.kind in "biufcmM":
            continue
        for value, spelling in zip(values, spellings, strict=True):
            is_data = label in DATA_COLUMNS or (spelling and label in value_labels)
            if value is None or (isinstance(value, float) and value != value):
                # a missing text cell: Streamlit shows it as "None" unless the page fills it
                out.append(Shown(f"{where} '{label}'", "None"))
            elif isinstance(value, list | tuple):
                out += [Shown(f"{where} '{label}'", str(v), is_data) for v in value]
            else:
                out.append(Shown(f"{where} '{label}'", str(value), is_data))
    return out


def shown_texts(at: AppTest) -> tuple[list[Shown], set[str]]:
    """Every text of the run's element tree, and the element types it met that it cannot read
    (the test fails on those: a new kind of element must be taught to the collector)."""
    out: list[Shown] = []
    unknown: set[str] = set()

    def add(where: str, *texts) -> None:
        out.extend(Shown(where, str(t)) for t in texts if t)

    def walk(node) -> None:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if kind in ("title", "header", "subheader", "markdown", "caption", "latex"):
            add(kind, _plain(node.value), _plain(getattr(proto, "help", "") or ""))
        elif kind in ("error", "warning", "info", "success", "exception"):
            add(kind, _plain(node.value))
        elif kind == "metric":
            add("metric", node.label, node.value, node.delta, node.help)
        elif kind in ("button", "download_button", "checkbox", "toggle", "file_uploader",
                      "text_input", "text_area", "number_input", "date_input", "slider",
                      "color_picker", "time_input", "page_link", "link_button"):  # fmt: skip
            add(kind, proto.label, getattr(proto, "help", ""), getattr(proto, "placeholder", ""))
            if kind in ("text_input", "text_area"):
                add(f"{kind} value", node.value or "")
            if kind == "slider":
                add("slider option", *proto.options)
        elif kind in ("selectbox", "multiselect", "radio"):
            add(kind, proto.label, proto.help, getattr(proto, "placeholder", ""))
            add(f"{kind} '{proto.label}' option", *proto.options)
        elif kind == "button_group" and proto.label == EN["sidebar.language"]:
            add("language switch", proto.label, *[o.content for o in proto.options])
        elif kind == "button_group":
            add(kind, proto.label, proto.help)
            add(f"{kind} '{proto.label}' option", *[o.content for o in proto.options])
        elif kind == "tab":
            add("tab", node.label)
        elif kind == "expander":
            add("expander", _plain(node.label))
        elif kind in ("dataframe", "table"):
            out.extend(_table_texts(kind, node))
        elif kind == "plotly_chart":
            spec = json.loads(proto.spec)
            add("chart", *[_plain(s) for s in _figure_texts(spec)])
            for axis in plotly_date_axes(spec):
                out.append(Shown("chart", f"PLOTLY_DATE_AXIS:{axis}"))
        elif kind not in _LAYOUT:
            unknown.add(kind)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out, unknown


# ----------------------------------------------------------------------------- the checks

# The column labels whose cells are data in either language: names (a client's Chinese name,
# another bank's name in the transactions, shown as the bank keeps them) and the header spellings
# the importer recognises (the data dictionary).
DATA_COLUMNS = {
    table[key]
    for table in (ZH, EN)
    for key in ("col.name", "col.counterparty", "imp.dict.col.spellings")
}

# The glossary names each term in both languages by design (DESIGN.md §4: the terms of both
# curricula, zh/en): its term headings "**<中文> · <English>**" hold both on either screen.
_TERM_HEADING = re.compile(r"^\*\*[^*]+ · [^*]+\*\*$")

_ASCII_SEGMENT = re.compile(r"[\x20-\x7e]+")
_WORD = re.compile(r"^[A-Za-z]+(?:['’\-][A-Za-z]+)*$")
_STRIP = "()[]{}\"'“”‘’,.;:!?…、，。：；！？「」《》（）"
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def english_runs(text: str) -> list[list[str]]:
    """The runs of consecutive English words in ``text``: tokens of letters only (a hyphen or an
    apostrophe inside allowed), between spaces or punctuation; a token with a digit, a dot, a
    slash or an underscore inside is a code, a number, a file name or a path, and ends a run."""
    runs: list[list[str]] = []
    for segment in _ASCII_SEGMENT.findall(text):
        run: list[str] = []
        for token in segment.split():
            word = token.strip(_STRIP)
            if word and _WORD.match(word):
                run.append(word)
                continue
            if run:
                runs.append(run)
            run = []
        if run:
            runs.append(run)
    return runs


# Plural and number slips (issue 14): a count of one with a plural noun, "(s)" instead of a
# plural, and a whole 万 amount written with ".0".
_ONE_PLURAL = re.compile(
    r"(?<![\d.,])1 (?:of 1 )?(clients|days|children|years|months|weeks|items|products|rows"
    r"|accounts|companies|contacts|times|members|policies|branches|RMs|points|files)\b"
)
_MAYBE_PLURAL = re.compile(r"[a-z]\(s\)")
_WHOLE_WAN = re.compile(r"\d\.0+(万|亿)")


def _bilingual_term(s: Shown, glossary: bool) -> bool:
    return glossary and s.where == "markdown" and bool(_TERM_HEADING.match(s.text))


def zh_problems(shown: list[Shown], glossary: bool = False) -> list[str]:
    found = []
    for s in shown:
        if s.text.startswith("PLOTLY_DATE_AXIS:"):
            found.append(f"{s.where}: Plotly date ticks ({s.text.split(':')[1]})")
            continue
        if _WHOLE_WAN.search(s.text):
            found.append(f"{s.where}: {s.text!r} (a whole 万 amount with .0)")
        if s.data or _bilingual_term(s, glossary):
            continue
        for run in english_runs(s.text):
            phrase = " ".join(run)
            leaked = [w for w in run if w in LEAKED_VALUES | ENGLISH_DATE_WORDS]
            if leaked or (len(run) >= 2 and not all(w in ZH_ALLOWED_WORDS for w in run)):
                found.append(f"{s.where}: {phrase!r} in {s.text!r}")
    return found


def en_problems(shown: list[Shown], names: set[str], glossary: bool = False) -> list[str]:
    found = []
    for s in shown:
        if s.text.startswith("PLOTLY_DATE_AXIS:"):
            found.append(f"{s.where}: Plotly date ticks ({s.text.split(':')[1]})")
            continue
        for m in _ONE_PLURAL.finditer(s.text):
            found.append(f"{s.where}: {m.group(0)!r} in {s.text!r}")
        if _MAYBE_PLURAL.search(s.text):
            found.append(f"{s.where}: '(s)' in {s.text!r}")
        for run in english_runs(s.text):
            if any(w in LEAKED_VALUES for w in run):
                found.append(f"{s.where}: {' '.join(run)!r} in {s.text!r}")
        if s.data or s.where in LANGUAGE_SWITCH or _bilingual_term(s, glossary):
            continue  # a name is data; the language switch names each language in its own
        rest = s.text
        for name in sorted((n for n in names if n in rest), key=len, reverse=True):
            rest = rest.replace(name, " ")  # a client's or a company's name, full or masked
        if _CJK.search(rest):
            found.append(f"{s.where}: {s.text!r}")
    return found


# the language switch is labelled in both languages ("语言 / Language") and offers "中文" and
# "English" by their own names, so that a viewer who reads neither of the screen's finds it
LANGUAGE_SWITCH = {"language switch"}


def data_names(path) -> set[str]:
    """Every client, company and RM name and every client address of the snapshot, full and
    masked: Chinese names and addresses are data, shown as the bank keeps them (masked unless the
    viewer may unmask) on an English screen too."""
    wh = store.open_warehouse(path)
    names: set[str] = set()
    for sql, mask in (
        ("SELECT name_zh FROM clients", mask_name),
        ("SELECT name_zh FROM corp_clients", mask_name),
        ("SELECT name_zh FROM rms", mask_name),
        ("SELECT address FROM clients", mask_address),
    ):
        for name in wh.query(sql).iloc[:, 0].dropna():
            names |= {str(name), mask(str(name))}
    return names


# ----------------------------------------------------------------------------- the pages


@dataclass(frozen=True)
class Case:
    page: str
    role: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        extra = "".join(f"?{k}" for k, _ in self.params)
        return f"{Path(self.page).stem}{extra}-{self.role}"


def _own_client(path) -> str:
    wh = store.open_warehouse(path)
    return wh.scalar("SELECT MIN(client_id) FROM clients WHERE rm_id = 'R0001'")


CASES = [
    Case(p.path, role)
    for p in PAGES
    for role in ROLES
    if role.split(":")[0] in p.roles
] + [
    Case("pages/client.py", role, (("client", "OWN"),)) for role in ROLES
] + [
    Case("pages/allocation.py", role, (("client", "OWN"),)) for role in ROLES
]  # fmt: skip


def _params(case: Case, path) -> dict[str, str]:
    return {k: (_own_client(path) if v == "OWN" else v) for k, v in case.params}


@pytest.mark.parametrize(
    "case, lang",
    [pytest.param(c, lang, id=f"{c.id}-{lang}") for c in CASES for lang in ("zh", "en")],
)
def test_no_stray_language(app_data, demo_db_path, case, lang):
    at = run_page(case.page, case.role, lang, **_params(case, demo_db_path))
    assert not at.exception, [e.value for e in at.exception]
    shown, unknown = shown_texts(at)
    assert not unknown, f"element types the collector cannot read: {sorted(unknown)}"
    assert len(shown) > 10  # the page rendered (a title, the sidebar, its content)
    glossary = case.page == "pages/glossary.py"
    if lang == "zh":
        problems = zh_problems(shown, glossary)
    else:
        problems = en_problems(shown, data_names(demo_db_path), glossary)
    assert problems == [], "\n".join(dict.fromkeys(problems))


def test_the_overview_opens_at_its_own_path(app_data):
    """``/overview?lang=zh`` (the default page's own path, in a link or a bookmark) opens the
    overview, not Streamlit's "Page not found" dialog: the browser's path is resolved the way
    Streamlit resolves it, against the pages the run registered; opening it lands on "/"."""
    from streamlit.runtime.pages_manager import PagesManager

    at = run_page(PAGES[0].path, "manager", "zh")
    resolver = PagesManager(APP)
    resolver.set_script_intent("", PAGES[0].url_path)  # what a browser at /overview asks for
    found = resolver.set_pages_and_resolve(at._registered_pages)  # no fallback: None if unknown
    assert found is not None and Path(found["script_path"]) == Path(APP).parent / PAGES[0].path
    assert found["url_pathname"] == "overview"
    at.switch_page(PAGES[0].path).run()  # the hidden page at /overview ...
    assert not at.exception and at.title[0].value == ZH["overview.title"]
    home = [h for h, p in at._registered_pages.items() if p["url_pathname"] == ""]
    assert at._finished_page_script_hash == home[0]  # ... moves on to the default page at "/"
    assert at.query_params["lang"] in ("zh", ["zh"])  # with the URL's parameters


# ----------------------------------------------------------------------------- the checks' answers


def test_english_runs_leave_codes_numbers_and_paths_out():
    assert english_runs("客户 C00000010 的 AUM 为 50万") == [["AUM"]]
    assert english_runs("见 settings.toml [importer.codes] 与 BG/NBD、R0001") == []
    assert english_runs("Client name English：客户姓名") == [["Client", "name", "English"]]
    assert english_runs("Gamma-Gamma 模型，python -m analytics.importer load") == [
        ["Gamma-Gamma"],
        ["python"],
        ["load"],
    ]


def test_the_chinese_check_knows_its_answers():
    found = zh_problems([
        Shown("caption", "最有价值客户 MVC、低贡献客户 LVC"),  # single terms
        Shown("caption", "CSV Excel 导出"),  # a run of allowed terms
        Shown("caption", "AUM at date 必填"),  # a run with stray words
        Shown("chart", "Nov 1 2026"),  # a date Plotly wrote
        Shown("dataframe '风险等级'", "None"),
        Shown("dataframe '姓名'", "Wang Fang", data=True),  # a name is data
        Shown("metric", "50.0万"),
        Shown("metric", "50.5万"),
    ])  # fmt: skip
    assert found == [
        "caption: 'AUM at date' in 'AUM at date 必填'",
        "chart: 'Nov' in 'Nov 1 2026'",
        "dataframe '风险等级': 'None' in 'None'",
        "metric: '50.0万' (a whole 万 amount with .0)",
    ]


def test_the_english_check_knows_its_answers():
    found = en_problems(
        [
            Shown("caption", "Showing the top 1 of 1 clients; click a row to open the client."),
            Shown("markdown", "Family: Married, 1 children (aged 14)"),
            Shown("dataframe 'Opener'", "Your policy is 1 year(s) old today"),
            Shown("markdown", "Client 王*: 2 products"),  # a masked name is data
            Shown("markdown", "Address: 北京市东城区****"),  # so is a masked address
            Shown("caption", "Tier: 白金"),  # a label left in Chinese
            Shown("language switch", "中文"),
            Shown("dataframe 'Risk'", "None"),
        ],
        {"王*", "北京市东城区****"},
    )
    assert found == [
        "caption: '1 of 1 clients' in 'Showing the top 1 of 1 clients; click a row to open the "
        "client.'",
        "markdown: '1 children' in 'Family: Married, 1 children (aged 14)'",
        "dataframe 'Opener': '(s)' in 'Your policy is 1 year(s) old today'",
        "caption: 'Tier: 白金'",
        "dataframe 'Risk': 'None' in 'None'",
    ]


def test_a_plotly_date_axis_is_found():
    dated = {"data": [{"type": "bar", "x": ["2026-11-02", "2026-11-09"], "y": [1, 2]}]}
    labelled = {
        "data": [{"type": "bar", "x": ["2026年11月2日", "2026年11月9日"], "y": [1, 2]}],
        "layout": {"xaxis": {"type": "category"}},
    }
    assert plotly_date_axes(dated) == ["xaxis"] and plotly_date_axes(labelled) == []
