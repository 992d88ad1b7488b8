"""Pieces of the invitation view (``pages/invitations.py``): the form that records an invitation,
which starts empty again after each save and says what was saved (``ui/form_reset.py``), and the
table of invitations recorded, with the RM who recorded each (a branch manager reads the team's)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from analytics.access import AccessDenied
from analytics.contact_log import CHANNELS, NOTE_MAX_CHARS, OUTCOMES, ContactLogError
from ui import errors, form_reset, formats, notes, plan_view
from ui.shell import Viewer


def record_form(
    viewer: Viewer,
    campaign: str,
    clients: list[str],
    label: dict[str, str],
    save: Callable[..., object],
) -> None:
    """The form that records an invitation of one of ``clients`` (``label``: client id -> name
    as shown) with ``save(client_id=, channel=, outcome=, note=)``. After a save its fields are back
    to their defaults (the next record never carries the last one's note) and a success says
    what was recorded; a refused save keeps what was typed and says why."""
    tr, form = viewer.t, f"inv_{campaign}_log"
    keys = {k: f"inv_{campaign}_{k}" for k in ("who", "channel", "outcome", "note")}
    form_reset.show(form, keys.values())
    notes.warning(viewer, form)
    with st.form(form):
        st.markdown(f"**{tr('inv.record')}**")
        who = st.selectbox(tr("inv.record_client"), clients, key=keys["who"],
                           format_func=lambda cid: f"{label[cid]} · {cid}")  # fmt: skip
        x, y = st.columns(2)
        channel = x.selectbox(tr("col.channel"), CHANNELS, index=CHANNELS.index("call"),
                              key=keys["channel"], format_func=lambda ch: tr(f"channel.{ch}"))  # fmt: skip
        outcome = y.selectbox(tr("col.outcome"), OUTCOMES, key=keys["outcome"],
                              format_func=lambda o: tr(f"outcome.{o}"))  # fmt: skip
        note = st.text_input(tr("col.note"), max_chars=NOTE_MAX_CHARS, key=keys["note"])
        if not st.form_submit_button(tr("inv.record_button"), type="primary",
                                     key=f"inv_{campaign}_save"):  # fmt: skip
            return
        try:
            save(client_id=who, channel=channel, outcome=outcome, note=note)
        except (AccessDenied, ContactLogError) as e:
            st.error(errors.contact_not_saved(e, viewer.lang))
        else:
            notes.saved(form, note)
            form_reset.saved(form, plan_view.saved_message(
                viewer, "inv.record_saved", f"{label[who]} · {who}", outcome, note, channel))  # fmt: skip
            st.rerun()


def recorded_table(viewer: Viewer, shown: pd.DataFrame, rms: pd.DataFrame) -> pd.DataFrame:
    """Invitations recorded (contact-log rows with the client facts of
    ``plan_view.with_clients``) as shown: date, client, name, the RM who recorded it (their name
    in the viewer's language from the snapshot's ``rms``; the id when the snapshot does not know
    them), channel, outcome and note."""
    tr, lang = viewer.t, viewer.lang
    names = "name_zh" if lang == "zh" else "name_en"
    rm_name = dict(zip(rms["rm_id"], rms[names], strict=True))
    return pd.DataFrame({
        tr("col.date"): [formats.day(d, lang) for d in shown["contact_date"]],
        tr("col.client_id"): shown["client_id"].tolist(),
        tr("col.name"): shown[names].tolist(),
        tr("col.rm"): [rm_name.get(r, r) for r in shown["rm_id"]],
        tr("col.channel"): [tr(f"channel.{c}") for c in shown["channel"]],
        tr("col.outcome"): [tr(f"outcome.{o}") for o in shown["outcome"]],
        tr("col.note"): shown["note"].fillna("").tolist(),
    })  # fmt: skip
