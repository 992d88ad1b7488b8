"""File modes for what holds personal data (issue 12, item 6): files 0600, folders 0700.

Set explicitly where each file is created, never through the process umask (which would change
every file the process writes, Streamlit's and DuckDB's included, and is process-wide state).

DuckDB creates its ``.wal`` file next to the database with the umask's mode (0644 under the usual
022) and deletes it at each checkpoint, so its mode cannot be set once and kept: the folder that
holds the database is made 0700, which keeps every file inside it (the WAL, DuckDB's temporary
files) from other users whatever their own modes. ``private_duckdb`` also sets the database file
and a WAL that exists to 0600.

A chmod that the file system refuses (a mount without Unix modes, a file owned by someone else) is
ignored: the folder's mode still applies, and refusing to start would help nobody.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and missing parents) if needed and make it 0700; returns it."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    with contextlib.suppress(OSError):
        os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: str | os.PathLike) -> None:
    """Make an existing file 0600 (nothing if it does not exist)."""
    with contextlib.suppress(OSError):
        os.chmod(path, PRIVATE_FILE)


def write_private(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path``, created 0600 (an existing file is made 0600 first)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        with contextlib.suppress(OSError):
            os.fchmod(f.fileno(), PRIVATE_FILE)
        f.write(data)
    return path


def open_private(path: str | os.PathLike, mode: str = "a", encoding: str = "utf-8"):
    """``open(path, mode)`` for a text file that is created 0600 (append or write)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    with contextlib.suppress(OSError):
        os.fchmod(fd, PRIVATE_FILE)
    return os.fdopen(fd, mode, encoding=encoding)


def private_duckdb(path: str | os.PathLike) -> None:
    """A DuckDB database file and its WAL (if there is one now) made 0600."""
    private_file(path)
    private_file(f"{os.fspath(path)}.wal")
