"""RM adoption of high-end clients (认养/领养分配, issue 4 item 4).

Every high-end client (held tier at or above ``[tiers] high_end_from`` at the as-of month-end,
``analytics.tiers``) should be adopted by an RM of their branch, and no RM's high-end book should
exceed the capacity for their title (``[adoption] capacity_by_title``, else ``default_capacity``).

Stores: the warehouse ``clients.rm_id`` is the bank's record; an accepted assignment is a row of
the workspace table ``rm_assignments`` (analytics/schema.sql). A client's *effective* RM is the
``rm_id`` of their latest row there (``accepted_at``, then insertion order) whose ``branch_id`` is the
client's current branch (an assignment made in a branch the client has since left no longer
applies), else ``clients.rm_id``. The workspace is another DuckDB file: its latest rows are read
with ``ws.query`` and registered on the warehouse cursor, so the scope filter runs in SQL on the
effective (branch_id, rm_id): an RM sees the high-end clients assigned to them now.

``as_of`` (default: the latest month-end in ``client_aum_monthly``) picks the latest month-end on or
before it; AUM is that month's (``client_aum_monthly.aum``, yuan).

Proposal (``propose_assignment``), per branch, deterministic. Its numbers all come from
settings.toml: capacities from ``[adoption] capacity_by_title`` (else ``default_capacity``), the
grade match from ``[adoption.titles_by_tier]``, the tiers from ``[tiers]``.

1. *Movers*: every high-end client without an RM of their branch (``reason='unassigned'``; a
   client whose effective RM is not an RM of the branch, e.g. one who left, counts here with
   ``from_rm`` set), and, for each RM above capacity, the excess ``clients - capacity`` clients,
   smallest AUM first (ties by client_id): the RM keeps their largest relationships and the least
   valuable ones move (``reason='over_capacity'``).
2. Movers in order of AUM descending (ties by client_id, so the largest clients choose first) go
   one by one to a branch RM, other than their current one, that has room (clients < capacity).
   Among those, the best grade match wins: the position of the RM's ``rms.title`` in
   ``[adoption.titles_by_tier] <client's tier>`` (first = best; a title not in the list ranks
   after every listed one, so it is used only when no listed title has room; a tier without a
   list ranks every title equally). With the shipped settings a private or diamond client goes
   to a private banker with room, else a wealth manager, else anyone; a platinum client to a
   wealth manager, else a client manager, a private banker only if nothing else. Among equally
   matching RMs: the lowest high-end AUM so far, then the most remaining room, then the smallest
   rm_id. This balances AUM within a grade and never exceeds a capacity while the branch's total
   capacity allows.
3. When no RM of the branch has room: an unassigned client still gets the RM with the lowest load
   (clients / capacity), then the best grade match, then lowest AUM, then rm_id (an RM over
   capacity is better than none); an over-capacity client stays where it is (moving it would only
   shift the overload). A branch without RMs gets no proposal.

Acceptance (``accept_assignment``) appends the chosen moves to ``rm_assignments`` in one
transaction; its rows share one ``accepted_at`` and ``accepted_by``, which together name the
acceptance. ``last_acceptance`` reads the latest one in a scope (the view's status line) and
``undo_acceptance`` withdraws it: its rows are deleted, so the workspace holds exactly what it held
before, and one audit record (action ``undo``) names what was undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from analytics.access import AccessDenied, Scope, may
from analytics.audit import AuditUnavailable
from analytics.settings import load_settings
from analytics.snapshot import month_and_anchor
from analytics.store import AuditEvent, AuditLog, Database
from analytics.tiers import held_tiers_sql, tier_names, tier_window_start

STATUS_COLUMNS = ["client_id", "branch_id", "tier", "aum", "rm_id"]
LOAD_COLUMNS = [
    "rm_id",
    "branch_id",
    "title",
    "high_end_clients",
    "high_end_aum",
    "capacity",
    "over_capacity",
]
PROPOSAL_COLUMNS = ["client_id", "branch_id", "tier", "aum", "from_rm", "to_rm", "reason"]


# ---------------------------------------------------------------------------- helpers


def _month(wh: Database, as_of: date | None) -> date | None:
    return month_and_anchor(wh, as_of)[0]


def _branch_where(scope: Scope, alias: str) -> tuple[str, list]:
    """A branch-only filter: the scope's branches for a manager (or an RM whose branch is known),
    everything otherwise. Used where the RM of a row is not yet the effective one."""
    if scope.role == "manager" or (scope.role == "rm" and scope.branch_ids):
        marks = ", ".join("?" for _ in scope.branch_ids)
        return f"{alias}.branch_id IN ({marks})", list(scope.branch_ids)
    return "TRUE", []


def _tier_scope(scope: Scope) -> Scope:
    """The scope used to read held tiers: an RM's book depends on the workspace assignments, so
    tiers are read for the whole branch (or bank) and the RM filter applies afterwards."""
    if scope.role != "rm":
        return scope
    if scope.branch_ids:
        return Scope("manager", scope.branch_ids, viewer_id=scope.viewer_id)
    return Scope("head_office", viewer_id=scope.viewer_id)


def latest_assignments(ws: Database | None, scope: Scope | None = None) -> pd.DataFrame:
    """The latest accepted row per client of the workspace ``rm_assignments`` (client_id, rm_id,
    branch_id), restricted to the scope's branches; empty without a workspace or table."""
    empty = pd.DataFrame(
        {c: pd.Series([], dtype=object) for c in ("client_id", "rm_id", "branch_id")}
    )
    if ws is None:
        return empty
    where, params = _branch_where(scope, "a") if scope is not None else ("TRUE", [])
    try:
        df = ws.query(
            f"""
            SELECT client_id, rm_id, branch_id FROM (
                SELECT a.client_id, a.rm_id, a.branch_id,
                       row_number() OVER (PARTITION BY a.client_id
                                          ORDER BY a.accepted_at DESC, a.rowid DESC) AS rn
                FROM rm_assignments a WHERE {where}
            ) WHERE rn = 1
            """,
            params,
        )
    except duckdb.CatalogException:  # a workspace created before the table existed
        return empty
    return df.astype(object) if not df.empty else empty


