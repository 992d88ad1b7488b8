"""BranchLens entry point: page config, who is viewing, language, and the pages their role may open.

Run with ``streamlit run app.py``. On first start with no warehouse snapshot the demo one is built
(settings.toml [demo]).
"""

import streamlit as st

from ui import shell

st.set_page_config(page_title="BranchLens", page_icon=":material/account_balance:", layout="wide")
viewer = shell.current_viewer()
navigation = st.navigation(shell.navigation(viewer))
shell.sidebar(viewer)
navigation.run()
