"""Who may do what: the one authorization check every endpoint goes through.

An ``Actor`` is the person (or the operator at the command line) on whose behalf a service
runs. ``may`` answers whether a permission is the actor's, by their role and by the
organisation the action touches; ``authorize`` raises when it is not. An organisation member
reaches the organisations they belong to; staff reach the organisations of the subtrees of the
administrative tree their role is held at (``scopes``), or every organisation when it is held at
the top. ``may_at`` asks the same of a node of the tree (a community created, a scope granted, a
fund's funding body).
Services call ``authorize`` first, so the API, the web pages and the CLI obey the same rules, and
the pages ask ``may`` (through ``services/actions.py``) which buttons to show. Separation of
duties (the one who prepares does not approve) is checked by the services that own those
actions, with ``require_different_person`` (``is_different_person`` asks without raising).

What a scoped staff member reaches is decided here once: ``may``/``authorize`` refuse a thing of
an organisation outside their subtrees (403 ``access.outside_scope``, as an organisation member is
refused another organisation's thing), ``visible_organisation_ids`` is what every list and every
aggregate over organisations (open data, a lottery disclosure, closing a year for all) filters by.
Separation of duties holds inside the area: a second finance officer must reach the organisation
too, so one at another street cannot approve.

The supervisor (civil-affairs staff at a node) reads and never writes, deliberately per permission:

- reads: communities, organisations, users, reference data, funds (with budgets, revisions,
  disbursements, reports and receipts), the books, statement and disclosure figures
  (``READ_STATEMENTS``, ``READ_DISCLOSURES``), and the audit trail's entries about their area
  (``READ_AUDIT_TRAIL``; checkpoints, keys and proofs are global, they reveal no one's business);
- does not: anything that records an audit entry, which includes issuing a statement or a
  disclosure (``ISSUE_*``: issuing is recorded), and attesting the trail (``ATTEST_AUDIT_TRAIL``:
  an attestation speaks for the whole trail). The audit export (every entry) is for readers who
  reach everything (``services/audit_export.py``).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from ledger.errors import Forbidden
from ledger.messages import translatable
from ledger.models.region import is_within
from ledger.models.user import Role, User
from ledger.services.tree import organisation_ids_within


class Permission(enum.StrEnum):
    READ_COMMUNITIES = "read communities"
    MANAGE_COMMUNITIES = "manage communities"
    READ_ORGANISATIONS = "read organisations"
    MANAGE_ORGANISATIONS = "manage organisations"
    READ_USERS = "read users"
    MANAGE_USERS = "manage users"
    READ_REFERENCE_DATA = "read reference data"
    LOAD_REFERENCE_DATA = "load a new version of reference data"
    READ_AUDIT_TRAIL = "read the audit trail"
    READ_BOOKS = "read the books"
    POST_ADJUSTMENTS = "post or reverse journal entries"
    CLOSE_PERIODS = "close or reopen accounting periods"
    FORCE_PERIOD_CLOSE = "close a month while an earlier one is open, with a reason"
    READ_FUNDS = "read funds"
    MANAGE_FUNDS = "create funds and change their terms or status"
    PROPOSE_BUDGET_REVISIONS = "propose budget revisions"
    DECIDE_BUDGET_REVISIONS = "approve or reject budget revisions"
    MANAGE_DISBURSEMENTS = "prepare, approve, pay or cancel disbursements"
    FILE_EXPENSE_REPORTS = "file expense reports and upload receipts"
    REVIEW_EXPENSE_REPORTS = "approve, return or reject expense reports"
    READ_STATEMENTS = "read the figures of fund-use and organisation statements"
    ISSUE_STATEMENTS = "issue fund-use and organisation statements"
    READ_DISCLOSURES = "read the figures of a funder's lottery-fund disclosure"
    ISSUE_DISCLOSURES = "issue a funder's lottery-fund disclosure"
    ATTEST_AUDIT_TRAIL = "issue an audit attestation"
    MANAGE_SIGNING_KEYS = "rotate the audit trail's signing key"
    MANAGE_REQUIREMENTS = "add, change or withdraw what is due for a fund or an organisation"
    MARK_REQUIREMENTS_DONE = "mark something that was due as done, with a note"
    MANAGE_WEBHOOKS = "register webhooks and read their delivery log"


_EVERYONE: Final = frozenset(Role)
# Supervisors (civil-affairs staff) read what their area does; they change nothing.
_READERS: Final = frozenset({Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR})

POLICY: Final[dict[Permission, frozenset[Role]]] = {
    Permission.READ_COMMUNITIES: _EVERYONE,
    Permission.MANAGE_COMMUNITIES: frozenset({Role.ADMIN}),
    Permission.READ_ORGANISATIONS: _EVERYONE,
    Permission.MANAGE_ORGANISATIONS: frozenset({Role.ADMIN}),
    Permission.READ_USERS: _READERS,
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    Permission.READ_REFERENCE_DATA: _EVERYONE,
    Permission.LOAD_REFERENCE_DATA: frozenset({Role.ADMIN}),
    Permission.READ_AUDIT_TRAIL: _READERS,
    Permission.READ_BOOKS: frozenset({Role.FINANCE_OFFICER, Role.AUDITOR, Role.SUPERVISOR, Role.ORG_MEMBER}),
    Permission.POST_ADJUSTMENTS: frozenset({Role.FINANCE_OFFICER}),
    Permission.CLOSE_PERIODS: frozenset({Role.FINANCE_OFFICER}),
    # The one period action an admin takes: closing months out of order, with a recorded reason.
    Permission.FORCE_PERIOD_CLOSE: frozenset({Role.ADMIN}),
    Permission.READ_FUNDS: _EVERYONE,
    Permission.MANAGE_FUNDS: frozenset({Role.ADMIN}),
    Permission.PROPOSE_BUDGET_REVISIONS: frozenset({Role.ORG_MEMBER, Role.FINANCE_OFFICER}),
    Permission.DECIDE_BUDGET_REVISIONS: frozenset({Role.FINANCE_OFFICER}),
    Permission.MANAGE_DISBURSEMENTS: frozenset({Role.FINANCE_OFFICER}),
    Permission.FILE_EXPENSE_REPORTS: frozenset({Role.ORG_MEMBER}),
    Permission.REVIEW_EXPENSE_REPORTS: frozenset({Role.FINANCE_OFFICER}),
    Permission.READ_STATEMENTS: _EVERYONE,
    Permission.ISSUE_STATEMENTS: frozenset({Role.FINANCE_OFFICER, Role.AUDITOR, Role.ORG_MEMBER, Role.ADMIN}),
    # A disclosure covers many organisations' grants: not for one organisation's members.
    Permission.READ_DISCLOSURES: frozenset({Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADMIN, Role.SUPERVISOR}),
    Permission.ISSUE_DISCLOSURES: frozenset({Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADMIN}),
    Permission.ATTEST_AUDIT_TRAIL: frozenset({Role.AUDITOR, Role.ADMIN}),
    Permission.MANAGE_SIGNING_KEYS: frozenset({Role.ADMIN}),
    # Officers of the area keep the list of what is due; a member marks done only what their
    # organisation files outside the system (its annual report), which the service checks.
    Permission.MANAGE_REQUIREMENTS: frozenset({Role.FINANCE_OFFICER}),
    Permission.MARK_REQUIREMENTS_DONE: frozenset({Role.FINANCE_OFFICER, Role.ORG_MEMBER}),
    # A webhook hears of every organisation's events: only an admin of the whole deployment
    # (``webhooks.py`` refuses a scoped one).
    Permission.MANAGE_WEBHOOKS: frozenset({Role.ADMIN}),
}


@dataclass(frozen=True)
class Actor:
    """On whose behalf a service runs.

    ``organisation_ids`` are the organisations the actor reaches when that is not all of them:
    an organisation member's own, or those in a scoped staff member's subtrees. ``scopes`` are the
    nodes a staff role is held at (None: the whole deployment); an organisation member has none.
    """

    user_id: uuid.UUID | None
    username: str
    role: Role
    organisation_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    scopes: tuple[str | None, ...] = (None,)

    @classmethod
    def of(cls, user: User) -> Actor:
        role = Role(user.role)
        if role is Role.ORG_MEMBER:
            return cls(user.id, user.username, role, user.organisation_ids, scopes=())
        scopes = user.scope_codes
        reached = frozenset() if None in scopes else organisation_ids_within(scopes)
        return cls(user.id, user.username, role, reached, scopes=scopes)

    @classmethod
    def operator(cls) -> Actor:
        """The person at the server's command line (``ledger ...``): acts as an admin of everything."""
        return cls(None, "operator", Role.ADMIN)

    @classmethod
    def publisher(cls) -> Actor:
        """The background worker publishing open data after a change (``LEDGER_PUBLISH_OCDS=auto``)."""
        return cls(None, "publisher", Role.ADMIN)

    @property
    def reaches_everything(self) -> bool:
        """Staff whose role is held at the top of the tree: no organisation is outside their reach."""
        return self.role is not Role.ORG_MEMBER and None in self.scopes

    @property
    def is_organisation_scoped(self) -> bool:
        return not self.reaches_everything

    def covers(self, division_code: str | None) -> bool:
        """Whether the node ``division_code`` (None: the whole deployment) is in the actor's subtrees."""
        if self.reaches_everything:
            return True
        if division_code is None:
            return False
        return any(scope is not None and is_within(division_code, scope) for scope in self.scopes)

    @property
    def audit_identity(self) -> dict[str, str]:
        return {"id": str(self.user_id) if self.user_id else "operator", "role": self.role.value}