def _status(wh: Database, ws: Database | None, scope: Scope, as_of, settings) -> pd.DataFrame:
    """High-end clients in scope with their effective RM (STATUS_COLUMNS, sorted by client_id)."""
    names = tier_names(settings)
    month = _month(wh, as_of)
    if month is None:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in STATUS_COLUMNS})
    lo = names.index(settings["tiers"]["high_end_from"])
    held, held_params = held_tiers_sql(
        _tier_scope(scope), settings, first=tier_window_start(month), last=month
    )
    branch_where, branch_params = _branch_where(scope, "c")
    where, params = scope.where("e")
    with wh.cursor() as cur:
        cur.register("adoption_latest", latest_assignments(ws, scope))
        df = cur.execute(
            f"""
            WITH latest AS (
                SELECT CAST(client_id AS VARCHAR) AS client_id, CAST(rm_id AS VARCHAR) AS rm_id,
                       CAST(branch_id AS VARCHAR) AS branch_id
                FROM adoption_latest
            ),
            e AS (
                SELECT c.client_id, c.branch_id, COALESCE(l.rm_id, c.rm_id) AS rm_id
                FROM clients c
                LEFT JOIN latest l ON l.client_id = c.client_id AND l.branch_id = c.branch_id
                WHERE {branch_where}
            )
            SELECT e.client_id, e.branch_id, h.tier, h.aum::DOUBLE AS aum, e.rm_id
            FROM ({held}) h JOIN e ON e.client_id = h.client_id
            WHERE h.month_end = ? AND h.tier >= ? AND {where}
            ORDER BY e.client_id
            """,
            [*branch_params, *held_params, month, lo, *params],
        ).df()
    df["tier"] = [names[int(t)] for t in df["tier"]]
    return df[STATUS_COLUMNS]


