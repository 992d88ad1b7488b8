"""The business rules in force, read from ``settings.toml`` at the repository root.

Every threshold, weight and quota comes from there (DESIGN.md §1); code reads it through
``load_settings()`` and never repeats a number.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PATH = Path(os.environ.get("BRANCHLENS_SETTINGS", ROOT / "settings.toml"))


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_settings(path: str | os.PathLike | None = None) -> dict:
    """Return the parsed settings (a dict of sections). Cached per path; treat it as read-only."""
    return _load(str(path or SETTINGS_PATH))


def tier_lines(settings: dict | None = None) -> list[tuple[str, float]]:
    """AUM tier names with their lower line in yuan, lowest first; the lowest tier's line is 0."""
    s = (settings or load_settings())["tiers"]
    return [(name, float(s["lines"].get(name, 0))) for name in s["order"]]
