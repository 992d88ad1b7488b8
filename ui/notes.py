"""Free-text notes in the views (contact logs, invitations, the contact plan, grade adjustments).

A note is saved as typed; everyone but its author reads it with mobile, ID and card numbers masked
(``analytics.privacy.mask_free_text``, applied where the notes are read). The author is warned
when a saved note holds such a number (``privacy.contains_pii``). Saving is not refused: an RM may
have to keep the call-back number a client gave, and a refused note would be typed again
somewhere less safe. The warning is shown after the rerun that follows a save.
"""

from __future__ import annotations

import streamlit as st

from analytics.privacy import contains_pii
from ui.shell import Viewer

_KEY = "_note_pii_warning"


def saved(form: str, text) -> None:
    """Call right after ``text`` was saved from ``form`` (before ``st.rerun()``): if it holds a
    mobile, ID or card number, ``warning(viewer, form)`` shows the warning on the next run."""
    if contains_pii(text):
        st.session_state[f"{_KEY}:{form}"] = True


def warning(viewer: Viewer, form: str) -> None:
    """The warning for ``form``'s last save, once, if it asked for one."""
    if st.session_state.pop(f"{_KEY}:{form}", False):
        st.warning(viewer.t("note.pii_saved"))


def warn_now(viewer: Viewer, text) -> None:
    """The warning straight away, for a form that does not rerun after saving."""
    if contains_pii(text):
        st.warning(viewer.t("note.pii_saved"))
