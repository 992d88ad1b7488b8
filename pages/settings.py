"""规则设置 Rules in force: settings.toml as a readable table per section (issue 14 point 3), the
tier lines first, the raw file behind an expander. Read-only."""

import streamlit as st

from analytics.settings import SETTINGS_PATH, load_settings
from ui import rules_view, shell

viewer = shell.page("settings")
tr = viewer.t
settings = load_settings()

st.title(tr("settings.title"))
st.caption(tr("settings.intro"))

rules_view.tier_lines_table(viewer, settings)
rules_view.sections(viewer, settings)
rules_view.raw_file(viewer, SETTINGS_PATH.read_text(encoding="utf-8"))
