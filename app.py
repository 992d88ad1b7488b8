"""BranchLens entry point: page config, who is viewing, language, and the pages their role may open.

Run with ``streamlit run app.py``. On first start with no warehouse snapshot the demo one is built
(settings.toml [demo]).
"""

from ui import shell

shell.main()
