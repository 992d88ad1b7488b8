"""规则设置 Rules in force: the tier lines and every parameter of settings.toml, read-only."""

import pandas as pd
import streamlit as st

from analytics.settings import SETTINGS_PATH, load_settings, tier_lines
from ui import formats, shell

viewer = shell.page("settings")
tr, lang = viewer.t, viewer.lang
settings = load_settings()

st.title(tr("settings.title"))
st.caption(tr("settings.intro"))

st.subheader(tr("settings.tier_lines"))
lines = pd.DataFrame(
    [(tr(f"tier.{name}"), formats.money(line, lang)) for name, line in tier_lines(settings)],
    columns=[tr("col.tier"), tr("settings.line")],
)
st.dataframe(lines, hide_index=True)
st.caption(
    tr(
        "settings.downgrade",
        n=settings["tiers"]["downgrade_after_months"],
        tier=tr(f"tier.{settings['tiers']['high_end_from']}"),
    )
)

with st.expander(tr("settings.all")):
    st.code(SETTINGS_PATH.read_text(encoding="utf-8"), language="toml")
