"""Who sees what (DESIGN.md §5): the viewer's ``Scope`` and its SQL filter.

Roles: head office (all branches), branch manager (own branch), RM (own client book), trainer (the
demo snapshot only). Every analytics function takes a ``Scope`` and applies ``scope.where()`` in its
SQL, so a viewer's rows are filtered by the database, not by the page.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("head_office", "manager", "rm", "trainer")
EVERYONE = ROLES

# Who may do what: the one table. Whether a role may do something is always asked here,
# ``may(scope, action)`` (pages: ``ui/shell.py`` reads ``PageSpec.roles`` from the ``page:<id>``
# rows). A row says which roles may; what else limits the action (own branch, own client, a
# setting) is said next to it and checked where the action is carried out, by the function named
# there. Which rows a role reads (its branch, its book) is ``Scope.where`` / ``Scope.owns`` below.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    # the views (DESIGN.md §4): a role not listed neither sees the page nor may open its URL
    "page:overview": EVERYONE,
    "page:segmentation": EVERYONE,
    "page:threshold": EVERYONE,
    "page:seniors": EVERYONE,
    "page:high_end": EVERYONE,
    "page:allocation": EVERYONE,
    "page:client": EVERYONE,
    "page:contact_plan": EVERYONE,
    "page:invitations": EVERYONE,
    "page:corporate": EVERYONE,
    "page:data": ("head_office", "manager", "trainer"),
    "page:users": ("head_office", "manager"),
    "page:glossary": EVERYONE,
    "page:settings": EVERYONE,
    # data: a manager's import or rollback is limited to their own branch (analytics.importer)
    "import": ("head_office", "manager"),
    "check_import": ("head_office", "manager", "trainer"),  # a check changes nothing
    "rollback": ("head_office", "manager"),
    # a bank's imported snapshot: a trainer sees the demo only (check_trainer_snapshot)
    "see_bank_data": ("head_office", "manager", "rm"),
    # the audit log: head office all of it, a manager their branch's records (analytics.audit)
    "read_audit": ("head_office", "manager"),
    # accounts: a manager only the RMs of their own branch (analytics.users)
    "manage_users": ("head_office", "manager"),
    # personal data in clear: the client's own RM, when [privacy] owner_may_unmask
    # (analytics.client360.may_unmask)
    "unmask": ("rm",),
    # a contact (plan, invitation or client view) with one of the RM's own clients
    # (analytics.contact_log.log_contact)
    "log_contact": ("rm",),
    # the RM's own day or week plan (analytics.contact_plan.accept_plan)
    "accept_plan": ("rm",),
    # RM adoption of high-end clients, within the viewer's branches (analytics.adoption)
    "accept_adoption": ("head_office", "manager"),
    # credit-scorecard grade adjustments (rule overrides, a hand-set grade with its reason), for
    # the viewer's corporate clients (analytics.scorecard)
    "set_grade": ("head_office", "manager", "trainer"),
}


# What changes the bank's data needs a logged-in person: in demo mode anybody is anybody (the URL
# says who), so an import there would put data no login protects behind a role switcher.
NOT_IN_DEMO = ("import", "rollback", "manage_users")


def roles_for(action: str) -> tuple[str, ...]:
    """The roles the table lets do ``action`` (a key of ``PERMISSIONS``; KeyError otherwise, so
    a page or an action missing from the table is noticed, not silently refused)."""
    return PERMISSIONS[action]


def may(scope: Scope | None, action: str) -> bool:
    """Whether the viewer may perform ``action`` (a key of ``PERMISSIONS``; an unknown action is
    refused): by role, and never an import, a rollback or an account change by a demo-mode
    viewer (``demo:`` ids; the CLI is an administrator). No scope: nobody."""
    if scope is None:
        return False
    if action in NOT_IN_DEMO and scope.viewer_id.startswith("demo:"):
        return False
    return scope.role in PERMISSIONS.get(action, ())


class AccessDenied(Exception):
    """The viewer may not see what was asked for. The message says nothing about the data."""


@dataclass(frozen=True)
class Scope:
    """What one viewer may see. Hashable, so it can key cached results."""

    role: str
    branch_ids: tuple[str, ...] = ()
    rm_id: str | None = None
    viewer_id: str = ""

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "manager" and not self.branch_ids:
            raise ValueError("a branch manager's scope needs a branch")
        if self.role == "rm" and not self.rm_id:
            raise ValueError("an RM's scope needs an rm_id")

    def where(self, alias: str = "c") -> tuple[str, list]:
        """SQL condition and parameters restricting rows of a table that has ``branch_id`` and
        ``rm_id`` columns (clients, client_aum_monthly, corp_clients) under ``alias``.

        Only ``alias`` (a trusted identifier chosen by the caller) is put into the SQL text; the
        viewer's ids always travel as parameters.
        """
        if not alias.isidentifier():
            raise ValueError("alias must be an identifier")
        if self.role == "rm":
            return f"{alias}.rm_id = ?", [self.rm_id]
        if self.role == "manager":
            marks = ", ".join("?" for _ in self.branch_ids)
            return f"{alias}.branch_id IN ({marks})", list(self.branch_ids)
        return "TRUE", []

    def owns(self, branch_id: str | None, rm_id: str | None) -> bool:
        """Whether a row with this branch and RM is inside the scope (for single-record checks)."""
        if self.role == "rm":
            return rm_id is not None and rm_id == self.rm_id
        if self.role == "manager":
            return branch_id in self.branch_ids
        return True


def parse_as(value: str | None, branches: list[str], rms: dict[str, str]) -> Scope:
    """The demo-mode viewer named by the URL parameter ``as`` (DESIGN.md §4).

    ``head_office``, ``manager`` (the first branch's manager), ``manager:<branch_id>``, ``trainer``
    or ``rm:<rm_id>``; ``rms`` maps each RM id to its branch. Anything unknown falls back to the
    trainer, who is the demo's default viewer. Only ever called in demo mode.
    """
    value = (value or "").strip()
    if value == "head_office":
        return Scope("head_office", tuple(branches), viewer_id="demo:head_office")
    if value == "manager" and branches:
        return Scope("manager", (branches[0],), viewer_id=f"demo:manager:{branches[0]}")
    if value.startswith("manager:") and value.split(":", 1)[1] in branches:
        bid = value.split(":", 1)[1]
        return Scope("manager", (bid,), viewer_id=f"demo:manager:{bid}")
    if value.startswith("rm:") and value.split(":", 1)[1] in rms:
        rid = value.split(":", 1)[1]
        return Scope("rm", (rms[rid],), rm_id=rid, viewer_id=f"demo:rm:{rid}")
    return Scope("trainer", tuple(branches), viewer_id="demo:trainer")


def as_value(scope: Scope) -> str:
    """The ``as`` URL value that names this scope (inverse of ``parse_as``)."""
    if scope.role == "rm":
        return f"rm:{scope.rm_id}"
    if scope.role == "manager":
        return f"manager:{scope.branch_ids[0]}"
    return scope.role


def check_trainer_snapshot(scope: Scope, snapshot_source: str) -> None:
    """A trainer sees the demo snapshot only: refuse a bank's imported data."""
    if snapshot_source != "demo" and not may(scope, "see_bank_data"):
        raise AccessDenied("trainer_demo_only")
