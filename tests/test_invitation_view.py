"""The invitation view's record table (ui/invitation_view.py) without Streamlit running: who
recorded each invitation is a column, the RM's name in the viewer's language."""

from datetime import date

import pandas as pd
import pytest

from analytics.access import Scope
from ui import invitation_view
from ui.i18n import EN, ZH
from ui.shell import Viewer

RMS = pd.DataFrame({
    "rm_id": ["R1", "R2"], "branch_id": ["B001", "B001"], "name_zh": ["王芳", "李强"],
    "name_en": ["Wang Fang", "Li Qiang"], "title": ["wealth", "wealth"],
})  # fmt: skip
SHOWN = pd.DataFrame({
    "log_id": [3, 2, 1], "client_id": ["c3", "c2", "c1"], "rm_id": ["R2", "R1", "R7"],
    "contact_date": [date(2026, 4, 9), date(2026, 4, 8), date(2026, 4, 7)],
    "channel": ["visit", "call", "wechat"], "reason": ["invite_upgrade"] * 3,
    "outcome": ["visited", "reached", "no_answer"], "note": ["came in", None, "跟进"],
    "name_zh": ["张*", "赵*", "钱*"], "name_en": ["Zhang *", "Zhao *", "Qian *"],
})  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_record_table_names_the_rm_who_recorded_each_invitation(lang):
    t = ZH if lang == "zh" else EN
    viewer = Viewer(Scope("manager", ("B001",)), lang, True, "unused.duckdb", date(2026, 4, 30),
                    "demo", date(2026, 4, 30))  # fmt: skip
    table = invitation_view.recorded_table(viewer, SHOWN, RMS)
    assert list(table.columns) == [t["col.date"], t["col.client_id"], t["col.name"], t["col.rm"],
                                   t["col.channel"], t["col.outcome"], t["col.note"]]  # fmt: skip
    # R7 is not in the snapshot's RM list (left the bank): their id stands
    names = {"zh": ["李强", "王芳", "R7"], "en": ["Li Qiang", "Wang Fang", "R7"]}[lang]
    assert table[t["col.rm"]].tolist() == names
    assert table[t["col.name"]].tolist() == SHOWN[f"name_{lang}"].tolist()
    assert table[t["col.outcome"]].tolist() == [
        t["outcome.visited"],
        t["outcome.reached"],
        t["outcome.no_answer"],
    ]
    assert table[t["col.note"]].tolist() == ["came in", "", "跟进"]