def may(actor: Actor, permission: Permission, organisation_id: uuid.UUID | None = None) -> bool:
    """Whether ``actor`` may do ``permission`` (on ``organisation_id``): ``authorize`` without raising."""
    if actor.role not in POLICY[permission]:
        return False
    return not (
        organisation_id is not None
        and actor.is_organisation_scoped
        and organisation_id not in actor.organisation_ids
    )


def may_at(actor: Actor, permission: Permission, division_code: str | None) -> bool:
    """Whether ``actor`` may do ``permission`` at the node ``division_code`` of the tree (None: the top)."""
    return (
        actor.role in POLICY[permission] and actor.role is not Role.ORG_MEMBER and actor.covers(division_code)
    )


def _role_refusal(actor: Actor, permission: Permission) -> Forbidden:
    return Forbidden(
        translatable(
            "The %(role)s role may not %(permission)s.",
            role=actor.role.value,
            permission=permission.value,
        ),
        code="access.role_not_permitted",
    )


def _outside_refusal(actor: Actor) -> Forbidden:
    if actor.role is Role.ORG_MEMBER:
        return Forbidden(
            translatable("You are not a member of that organisation."), code="access.not_a_member"
        )
    return Forbidden(translatable("That is outside the area you work in."), code="access.outside_scope")


