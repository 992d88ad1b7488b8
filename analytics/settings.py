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
    """AUM tier names with their lower line in yuan, lowest first; the lowest tier's line is 0.

    ``[tiers] order`` is the one list of tiers; every tier above the lowest needs a line in
    ``[tiers.lines]`` and the lines must rise with the order (ValueError otherwise: a tier without
    a line would silently hold everybody)."""
    s = (settings or load_settings())["tiers"]
    order, lines = list(s["order"]), s["lines"]
    missing = [name for name in order[1:] if name not in lines]
    if missing:
        raise ValueError(f"[tiers.lines] has no line for {', '.join(missing)}")
    out = [(order[0], 0.0)] + [(name, float(lines[name])) for name in order[1:]]
    if any(hi <= lo for (_, lo), (_, hi) in zip(out, out[1:], strict=False)):
        raise ValueError("[tiers.lines] must rise with [tiers] order")
    return out


def tier_line(tier: str, settings: dict | None = None) -> float:
    """The line (元) of one tier (a ``[tiers] order`` code): the 50万 of ``platinum``. Settings
    that mean "this tier's line" name the tier rather than repeat its number."""
    lines = dict(tier_lines(settings))
    if tier not in lines:
        raise ValueError(f"{tier!r} is not a tier of [tiers] order")
    return lines[tier]


def fund_categories(settings: dict | None = None) -> tuple[str, ...]:
    """The product categories that are funds (``[funds] categories``)."""
    return tuple((settings or load_settings())["funds"]["categories"])


def fund_loss_line(settings: dict | None = None) -> float:
    """The fund-loss line (``[funds] loss_line``): a fund position whose P&L is at or below this
    share of its cost is at a loss (-0.15 = -15%)."""
    return float((settings or load_settings())["funds"]["loss_line"])
