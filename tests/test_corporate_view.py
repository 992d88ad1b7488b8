"""The corporate view's lifetime-value model note (issue 13 point 4): per branch, the spread of
BG/NBD's p_alive and which value model was used and why, in both languages."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.access import Scope
from ui import corporate_view
from ui.shell import Viewer


def viewer(lang: str) -> Viewer:
    day = date(2026, 10, 31)
    return Viewer(Scope("head_office"), lang, True, "", day, "demo", day)


def clv_frame() -> pd.DataFrame:
    """Two branches: B001 with five companies with settlement history and one without, fitted
    with Gamma-Gamma q > 1; B002 with three, q ≤ 1. B003 was fitted (an RM's widened population)
    but has no company in the frame."""
    nan = np.nan
    df = pd.DataFrame({
        "corp_id": [f"E{i:06d}" for i in range(1, 10)],
        "branch_id": ["B001"] * 6 + ["B002"] * 3,
        "p_alive": [0.95, 0.2, 0.6, nan, 0.9, 0.4, 0.7, 0.1, 0.3],
        "value_model": ["gamma_gamma"] * 3 + [None] + ["gamma_gamma"] * 2 + ["observed"] * 3,
    })  # fmt: skip
    bg = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}
    df.attrs["models"] = {
        "B001": {"bgnbd": bg, "gamma_gamma": {"p": 6.25, "q": 3.214, "v": 15.4},
                 "value_model": "gamma_gamma"},
        "B002": {"bgnbd": bg, "gamma_gamma": {"p": 1.8, "q": 0.3449, "v": 120.0},
                 "value_model": "observed"},
        "B003": {"bgnbd": bg, "gamma_gamma": {"p": 2.0, "q": 0.5, "v": 1.0},
                 "value_model": "observed"},
    }  # fmt: skip
    return df


WANT = {
    "zh": [
        "朝阳路支行：按 BG/NBD 模型，5 户有结算记录的企业中 40.0% 仍在往来的概率低于 50%"
        "（中位数 60.0%）。Gamma-Gamma 的 q = 3.21 > 1：每户的每笔结算价值向网点均值收缩"
        "（结算天数越多，收缩越少）。",
        "B002：按 BG/NBD 模型，3 户有结算记录的企业中 66.7% 仍在往来的概率低于 50%"
        "（中位数 30.0%）。Gamma-Gamma 的 q = 0.34 ≤ 1：每笔结算价值相差几个数量级，"
        "模型没有可收缩的均值；直接使用每户自己观测到的每笔结算价值。",
    ],
    "en": [
        "Chaoyang Road Sub-branch: by BG/NBD, 40.0% of the 5 companies with settlement history "
        "are below a 50% chance of still being active (median 60.0%). Gamma-Gamma q = 3.21 > 1: "
        "each company's value per settlement is shrunk toward the branch mean, less so for "
        "companies with more settlement days.",
        "B002: by BG/NBD, 66.7% of the 3 companies with settlement history are below a 50% "
        "chance of still being active (median 30.0%). Gamma-Gamma q = 0.34 ≤ 1: values per "
        "settlement spread over orders of magnitude, so the model has no mean to shrink toward; "
        "each company's own observed value per settlement is used.",
    ],
}
NAMES = {"zh": {"B001": "朝阳路支行"}, "en": {"B001": "Chaoyang Road Sub-branch"}}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_model_note_per_branch(lang):
    """Gamma-Gamma (B001) and observed values (B002, named by id for want of a name); a fitted
    branch with no company in the frame (B003) has no note."""
    assert corporate_view.model_notes(viewer(lang), clv_frame(), NAMES[lang]) == WANT[lang]


def test_model_note_without_history_or_models():
    df = clv_frame()
    none = df.assign(p_alive=np.nan)
    none.attrs = df.attrs
    assert corporate_view.model_notes(viewer("en"), none) == []
    assert corporate_view.model_notes(viewer("en"), df.iloc[:0]) == []
