"""BranchLens domain layer: pure Python and SQL over DuckDB. Never imports Streamlit."""
