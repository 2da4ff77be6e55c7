"""From an audit entry to the people who now have to act on it (or should know of it).

Each action that makes something wait for someone has a rule here. Recipients are found with the
rules the pages use: an officer is told of a report to review only if ``decision_refusal`` would
let them decide it now, of a disbursement to approve only if ``approval_refusal`` lets them
(never the one who prepared it), and so on; an organisation's members only of their own
organisation. The rules read the thing as it is *now*, so a thing already dealt with by the time
the notifier reads its entry tells no one that it waits. Nobody is told of what they did themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import select

from ledger.extensions import db
from ledger.models.audit import AuditEntry
from ledger.models.disbursement import Disbursement, DisbursementStatus
from ledger.models.expense_report import ExpenseReport, ReportStatus
from ledger.models.fund import BudgetRevision, Fund, RevisionStatus
from ledger.models.organisation import Organisation
from ledger.models.user import Membership, Role, User
from ledger.money import Money
from ledger.services import budget_revisions, disbursements, expense_decisions
from ledger.services.access import Actor, Permission, may
from ledger.statements.render import money as with_separators

# The audit actions that notify someone; webhooks subscribe to these names.
WEBHOOK_EVENTS = (
    "expense_report.submitted",
    "expense_report.approved",
    "expense_report.returned",
    "expense_report.rejected",
    "disbursement.prepared",
    "disbursement.approved",
    "disbursement.paid",
    "budget_revision.proposed",
    "budget_revision.approved",
    "budget_revision.rejected",
)


@dataclass(frozen=True)
class Notice:
    """One change, and who it is for: what the notifier stores once per recipient."""

    event: str
    subject_type: str
    subject_id: str
    organisation_id: uuid.UUID | None
    params: dict[str, str]
    link: str
    dedup_key: str
    recipients: frozenset[uuid.UUID]
    source_seq: int | None = None


@dataclass
class People:
    """The active people the rules choose from, as actors, read once per pass."""

    _officers: list[Actor] | None = None
    _users: dict[uuid.UUID, User] = field(default_factory=dict)

    def officers(self) -> list[Actor]:
        if self._officers is None:
            found = db.session.scalars(
                select(User).where(User.role == Role.FINANCE_OFFICER.value, User.is_active.is_(True))
            ).all()
            self._officers = [Actor.of(user) for user in found]
        return self._officers

    def user(self, recorded_id: str | None) -> User | None:
        """The active user an audit identity names (``filed_by``, ``proposed_by``), if any."""
        try:
            user_id = uuid.UUID(str(recorded_id))
        except ValueError:
            return None  # the operator at the command line
        if user_id not in self._users:
            found = db.session.get(User, user_id)
            if found is None or not found.is_active:
                return None
            self._users[user_id] = found
        return self._users[user_id]

    def members_of(self, organisation_id: uuid.UUID) -> frozenset[uuid.UUID]:
        return frozenset(
            db.session.scalars(
                select(Membership.user_id)
                .join(User, User.id == Membership.user_id)
                .where(Membership.organisation_id == organisation_id, User.is_active.is_(True))
            )
        )

    def organisation_name(self, organisation_id: uuid.UUID) -> str:
        return _organisation_name(organisation_id)

    def officers_who(
        self, permission: Permission, organisation_id: uuid.UUID, rule: Callable[[Actor], bool]
    ) -> frozenset[uuid.UUID]:
        return frozenset(
            a.user_id
            for a in self.officers()
            if a.user_id is not None and may(a, permission, organisation_id) and rule(a)
        )


def amount_text(currency: str, minor: int) -> str:
    """An amount as the notification shows it in any language: ``CNY 40,000.00``."""
    return f"{currency} {with_separators(str(Money(currency, minor)))}"


def _organisation_name(organisation_id: uuid.UUID) -> str:
    organisation = db.session.get(Organisation, organisation_id)
    return organisation.name if organisation is not None else ""


def _fund(fund_id: uuid.UUID) -> Fund:
    fund = db.session.get(Fund, fund_id)
    assert fund is not None  # a foreign key
    return fund


def _member(people: People, recorded_id: str | None, organisation_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """The person who filed or proposed something, while they still belong to its organisation."""
    user = people.user(recorded_id)
    if user is None or not may(Actor.of(user), Permission.READ_FUNDS, organisation_id):
        return frozenset()
    return frozenset({user.id})


def _report(entry: AuditEntry, people: People) -> Notice | None:
    report = _get(ExpenseReport, entry.subject_id)
    if report is None:
        return None
    fund = _fund(report.fund_id)
    verb = entry.action.partition(".")[2]
    params = {"title": report.title, "organisation": _organisation_name(report.organisation_id)}
    if verb == "submitted":
        # Already decided by the time the entry is read: it waits for no one (webhooks still hear of it).
        waits = report.status == ReportStatus.SUBMITTED.value
        recipients = (
            frozenset()
            if not waits
            else people.officers_who(
                Permission.REVIEW_EXPENSE_REPORTS,
                report.organisation_id,
                lambda a: expense_decisions.decision_refusal(a, report, fund, "return") is None,
            )
        )
    else:
        recipients = _member(people, report.filed_by, report.organisation_id)
    return Notice(
        f"report_{verb}",
        "expense_report",
        str(report.id),
        report.organisation_id,
        params,
        f"/reports/{report.id}",
        f"seq:{entry.seq}",
        recipients,
        entry.seq,
    )


def _disbursement(entry: AuditEntry, people: People) -> Notice | None:
    disbursement = _get(Disbursement, entry.subject_id)
    if disbursement is None:
        return None
    fund = _fund(disbursement.fund_id)
    organisation = disbursement.organisation_id
    verb = entry.action.partition(".")[2]
    recipients: frozenset[uuid.UUID]
    if verb == "prepared":
        event = "disbursement_to_approve"
        recipients = people.officers_who(
            Permission.MANAGE_DISBURSEMENTS,
            organisation,
            lambda a: disbursements.approval_refusal(a, disbursement, fund) is None,
        )
    elif verb == "approved":
        event = "disbursement_to_pay"
        waits = disbursement.status == DisbursementStatus.APPROVED.value
        recipients = (
            frozenset()
            if not waits
            else people.officers_who(
                Permission.MANAGE_DISBURSEMENTS,
                organisation,
                lambda _a: disbursements.payment_refusal(disbursement) is None,
            )
        )
    else:
        event, recipients = "disbursement_paid", people.members_of(organisation)
    params = {
        "amount": amount_text(disbursement.currency, disbursement.amount_minor),
        "organisation": _organisation_name(organisation),
        "fund": fund.reference,
    }
    return Notice(
        event,
        "disbursement",
        str(disbursement.id),
        organisation,
        params,
        f"/funds/{fund.id}",
        f"seq:{entry.seq}",
        recipients,
        entry.seq,
    )


def _revision(entry: AuditEntry, people: People) -> Notice | None:
    revision = _get(BudgetRevision, entry.subject_id)
    if revision is None:
        return None
    fund = _fund(revision.fund_id)
    verb = entry.action.partition(".")[2]
    if verb == "proposed":
        event = "revision_to_decide"
        waits = revision.status == RevisionStatus.PROPOSED.value
        recipients = (
            frozenset()
            if not waits
            else people.officers_who(
                Permission.DECIDE_BUDGET_REVISIONS,
                fund.organisation_id,
                lambda a: (
                    budget_revisions.revision_decision_refusal(a, revision, fund, approve=False) is None
                ),
            )
        )
    else:
        event, recipients = f"revision_{verb}", _member(people, revision.proposed_by, fund.organisation_id)
        if not recipients:  # proposed by an officer: tell them as staff, if they still reach it
            user = people.user(revision.proposed_by)
            if user is not None and may(Actor.of(user), Permission.READ_FUNDS, fund.organisation_id):
                recipients = frozenset({user.id})
    return Notice(
        event,
        "budget_revision",
        str(revision.id),
        fund.organisation_id,
        {"fund": fund.reference},
        f"/funds/{fund.id}",
        f"seq:{entry.seq}",
        recipients,
        entry.seq,
    )


T = TypeVar("T")


def _get(model: type[T], subject_id: str) -> T | None:
    try:
        key = uuid.UUID(subject_id)
    except ValueError:
        return None
    found: Any = db.session.get(model, key)
    return found  # type: ignore[no-any-return]


RULES: dict[str, Callable[[AuditEntry, People], Notice | None]] = {
    **{action: _report for action in WEBHOOK_EVENTS if action.startswith("expense_report.")},
    **{action: _disbursement for action in WEBHOOK_EVENTS if action.startswith("disbursement.")},
    **{action: _revision for action in WEBHOOK_EVENTS if action.startswith("budget_revision.")},
}


def notices_for(entries: Iterable[AuditEntry], people: People) -> list[Notice]:
    """The notices the entries give, each without the person who made the change."""
    found = []
    for entry in entries:
        rule = RULES.get(entry.action)
        notice = rule(entry, people) if rule is not None else None
        if notice is None:
            continue
        recipients = frozenset(r for r in notice.recipients if str(r) != entry.actor_id)
        found.append(replace(notice, recipients=recipients))
    return found