def authorize(actor: Actor, permission: Permission, organisation_id: uuid.UUID | None = None) -> None:
    """Raise ``Forbidden`` unless ``actor`` may do ``permission`` (on ``organisation_id``)."""
    if may(actor, permission, organisation_id):
        return
    if actor.role not in POLICY[permission]:
        raise _role_refusal(actor, permission)
    raise _outside_refusal(actor)


def authorize_at(actor: Actor, permission: Permission, division_code: str | None) -> None:
    """Raise ``Forbidden`` unless ``actor`` may do ``permission`` at the node ``division_code``."""
    if may_at(actor, permission, division_code):
        return
    if actor.role not in POLICY[permission]:
        raise _role_refusal(actor, permission)
    raise _outside_refusal(actor)


def visible_organisation_ids(actor: Actor) -> frozenset[uuid.UUID] | None:
    """The organisations ``actor`` may see, or None when the role sees all of them."""
    return actor.organisation_ids if actor.is_organisation_scoped else None


def is_different_person(actor: Actor, recorded: Iterable[str | None]) -> bool:
    """Separation of duties, asked: whether ``actor`` is none of the people ``recorded`` on a thing.

    ``recorded`` are the identities stored on the thing (``Actor.audit_identity["id"]``). The
    operator at the command line is nobody's second person and never refused.
    """
    return actor.user_id is None or actor.audit_identity["id"] not in set(recorded)


def different_person_refusal(actor: Actor, recorded: Iterable[str | None], action: str) -> Forbidden | None:
    """Why ``actor`` may not ``action`` a thing they filed or prepared, or None when they may."""
    if is_different_person(actor, recorded):
        return None
    return Forbidden(
        translatable("You may not %(action)s something you filed or prepared yourself.", action=action),
        code="access.self_approval",
    )


def require_different_person(actor: Actor, recorded: Iterable[str | None], action: str) -> None:
    """Separation of duties: the one who filed or prepared something never approves it."""
    if (refusal := different_person_refusal(actor, recorded, action)) is not None:
        raise refusal
