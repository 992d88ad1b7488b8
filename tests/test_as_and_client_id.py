"""Issue 14 point 4: an unknown demo-mode ``as=`` says so (and shows the trainer view), and a
typed client id is case-insensitive (``ui/shell.py``: ``unknown_as``, ``normalize_client_id``,
``client_id_input``)."""

from __future__ import annotations

from pathlib import Path

import app_pages
import pytest
from streamlit.testing.v1 import AppTest

from analytics import access, store
from ui.i18n import EN, ZH
from ui.shell import PAGES, normalize_client_id, unknown_as

APP = str(Path(__file__).resolve().parent.parent / "app.py")
BRANCHES = ["B001", "B002"]
RMS = {"R0001": "B001", "R0007": "B002"}


# ---------------------------------------------------------------------------- plain helpers


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("C00000010", "C00000010"),
        ("c00000010", "C00000010"),
        (" C00000010 ", "C00000010"),
        ("  c00000010\t", "C00000010"),
        ("\u3000c00000010\u3000", "C00000010"),  # ideographic spaces around it (an IME)
        ("ｃ００００００１０", "C00000010"),  # full-width letters and digits (an IME)
        ("k0005", "K0005"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_normalize_client_id(typed, expected):
    assert normalize_client_id(typed) == expected


def _scope(value: str) -> access.Scope:
    return access.parse_as(value, BRANCHES, RMS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("trainer", None),
        ("head_office", None),
        ("manager", None),  # the first branch's manager
        ("manager:B002", None),
        ("rm:R0007", None),
        (" rm:R0001 ", None),
        ("", None),  # no role asked for: the trainer is the default, nothing to warn of
        ("rm:R9999", ("as.unknown_rm", {"rm_id": "R9999"})),
        ("manager:B999", ("as.unknown_branch", {"branch_id": "B999"})),
        ("rm:r0001", ("as.unknown_rm", {"rm_id": "r0001"})),  # RM ids are case-sensitive
        ("boss", ("as.unknown_role", {"value": "boss"})),
        ("rm:", ("as.unknown_role", {"value": "rm:"})),
        # only id characters of the URL are repeated, at most 32 of them
        ("rm:[x](http://e.vil)", ("as.unknown_rm", {"rm_id": "xhttp:e.vil"})),
        ("rm:" + "9" * 40, ("as.unknown_rm", {"rm_id": "9" * 32})),
    ],
)
def test_unknown_as(value, expected):
    assert unknown_as(value, _scope(value)) == expected


def test_an_unknown_as_still_falls_back_to_the_trainer():
    for value in ("rm:R9999", "manager:B999", "boss"):
        assert _scope(value).role == "trainer"


# ---------------------------------------------------------------------------- in the app


@pytest.fixture(scope="module")
def app_data(demo_db_path, tmp_path_factory):
    """A data folder with the small demo snapshot published as current (as in test_pages)."""
    root = tmp_path_factory.mktemp("data_as")
    with app_pages.published_demo(root, demo_db_path) as published:
        yield published


def run_page(page_path: str, lang: str, role: str | None = None, **params) -> AppTest:
    return app_pages.run_page(page_path, role, lang, **params)


def _param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


UNKNOWN = {
    (lang, key): table[key]
    for lang, table in (("zh", ZH), ("en", EN))
    for key in ("as.unknown_rm", "as.unknown_branch", "as.unknown_role")
}


def _as_warnings(at: AppTest) -> list[str]:
    """The warnings on screen that are one of the unknown-``as`` strings (any id)."""
    heads = {text.split("{")[0] for text in UNKNOWN.values()}
    return [w.value for w in at.warning if any(w.value.startswith(h) for h in heads)]


@pytest.mark.parametrize(
    ("role", "lang", "expected"),
    [
        ("rm:R9999", "en", "No RM R9999 in this snapshot: showing the trainer view. "
                           "Pick a role in the sidebar."),
        ("rm:R9999", "zh", "此数据快照中没有客户经理 R9999：现显示培训师视图。可在侧栏选择身份。"),
        ("manager:B999", "en", "No branch B999 in this snapshot: showing the trainer view. "
                               "Pick a role in the sidebar."),
        ("manager:B999", "zh", "此数据快照中没有网点 B999：现显示培训师视图。可在侧栏选择身份。"),
    ],
)  # fmt: skip
def test_an_unknown_as_is_announced_and_shows_the_trainer_view(app_data, role, lang, expected):
    at = run_page(PAGES[0].path, lang, role)
    assert not at.exception, [e.value for e in at.exception]
    assert _as_warnings(at) == [expected]
    key = "as.unknown_rm" if role.startswith("rm:") else "as.unknown_branch"
    field = "rm_id" if role.startswith("rm:") else "branch_id"
    assert expected == UNKNOWN[(lang, key)].format(**{field: role.split(":")[1]})
    assert _param(at, "as") == "trainer"  # the URL now says what is shown
    assert at.sidebar.selectbox[0].value == "trainer"
    at.run()  # still said on the next run ...
    assert _as_warnings(at) == [expected]
    at.switch_page("pages/threshold.py").run()  # ... and on another page
    assert _as_warnings(at) == [expected]
    at.sidebar.selectbox[0].set_value("rm:R0001").run()  # until a role is picked
    assert not at.exception and _as_warnings(at) == []


@pytest.mark.parametrize("role", [None, "trainer", "rm:R0001", "manager:B002", "manager"])
def test_a_valid_or_missing_as_has_no_warning(app_data, role):
    at = run_page(PAGES[0].path, "en", role)
    assert not at.exception, [e.value for e in at.exception]
    assert _as_warnings(at) == []


def _client_of(path, rm_id: str) -> str:
    wh = store.open_warehouse(path)
    return wh.scalar("SELECT MIN(client_id) FROM clients WHERE rm_id = ?", [rm_id])


def test_a_typed_client_id_is_case_insensitive(app_data, demo_db_path):
    cid = _client_of(demo_db_path, "R0001")
    assert cid != cid.lower()  # the demo's ids have a letter
    at = run_page("pages/client.py", "en", "head_office")
    assert [i.value for i in at.info] == [EN["client.pick_help"]]  # nothing typed yet
    at.text_input[0].input(f"  {cid.lower()} ").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert f"`{cid}`" in at.markdown[0].value  # the client's card, under its real id
    assert _param(at, "client") == cid


def test_a_lowercase_client_in_the_url_opens_the_client(app_data, demo_db_path):
    cid = _client_of(demo_db_path, "R0001")
    at = run_page("pages/client.py", "zh", "rm:R0001", client=cid.lower())
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert f"`{cid}`" in at.markdown[0].value
    assert at.text_input[0].value == cid and _param(at, "client") == cid


def test_the_allocation_check_takes_a_lowercase_client_id(app_data, demo_db_path):
    cid = _client_of(demo_db_path, "R0001")
    at = run_page("pages/allocation.py", "en", "rm:R0001", client=f" {cid.lower()} ")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.text_input[0].value == cid and _param(at, "client") == cid
    assert not any(i.value == EN["client.pick_help"] for i in at.info)
