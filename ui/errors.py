"""Uncaught errors (issue 12, item 6): the user sees a translated message with a short reference
id, the server log gets the traceback under the same id. No exception text, type, path or
traceback reaches the browser.

``guard(lang)`` is a context manager around a page run (``ui.shell.main`` wraps ``nav.run()``);
``guarded(fn, lang)`` calls ``fn`` inside it. Only ``Exception`` is caught: ``st.stop()``,
``st.rerun()`` and ``st.switch_page()`` raise Streamlit's ``StopException`` / ``RerunException``,
which derive from ``BaseException`` and pass through untouched. ``.streamlit/config.toml`` sets
``client.showErrorDetails = "none"`` as well, so an error outside the guard (a fragment rerun,
Streamlit itself) shows Streamlit's generic message without details.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from typing import TypeVar

import streamlit as st
from streamlit.logger import get_logger

from ui.i18n import LANGS, lang_from_locale, t

# Streamlit's own log format and level, on the server's stderr like its other lines.
LOG = get_logger(__name__)
T = TypeVar("T")


def reference() -> str:
    """A short id that a user can read out over the phone: 8 hex digits, e.g. ``E3A91F0C``."""
    return secrets.token_hex(4).upper()


def _lang(lang: str | Callable[[], str] | None) -> str:
    """The viewer's language, or the URL's / browser's when the viewer is not known yet."""
    try:
        value = lang() if callable(lang) else lang
        if value in LANGS:
            return value
        asked = st.query_params.get("lang")
        return asked if asked in LANGS else lang_from_locale(st.context.locale)
    except Exception:
        return "zh"


def report(error: BaseException, lang: str | Callable[[], str] | None = None) -> str:
    """Log ``error`` with its traceback under a new reference id and show the user the
    translated message with that id. Returns the id."""
    ref = reference()
    LOG.error("Uncaught error, reference %s", ref, exc_info=error)
    with contextlib.suppress(Exception):  # showing the message must not raise again
        st.error(t("error.reference", _lang(lang), ref=ref))
    return ref


@contextlib.contextmanager
def guard(lang: str | Callable[[], str] | None = None) -> Iterator[None]:
    """Run the block; an ``Exception`` in it is logged and shown as ``error.reference``.
    ``lang`` is the language, or a function returning it (called only on an error)."""
    try:
        yield
    except Exception as e:  # StopException / RerunException are BaseExceptions: not caught
        report(e, lang)


def guarded(fn: Callable[[], T], lang: str | Callable[[], str] | None = None) -> T | None:
    """``fn()`` inside ``guard(lang)``; None when it failed."""
    with guard(lang):
        return fn()
    return None


def contact_not_saved(error: Exception, lang: str) -> str:
    """The message for a contact that could not be recorded (``contact_log.ContactLogError`` by
    its code, a refusal as such); never the exception's own text."""
    from analytics.contact_log import NOTE_MAX_CHARS

    code = getattr(error, "code", "access")
    return t("plan.log_failed", lang, reason=t(f"log_error.{code}", lang, max=NOTE_MAX_CHARS))