def _text(value) -> str | None:
    """A proposal cell as SQL text; missing values stay NULL (so NOT NULL columns refuse them)."""
    return None if value is None or pd.isna(value) else str(value)


def _capacity(title: str | None, settings: dict) -> int:
    a = settings["adoption"]
    return int(a["capacity_by_title"].get(title, a["default_capacity"]))


# ---------------------------------------------------------------------------- views


def effective_rm(
    wh: Database,
    ws: Database | None,
    scope: Scope,
    as_of: date | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """High-end clients in scope with their effective RM: client_id, rm_id (NULL: none),
    sorted by client_id. ``ws`` is the workspace Database, or None (warehouse RMs only)."""
    settings = settings or load_settings()
    return _status(wh, ws, scope, as_of, settings)[["client_id", "rm_id"]]


def adoption_status(
    wh: Database,
    ws: Database | None,
    scope: Scope,
    as_of: date | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """Per high-end client in scope: client_id, branch_id, tier (code), aum (yuan, as-of month),
    rm_id (effective; NULL when not adopted). Sorted by client_id."""
    settings = settings or load_settings()
    return _status(wh, ws, scope, as_of, settings)


def unassigned(
    wh: Database,
    ws: Database | None,
    scope: Scope,
    as_of: date | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """High-end clients in scope without an effective RM (``adoption_status`` columns), largest
    AUM first (ties by client_id)."""
    df = adoption_status(wh, ws, scope, as_of, settings)
    df = df[df["rm_id"].isna()]
    return df.sort_values(["aum", "client_id"], ascending=[False, True]).reset_index(drop=True)


def rm_load(
    wh: Database,
    ws: Database | None,
    scope: Scope,
    as_of: date | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """Per RM of the scope (``rms`` filtered by ``scope.where``: the branches' RMs for a manager,
    every RM for head office and trainer, the RM themself for an RM): rm_id, branch_id, title,
    high_end_clients (effective high-end book), high_end_aum (yuan), capacity (``[adoption]``),
    over_capacity (clients > capacity). Sorted by branch_id, rm_id."""
    settings = settings or load_settings()
    status = _status(wh, ws, scope, as_of, settings)
    where, params = scope.where("r")
    rms = wh.query(
        f"SELECT r.rm_id, r.branch_id, r.title FROM rms r WHERE {where} ORDER BY r.branch_id, r.rm_id",
        params,
    )
    book = (
        status.dropna(subset=["rm_id"])
        .groupby("rm_id")
        .agg(high_end_clients=("client_id", "size"), high_end_aum=("aum", "sum"))
    )
    out = rms.join(book, on="rm_id")
    out["high_end_clients"] = out["high_end_clients"].fillna(0).astype("int64")
    out["high_end_aum"] = out["high_end_aum"].fillna(0.0).astype(float)
    out["capacity"] = [_capacity(t, settings) for t in out["title"]]
    out["capacity"] = out["capacity"].astype("int64")
    out["over_capacity"] = out["high_end_clients"] > out["capacity"]
    return out[LOAD_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------- proposal


def propose_assignment(
    wh: Database,
    ws: Database | None,
    scope: Scope,
    as_of: date | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """The proposed moves (module docstring): client_id, branch_id, tier, aum, from_rm (NULL if
    unassigned), to_rm, reason ('unassigned' | 'over_capacity'). Only RMs of the client's own branch
    receive clients. Sorted by branch_id, then the order in which moves were decided."""
    settings = settings or load_settings()
    status = _status(wh, ws, scope, as_of, settings)
    branches = sorted(set(status["branch_id"]))
    if not branches:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in PROPOSAL_COLUMNS})
    marks = ", ".join("?" for _ in branches)
    rms = wh.query(
        f"SELECT rm_id, branch_id, title FROM rms WHERE branch_id IN ({marks}) ORDER BY rm_id",
        branches,
    )
    rows: list[dict] = []
    for branch in branches:
        clients = status[status["branch_id"] == branch]
        branch_rms = rms[rms["branch_id"] == branch]
        rows.extend(_propose_branch(clients, branch_rms, settings))
    out = pd.DataFrame(rows, columns=PROPOSAL_COLUMNS)
    return out.astype({"aum": float}) if not out.empty else out


def _match_rank(tier: str, title: str | None, settings: dict) -> int:
    """How well an RM of ``title`` matches a client of ``tier`` (0 = best): the title's position in
    ``[adoption.titles_by_tier] <tier>``; a title not listed ranks after every listed one; a tier
    without a list ranks every title 0 (module docstring, step 2)."""
    order = list(settings["adoption"].get("titles_by_tier", {}).get(tier, []))
    return order.index(title) if title in order else len(order)


def _propose_branch(clients: pd.DataFrame, rms: pd.DataFrame, settings: dict) -> list[dict]:
    if rms.empty:
        return []
    cap = {r: _capacity(t, settings) for r, t in zip(rms["rm_id"], rms["title"], strict=True)}
    title = dict(zip(rms["rm_id"], rms["title"], strict=True))
    count = dict.fromkeys(cap, 0)
    aum = dict.fromkeys(cap, 0.0)
    movers: list[tuple[dict, str]] = []
    books: dict[str, list[dict]] = {r: [] for r in cap}
    for rec in clients.to_dict("records"):
        rm = rec["rm_id"]
        if rm is None or pd.isna(rm) or rm not in cap:
            movers.append((rec, "unassigned"))
        else:
            books[rm].append(rec)
    for rm in sorted(books):
        book = sorted(books[rm], key=lambda r: (r["aum"], r["client_id"]))
        excess = max(len(book) - cap[rm], 0)
        movers.extend((rec, "over_capacity") for rec in book[:excess])
        for rec in book[excess:]:
            count[rm] += 1
            aum[rm] += float(rec["aum"])
    movers.sort(key=lambda m: (-float(m[0]["aum"]), m[0]["client_id"]))

    rows = []
    for rec, reason in movers:
        current = rec["rm_id"] if reason == "over_capacity" else None
        room = [r for r in cap if r != current and count[r] < cap[r]]
        rank = {r: _match_rank(rec["tier"], title[r], settings) for r in cap}
        if room:
            to = min(room, key=lambda r: (rank[r], aum[r], -(cap[r] - count[r]), r))
        elif reason == "unassigned":
            to = min(cap, key=lambda r: (
                count[r] / cap[r] if cap[r] else float("inf"), rank[r], aum[r], r
            ))  # fmt: skip
        else:  # no room anywhere: the client stays with their RM
            count[current] += 1
            aum[current] += float(rec["aum"])
            continue
        count[to] += 1
        aum[to] += float(rec["aum"])
        from_rm = rec["rm_id"]
        rows.append(
            {
                "client_id": rec["client_id"],
                "branch_id": rec["branch_id"],
                "tier": rec["tier"],
                "aum": float(rec["aum"]),
                "from_rm": None if from_rm is None or pd.isna(from_rm) else from_rm,
                "to_rm": to,
                "reason": reason,
            }
        )
    return rows


# ---------------------------------------------------------------------------- accept


def accept_assignment(
    ws: Database,
    proposal: pd.DataFrame,
    accepted_by: Scope,
    audit: AuditLog | None = None,
) -> int:
    """Save ``proposal`` rows (client_id, branch_id, from_rm, to_rm; as from
    ``propose_assignment``, possibly a subset) into ``rm_assignments`` in one transaction, and
    record one ``AuditEvent(viewer, 'assign', client_ids, detail)`` when ``audit`` is given.

    ``accepted_by`` is the accepting viewer's Scope: only a branch manager or head office may
    accept (``may(scope, "accept_adoption")``; ``AccessDenied`` otherwise), and every row must
    lie in the scope's branches. The viewer id (``scope.viewer_id``, else the role) is stored in
    ``accepted_by``, and every row gets the same ``accepted_at`` (the transaction's time): the two
    name this acceptance for ``undo_acceptance``. The audit record is written inside the
    transaction: nothing is saved when any check fails, any insert errors or the record cannot be
    written (``AuditUnavailable``; all rolled back). Returns the number of rows saved.
    """
    scope = accepted_by
    if not isinstance(scope, Scope) or not may(scope, "accept_adoption"):
        raise AccessDenied("assign_manager_only")
    if proposal is None or proposal.empty:
        return 0
    for branch in proposal["branch_id"]:
        if not scope.owns(branch, None):
            raise AccessDenied("assign_outside_scope")
    viewer = _viewer(scope)
    rows = [
        (
            _text(r["client_id"]),
            _text(r["to_rm"]),
            _text(r["from_rm"]),
            _text(r["branch_id"]),
            viewer,
        )
        for r in proposal.to_dict("records")
    ]
    with ws.transaction() as cur:
        # current_timestamp is the transaction's start: one value for every row
        now = cur.execute("SELECT CAST(current_timestamp AS TIMESTAMP)").fetchone()[0]
        cur.executemany(
            """INSERT INTO rm_assignments
               (client_id, rm_id, previous_rm_id, branch_id, accepted_by, accepted_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [(*r, now) for r in rows],
        )
        if audit is not None:
            moves = proposal["reason"].value_counts().to_dict() if "reason" in proposal else {}
            detail = "; ".join(f"{k}={v}" for k, v in sorted(moves.items()))
            _record(audit, AuditEvent(
                viewer, "assign", tuple(r[0] for r in rows),
                f"rm_assignments: {detail or f'rows={len(rows)}'}", role=scope.role,
                branch_ids=tuple(sorted({r[3] for r in rows if r[3] is not None})),
            ))  # fmt: skip
    return len(rows)


def _viewer(scope: Scope) -> str:
    return scope.viewer_id or scope.role


def _record(audit: AuditLog, event: AuditEvent) -> None:
    """Append one audit record; ``AuditUnavailable`` when it cannot be written, so the caller's
    transaction is rolled back (no change without its record)."""
    try:
        audit.record(event)
    except OSError:
        raise AuditUnavailable("audit log not writable") from None


# ---------------------------------------------------------------------------- status and undo


@dataclass(frozen=True)
class Acceptance:
    """One accepted proposal (the rows of ``rm_assignments`` sharing ``accepted_at`` and
    ``accepted_by``). ``client_ids`` are its clients in the reading viewer's branches (sorted),
    ``branch_ids`` every branch it touched (so whether the viewer may undo it all is known)."""

    accepted_at: datetime
    accepted_by: str
    client_ids: tuple[str, ...]
    branch_ids: tuple[str, ...]

    @property
    def clients(self) -> int:
        return len(self.client_ids)


class UndoError(Exception):
    """An undo that cannot be done as asked; ``code`` names why for the view (``he.undo_<code>``):
    ``not_accepted`` (the acceptance is not in the workspace: undone already), ``superseded`` (a
    later acceptance moved one of its clients again: undo that one first)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def last_acceptance(ws: Database | None, scope: Scope) -> Acceptance | None:
    """The latest acceptance with a row in the scope's branches (``accepted_at``, then insertion
    order), or None when there is none (or no workspace / table)."""
    if ws is None:
        return None
    where, params = _branch_where(scope, "a")
    try:
        key = ws.query(
            f"""SELECT a.accepted_at, a.accepted_by FROM rm_assignments a WHERE {where}
                ORDER BY a.accepted_at DESC, a.rowid DESC LIMIT 1""",
            params,
        )
    except duckdb.CatalogException:  # a workspace created before the table existed
        return None
    if key.empty:
        return None
    at = pd.Timestamp(key["accepted_at"].iloc[0]).to_pydatetime()
    by = str(key["accepted_by"].iloc[0])
    rows = ws.query(
        f"""SELECT a.client_id, a.branch_id, ({where}) AS in_scope FROM rm_assignments a
            WHERE a.accepted_at = ? AND a.accepted_by = ? ORDER BY a.client_id""",
        [*params, at, by],
    )
    mine = rows[rows["in_scope"].astype(bool)]
    return Acceptance(
        at, by, tuple(str(c) for c in mine["client_id"]),
        tuple(sorted({str(b) for b in rows["branch_id"]})),
    )  # fmt: skip


def may_undo(scope: Scope, acceptance: Acceptance | None) -> bool:
    """Whether ``scope`` may withdraw ``acceptance``: who may accept adoption
    (``may(scope, "accept_adoption")``) for every branch the acceptance touched."""
    return (
        acceptance is not None
        and may(scope, "accept_adoption")
        and all(scope.owns(b, None) for b in acceptance.branch_ids)
    )


def undo_acceptance(
    ws: Database,
    acceptance: Acceptance,
    scope: Scope,
    audit: AuditLog | None = None,
) -> int:
    """Withdraw ``acceptance`` (from ``last_acceptance``): its rows of ``rm_assignments`` are
    deleted, so every client's effective RM is again what it was before, the workspace holds
    exactly the rows it held before, and the view proposes the moves again. Returns the rows
    withdrawn.

    Only who may accept adoption for every branch it touched may undo it (``may_undo``;
    ``AccessDenied`` otherwise). ``UndoError('not_accepted')`` when it is no longer in the
    workspace, ``UndoError('superseded')`` when a later acceptance moved one of its clients again.
    With ``audit`` one record (action ``undo``; the clients; the acceptance and each client's RM
    before and after) is written inside the transaction: when it cannot be written nothing changes
    (``AuditUnavailable``)."""
    if not isinstance(scope, Scope) or not may(scope, "accept_adoption"):
        raise AccessDenied("assign_manager_only")
    key = [acceptance.accepted_at, acceptance.accepted_by]
    with ws.transaction() as cur:
        rows = cur.execute(
            """SELECT client_id, rm_id, previous_rm_id, branch_id FROM rm_assignments
               WHERE accepted_at = ? AND accepted_by = ? ORDER BY rowid""",
            key,
        ).fetchall()
        if not rows:
            raise UndoError("not_accepted")
        if not all(scope.owns(r[3], None) for r in rows):
            raise AccessDenied("assign_outside_scope")
        clients = [r[0] for r in rows]
        later = cur.execute(
            """SELECT COUNT(*) FROM rm_assignments
               WHERE client_id IN (SELECT UNNEST(?::VARCHAR[])) AND accepted_at > ?""",
            [clients, acceptance.accepted_at],
        ).fetchone()[0]
        if later:
            raise UndoError("superseded")
        cur.execute("DELETE FROM rm_assignments WHERE accepted_at = ? AND accepted_by = ?", key)
        if audit is not None:
            moves = ", ".join(f"{c} {rm}->{prev or '-'}" for c, rm, prev, _ in rows)
            _record(audit, AuditEvent(
                _viewer(scope), "undo", tuple(dict.fromkeys(clients)),
                f"assign: withdrew {len(rows)} rm_assignments accepted by "
                f"{acceptance.accepted_by} at {acceptance.accepted_at.isoformat()} "
                f"(client RM->back to): {moves}",
                role=scope.role, branch_ids=tuple(sorted({r[3] for r in rows})),
            ))  # fmt: skip
    return len(rows)


def assigned_rm(ws: Database | None, client_id: str) -> str | None:
    """The RM of one client's latest accepted assignment in the workspace, or None if there is
    none (the warehouse's clients.rm_id stands). The client view shows it from the moment the
    branch manager accepts, before the bank's CRM exports the change."""
    if ws is None:
        return None
    return ws.scalar(
        "SELECT rm_id FROM rm_assignments WHERE client_id = ? ORDER BY accepted_at DESC LIMIT 1",
        [client_id],
    )
