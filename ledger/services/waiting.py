"""What waits for a finance officer: the lists and counts their home page starts from.

What is due (``services/requirements.requirements_for``) is listed with the rest: the officers'
own items due or overdue, and the organisations' overdue ones they follow up.

Each list asks ``actions.available_actions`` whether the person may act on the thing, so the
home page offers exactly what the thing's own page offers (a disbursement the officer prepared is
not "waiting for them" to approve: another officer approves it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ledger.extensions import db
from ledger.models.disbursement import Disbursement, DisbursementStatus, Tranche
from ledger.models.fund import BudgetRevision, Fund, FundStatus, RevisionStatus
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.actions import Action, available_actions
from ledger.services.requirements import PersonsRequirements, requirements_for

# How far ahead a tranche counts as due; and how many of each kind the home page lists.
DUE_WITHIN = timedelta(days=14)
LISTED = 20
# A tranche with a disbursement in one of these is being paid or paid: it no longer waits.
_TAKEN = (DisbursementStatus.PREPARED.value, DisbursementStatus.APPROVED.value, DisbursementStatus.PAID.value)


@dataclass(frozen=True)
class DueTranche:
    tranche: Tranche
    fund: Fund
    overdue: bool


@dataclass(frozen=True)
class Waiting:
    """A disbursement or a budget revision that waits, with its fund (for its title)."""

    thing: Disbursement | BudgetRevision
    fund: Fund


@dataclass(frozen=True)
class OfficerWork:
    to_approve: list[Waiting]
    to_pay: list[Waiting]
    revisions: list[Waiting]
    tranches_due: list[DueTranche]
    requirements: PersonsRequirements

    @property
    def total(self) -> int:
        return (
            len(self.to_approve)
            + len(self.to_pay)
            + len(self.revisions)
            + len(self.tranches_due)
            + self.requirements.overdue
            + self.requirements.due
        )


def officer_work(actor: Actor, today: date) -> OfficerWork:
    """Disbursements to approve and to pay, budget revisions to decide, tranches due or overdue,
    and what is due (requirements) on ``today``."""
    authorize(actor, Permission.MANAGE_DISBURSEMENTS)
    visible = visible_organisation_ids(actor)
    # Each with its fund in the same query: the rules below read the fund from the session.
    pending = (
        select(Disbursement, Fund)
        .join(Fund, Fund.id == Disbursement.fund_id)
        .where(
            Disbursement.status.in_((DisbursementStatus.PREPARED.value, DisbursementStatus.APPROVED.value))
        )
    )
    proposed = (
        select(BudgetRevision, Fund)
        .join(Fund, Fund.id == BudgetRevision.fund_id)
        .where(BudgetRevision.status == RevisionStatus.PROPOSED.value)
    )
    if visible is not None:
        pending = pending.where(Disbursement.organisation_id.in_(visible))
        proposed = proposed.where(Fund.organisation_id.in_(visible))
    disbursements = [
        (Waiting(d, f), available_actions(actor, d))
        for d, f in db.session.execute(pending.order_by(Disbursement.prepared_at, Disbursement.id))
    ]
    revisions = [
        Waiting(r, f)
        for r, f in db.session.execute(proposed.order_by(BudgetRevision.proposed_at, BudgetRevision.id))
        if Action.APPROVE in available_actions(actor, r)
    ]
    return OfficerWork(
        to_approve=[w for w, offered in disbursements if Action.APPROVE in offered][:LISTED],
        to_pay=[w for w, offered in disbursements if Action.PAY in offered][:LISTED],
        revisions=revisions[:LISTED],
        tranches_due=tranches_due(visible, today)[:LISTED],
        requirements=requirements_for(actor, today, LISTED),
    )


def tranches_due(visible: frozenset[uuid.UUID] | None, today: date) -> list[DueTranche]:
    """Tranches of active funds due by ``today + DUE_WITHIN`` that nothing is paying yet."""
    taken = select(Disbursement.tranche_id).where(
        Disbursement.tranche_id.is_not(None), Disbursement.status.in_(_TAKEN)
    )
    statement = (
        select(Tranche, Fund)
        .join(Fund, Fund.id == Tranche.fund_id)
        .where(
            Fund.status == FundStatus.ACTIVE.value,
            Tranche.due_date <= today + DUE_WITHIN,
            Tranche.id.not_in(taken),
        )
        .order_by(Tranche.due_date, Fund.reference, Tranche.number)
    )
    if visible is not None:
        statement = statement.where(Fund.organisation_id.in_(visible))
    return [DueTranche(t, f, t.due_date < today) for t, f in db.session.execute(statement)]
