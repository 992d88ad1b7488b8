"""Forms that start empty again after a save (issue 14): the invitation record form
(``pages/invitations.py``) and the contact plan's done form (``ui/plan_view.py``).

A Streamlit widget keeps its value across reruns, so a form saved and shown again would offer the
last note for the next record. On a successful save the page calls ``saved(form, message)`` and
reruns; on that next run ``start(form, keys)``, called before the form's widgets are drawn,
forgets their values (the widgets come back with their defaults) and returns the message, which
the page shows as a success naming what was saved. A save that failed keeps what was typed, so
nothing has to be typed again. (``st.form(clear_on_submit=True)`` would clear a failed save too.)
The same pair carries the message of an action without a form (an undo) across its rerun.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

_KEY = "_form_saved"


def saved(form: str, message: str) -> None:
    """Call right after ``form`` was saved, before ``st.rerun()``: the next run's ``start``
    clears the form and returns ``message``."""
    st.session_state[f"{_KEY}:{form}"] = message


def start(form: str, keys: Iterable[str] = ()) -> str | None:
    """Before ``form``'s widgets: if it was saved on the run before, drop the widget ``keys``
    (their widgets start from their defaults) and return the success message, once; else None."""
    message = st.session_state.pop(f"{_KEY}:{form}", None)
    if message is not None:
        for key in keys:
            st.session_state.pop(key, None)
    return message


def show(form: str, keys: Iterable[str] = ()) -> None:
    """``start``, with its message shown as a success."""
    message = start(form, keys)
    if message is not None:
        st.success(message, icon=":material/check_circle:")
