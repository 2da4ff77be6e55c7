"""Which part of the administrative tree an audit entry is about: the one place that says so.

A reader whose role is held at a node (not the whole deployment) reads the entries about their
subtree only (``services/audit_log.read_entry_page``). An entry is about what its row images
(``ledger.replay``, ``rows_of``) and its subject touch:

- organisations: a row with an ``organisation_id`` field, an ``organisation`` row itself, and
  the subject when it is an organisation;
- communities: a ``community`` row (by its id and by its code), an organisation row's
  ``community_id``, and the subject when it is a community;
- people: an ``app_user`` row, a row's ``user_id`` (memberships, scopes, tokens), a
  ``staff_scope`` row's node, and the subject when it is a user;
- the subject when it is a fund, report, disbursement or budget revision (entries recorded
  before rows were carried name no rows): its organisation, looked up.

Checkpoints, keys and proofs stay global; so do entries about nothing in the tree (a reference
list loaded, a signing key rotated): those are the whole deployment's and a scoped reader does
not see them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ledger.extensions import db
from ledger.models.audit import AuditEntry
from ledger.models.community import Community
from ledger.models.disbursement import Disbursement
from ledger.models.expense_report import ExpenseReport
from ledger.models.fund import BudgetRevision, Fund
from ledger.models.user import Membership, StaffScope
from ledger.replay.compare import rows_of
from ledger.services.access import Actor
from ledger.services.tree import within

# Subjects that belong to an organisation through the row that holds them.
_OWNED_SUBJECTS: dict[str, Any] = {
    "fund": Fund,
    "expense_report": ExpenseReport,
    "disbursement": Disbursement,
    "budget_revision": BudgetRevision,
}


@dataclass(frozen=True)
class EntryReach:
    """What an entry touches, as strings as the trail spells them."""

    organisation_ids: frozenset[str] = frozenset()
    community_ids: frozenset[str] = frozenset()
    community_codes: frozenset[str] = frozenset()
    user_ids: frozenset[str] = frozenset()
    nodes: frozenset[str] = frozenset()
    owned_subject: tuple[str, str] | None = None


def entry_reach(entry: Mapping[str, Any]) -> EntryReach:
    """What the decoded entry ``entry`` (its canonical JSON) touches: read from it alone."""
    organisations: set[str] = set()
    communities: set[str] = set()
    codes: set[str] = set()
    users: set[str] = set()
    nodes: set[str] = set()
    for row in rows_of(entry):
        table, key, image = row.get("table"), row.get("key") or [], row.get("row")
        row_id = str(key[0]) if isinstance(key, list) and len(key) == 1 else None
        image = image if isinstance(image, Mapping) else {}
        if image.get("organisation_id"):
            organisations.add(str(image["organisation_id"]))
        if table == "organisation" and row_id:
            organisations.add(row_id)
        if image.get("community_id"):
            communities.add(str(image["community_id"]))
        if table == "community":
            if row_id:
                communities.add(row_id)
            if image.get("code"):
                codes.add(str(image["code"]))
        if table == "app_user" and row_id:
            users.add(row_id)
        if image.get("user_id"):
            users.add(str(image["user_id"]))
        if table == "staff_scope" and image.get("division_code"):
            nodes.add(str(image["division_code"]))
    subject = entry.get("subject")
    subject_type, subject_id = (
        (str(subject.get("type")), str(subject.get("id"))) if isinstance(subject, Mapping) else ("", "")
    )
    owned = None
    if subject_type == "organisation":
        organisations.add(subject_id)
    elif subject_type == "community":
        communities.add(subject_id)
    elif subject_type == "user":
        users.add(subject_id)
    elif subject_type in _OWNED_SUBJECTS:
        owned = (subject_type, subject_id)
    return EntryReach(
        frozenset(organisations),
        frozenset(communities),
        frozenset(codes),
        frozenset(users),
        frozenset(nodes),
        owned,
    )


@dataclass
class AuditArea:
    """The part of the tree a scoped reader reads the trail of, looked up once per request."""

    actor: Actor
    organisation_ids: frozenset[str]
    community_ids: frozenset[str]
    user_ids: frozenset[str]
    _owners: dict[tuple[str, str], str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, actor: Actor) -> AuditArea:
        communities = db.session.scalars(select(Community.id).where(within(Community.code, actor.scopes)))
        working_here = db.session.scalars(
            select(StaffScope.user_id).where(within(StaffScope.division_code, actor.scopes))
        )
        belonging_here = db.session.scalars(
            select(Membership.user_id).where(Membership.organisation_id.in_(actor.organisation_ids))
        )
        return cls(
            actor,
            frozenset(str(i) for i in actor.organisation_ids),
            frozenset(str(i) for i in communities),
            frozenset(str(i) for i in [*working_here, *belonging_here]),
        )

    def covers(self, reach: EntryReach) -> bool:
        if reach.organisation_ids & self.organisation_ids or reach.community_ids & self.community_ids:
            return True
        if reach.user_ids & self.user_ids:
            return True
        if any(self.actor.covers(code) for code in reach.community_codes | reach.nodes):
            return True
        if reach.owned_subject is not None:
            owner = self._owner(*reach.owned_subject)
            return owner is not None and owner in self.organisation_ids
        return False

    def _owner(self, subject_type: str, subject_id: str) -> str | None:
        """The organisation a fund, report, disbursement or budget revision belongs to."""
        if (subject_type, subject_id) not in self._owners:
            self._owners[subject_type, subject_id] = _owner_of(subject_type, subject_id)
        return self._owners[subject_type, subject_id]

    def holds(self, entry: AuditEntry) -> bool:
        return self.covers(entry_reach(json.loads(bytes(entry.canonical))))


def _owner_of(subject_type: str, subject_id: str) -> str | None:
    try:
        key = uuid.UUID(subject_id)
    except ValueError:
        return None
    if subject_type == "budget_revision":
        revision = db.session.get(BudgetRevision, key)
        fund = db.session.get(Fund, revision.fund_id) if revision is not None else None
        return str(fund.organisation_id) if fund is not None else None
    thing = db.session.get(_OWNED_SUBJECTS[subject_type], key)
    return str(thing.organisation_id) if thing is not None else None
