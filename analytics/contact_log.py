"""Contacts recorded in BranchLens (issue 6, item 4): the workspace ``contact_logs`` table.

The warehouse carries the CRM's contact history, which is read-only and as old as the snapshot.
What an RM records here lives in the workspace database, so it survives an app restart and a new
snapshot, shows in the client view next to the CRM history, and counts wherever a rule asks whether
a client was contacted recently (the planner, the invitation lists, the threshold flag).

Who may log: only an RM, and only for a client in their own book (the warehouse ``clients.rm_id``,
the system of record for books, see README). A branch manager or head office reads the logs of
their scope. Reading is filtered in SQL by the viewer's clients (``_scope_filter``).

Notes are free text and may hold a client's mobile or ID number although the form asks for none.
A note is stored as typed (the RM who wrote it keeps their own words) and every reader gets it
through ``privacy.mask_free_text`` unless they wrote it (``logged_by`` is their ``author_id``):
a branch manager reads an RM's note with the numbers masked. The form warns the author when a note
holds such a number (``privacy.contains_pii``); saving is not refused, since an RM may need the
number that a client gave for a call-back.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.access import AccessDenied, Scope, may
from analytics.privacy import mask_notes
from analytics.store import Database

CHANNELS = ("visit", "call", "wechat", "sms", "event")
# ``visited``: the client came (to the branch, a meeting or an event), the invitation funnel's
# visited stage on any channel (``analytics.invitations``).
OUTCOMES = ("reached", "no_answer", "visit_booked", "visited", "product_discussed", "declined")
NOTE_MAX_CHARS = 500
LOG_COLUMNS = (
    "log_id", "client_id", "rm_id", "contact_date", "channel", "reason", "outcome", "note",
    "plan_id", "logged_by", "created_at",
)  # fmt: skip


class ContactLogError(ValueError):
    """A contact that cannot be recorded as given. ``code`` names the problem for the UI."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _owner(wh: Database, client_id: str) -> tuple[str, str | None] | None:
    row = wh.query("SELECT branch_id, rm_id FROM clients WHERE client_id = ?", [client_id])
    if row.empty:
        return None
    rm = row["rm_id"].iloc[0]
    return str(row["branch_id"].iloc[0]), (None if pd.isna(rm) else str(rm))


def log_contact(
    ws: Database,
    wh: Database,
    scope: Scope,
    client_id: str,
    contact_date: date,
    channel: str,
    outcome: str,
    note: str | None = None,
    reason: str | None = None,
    plan_id: int | None = None,
    *,
    today: date,
) -> int:
    """Record one contact by the viewing RM with their own client; returns the new ``log_id``.

    Raises ``AccessDenied`` when the viewer is not an RM or the client is not in their book, and
    ``ContactLogError`` for an unknown channel or outcome, a note over ``NOTE_MAX_CHARS`` or a date
    after ``today`` (the viewer's business day, ``analytics/business_day.py``).
    """
    if not may(scope, "log_contact"):
        raise AccessDenied("only a client's RM records contacts")
    owner = _owner(wh, client_id)
    if owner is None or not scope.owns(*owner):
        raise AccessDenied("this client is not in your book")
    if channel not in CHANNELS:
        raise ContactLogError("channel", f"unknown channel {channel!r}")
    if outcome not in OUTCOMES:
        raise ContactLogError("outcome", f"unknown outcome {outcome!r}")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX_CHARS:
        raise ContactLogError("note", f"note longer than {NOTE_MAX_CHARS} characters")
    if contact_date > today:
        raise ContactLogError("date", "a contact cannot be dated in the future")
    with ws.cursor() as cur:
        return int(
            cur.execute(
                """
                INSERT INTO contact_logs (client_id, rm_id, contact_date, channel, reason, outcome,
                                          note, logged_by, plan_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING log_id
                """,
                [client_id, scope.rm_id, contact_date, channel, reason, outcome, note,
                 author_id(scope), plan_id],
            ).fetchone()[0]
        )  # fmt: skip


def author_id(scope: Scope) -> str:
    """Who a note is written by, as ``logged_by`` records it: the viewer id (the RM id when the
    scope has none)."""
    return scope.viewer_id or scope.rm_id or ""


def scope_clients(wh: Database, scope: Scope) -> list[str] | None:
    """The client ids the viewer may see, or None when the scope is every client (head office,
    trainer), so workspace queries can filter by them in SQL."""
    if scope.role in ("head_office", "trainer"):
        return None
    where, params = scope.where("c")
    return wh.query(f"SELECT client_id FROM clients c WHERE {where}", params)["client_id"].tolist()


def _scope_filter(wh: Database, scope: Scope) -> tuple[str, list]:
    ids = scope_clients(wh, scope)
    if ids is None:
        return "TRUE", []
    return "client_id IN (SELECT UNNEST(?::VARCHAR[]))", [ids]


def logged_contacts(
    ws: Database,
    wh: Database,
    scope: Scope,
    client_id: str | None = None,
    since: date | None = None,
    reason_prefix: str | None = None,
) -> pd.DataFrame:
    """Contacts recorded in BranchLens for the viewer's clients, newest first (``LOG_COLUMNS``).

    ``client_id`` narrows to one client, ``since`` to contacts on or after a date and
    ``reason_prefix`` to reasons starting with it (e.g. ``"invite_"`` for the campaigns). Notes
    by anyone but the viewer come with their mobile, ID and card numbers masked."""
    where, params = _scope_filter(wh, scope)
    if client_id is not None:
        where += " AND client_id = ?"
        params.append(client_id)
    if since is not None:
        where += " AND contact_date >= ?"
        params.append(since)
    if reason_prefix is not None:
        where += " AND starts_with(reason, ?)"
        params.append(reason_prefix)
    df = ws.query(
        f"SELECT {', '.join(LOG_COLUMNS)} FROM contact_logs WHERE {where} "
        "ORDER BY contact_date DESC, log_id DESC",
        params,
    )
    df["contact_date"] = pd.to_datetime(df["contact_date"]).dt.date
    df["note"] = mask_notes(df["note"], df["logged_by"], author_id(scope))
    return df


def contact_dates(ws: Database, wh: Database, scope: Scope) -> pd.DataFrame:
    """client_id, contact_date of every contact recorded in BranchLens for the viewer's clients:
    the ``extra_contacts`` that the recently-contacted rules add to the CRM history."""
    where, params = _scope_filter(wh, scope)
    df = ws.query(f"SELECT client_id, contact_date FROM contact_logs WHERE {where}", params)
    df["contact_date"] = pd.to_datetime(df["contact_date"]).dt.date
    return df
