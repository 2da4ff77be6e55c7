"""Budget revisions: moving an active fund's budget between categories.

A reallocation must net to zero. One that moves no more than the threshold
(``REVISION_APPROVAL_SHARE`` of the award), counting every earlier move applied without
approval, applies at once; a larger one waits for a finance officer who did not propose it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select

from ledger.errors import Conflict, LedgerError, NotFound
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.fund import BudgetRevision, Fund, FundStatus, RevisionStatus
from ledger.money import Money
from ledger.services.access import Actor, Permission, authorize, different_person_refusal
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.funds import Problems, budget_of, check_categories, get_fund, write_budget_changes
from ledger.services.idempotency import Created, claim_create, reserve_key
from ledger.services.pagination import Page, PageRequest, fetch_page

REVISION_APPROVAL_SHARE = Decimal("0.10")


def _moved_amount(changes: Mapping[str, int]) -> int:
    return sum(delta for delta in changes.values() if delta > 0)


def _moved_without_approval(fund: Fund) -> int:
    """What earlier revisions of ``fund`` moved without a second person: applied at once.

    The threshold holds for these together, so that a large move cannot be split into small
    ones that each pass alone.
    """
    moved = 0
    for revision in db.session.scalars(
        select(BudgetRevision).where(
            BudgetRevision.fund_id == fund.id,
            BudgetRevision.status == RevisionStatus.APPROVED.value,
            BudgetRevision.decided_by == BudgetRevision.proposed_by,
        )
    ):
        moved += _moved_amount(
            {c["category"]: Money.parse(c["amount"], fund.currency).minor for c in revision.changes}
        )
    return moved


def revision_proposal_refusal(fund: Fund) -> Conflict | None:
    """Why no revision of ``fund``'s budget can be proposed now, or None when one can."""
    if fund.status != FundStatus.ACTIVE.value:
        return Conflict(
            translatable("Only an active fund's budget is revised; this fund is not active."),
            code="fund.not_active",
        )
    return None


def propose_budget_revision(
    actor: Actor, fund_id: uuid.UUID, changes: Mapping[str, Money], reason: str, key: str | None
) -> Created[BudgetRevision]:
    """Propose moving budget between categories; small moves apply at once, large ones wait.

    Idempotent by ``key`` (Idempotency-Key): a retry returns the first revision as it now stands.
    """
    fund = get_fund(actor, fund_id)
    authorize(actor, Permission.PROPOSE_BUDGET_REVISIONS, fund.organisation_id)
    claim = claim_create(
        key, "budget_revision", {"fund_id": fund.id, "changes": dict(changes), "reason": reason}
    )
    reservation = reserve_key(actor.audit_identity["id"], claim, "budget_revision", BudgetRevision)
    if reservation.earlier is not None:
        return Created(reservation.earlier, created=False)
    if (refusal := revision_proposal_refusal(fund)) is not None:
        raise refusal
    problems = Problems()
    if not reason.strip():
        problems.add("reason", translatable("say why the budget changes"))
    if not changes:
        problems.add("changes", translatable("name at least one category to change"))
    increases = {code for code, amount in changes.items() if amount.minor > 0}
    check_categories(fund, increases, problems, "changes")
    current = budget_of(fund)
    for code, amount in changes.items():
        if amount.currency != fund.currency:
            problems.add(f"changes.{code}", translatable("must be in %(currency)s", currency=fund.currency))
        elif amount.minor == 0:
            problems.add(f"changes.{code}", translatable("a change of zero changes nothing"))
        elif (current[code].minor if code in current else 0) + amount.minor < 0:
            problems.add(f"changes.{code}", translatable("would make the line negative"))
    if sum(a.minor for a in changes.values()) != 0:
        problems.add("changes", translatable("a reallocation must net to zero"))
    problems.raise_if_any(translatable("The revision is not valid"))
    deltas = {code: amount.minor for code, amount in changes.items()}
    revision = BudgetRevision(
        id=reservation.id,
        fund_id=fund.id,
        changes=[{"category": code, "amount": str(changes[code])} for code in sorted(changes)],
        reason=reason.strip(),
        proposed_by=actor.audit_identity["id"],
        status=RevisionStatus.PROPOSED.value,
    )
    db.session.add(revision)
    db.session.flush()
    record_state(actor, "budget_revision.proposed", "budget_revision", revision)
    threshold = (Decimal(fund.award_minor) * REVISION_APPROVAL_SHARE).to_integral_value()
    if _moved_without_approval(fund) + _moved_amount(deltas) <= threshold:
        _decide(actor, fund, revision, approve=True, note="within the threshold: no approval needed")
    return Created(revision, created=True)


def _decide(actor: Actor, fund: Fund, revision: BudgetRevision, *, approve: bool, note: str | None) -> None:
    revision.status = (RevisionStatus.APPROVED if approve else RevisionStatus.REJECTED).value
    revision.decided_by = actor.audit_identity["id"]
    revision.decided_at = utcnow()
    revision.decision_note = note
    db.session.flush()
    record_state(actor, f"budget_revision.{revision.status}", "budget_revision", revision)
    if approve:
        deltas = {c["category"]: Money.parse(c["amount"], fund.currency).minor for c in revision.changes}
        write_budget_changes(actor, fund, deltas, "revision", revision)


def revision_decision_refusal(
    actor: Actor, revision: BudgetRevision, fund: Fund, *, approve: bool
) -> LedgerError | None:
    """Why ``actor`` cannot approve (or reject) ``revision`` of ``fund`` now, or None when they can.

    The permission aside: the one who proposed it never decides it, only a proposed revision of
    an active fund is decided, and an approval may not make a budget line negative.
    """
    refusal = different_person_refusal(
        actor, [revision.proposed_by], translatable("approve or reject a budget revision")
    )
    if refusal is not None:
        return refusal
    if revision.status != RevisionStatus.PROPOSED.value:
        return Conflict(
            translatable("This revision has already been decided."), code="budget_revision.decided"
        )
    if fund.status != FundStatus.ACTIVE.value:
        return Conflict(
            translatable("The fund is no longer active; its budget cannot change."), code="fund.not_active"
        )
    if approve:
        current = budget_of(fund)
        for change in revision.changes:
            code, amount = change["category"], Money.parse(change["amount"], fund.currency)
            if (current[code].minor if code in current else 0) + amount.minor < 0:
                return Conflict(
                    translatable(
                        "The budget has changed since: %(category)s would become negative.", category=code
                    ),
                    code="budget_revision.negative",
                )
    return None


def get_budget_revision(actor: Actor, revision_id: uuid.UUID) -> BudgetRevision:
    """A budget revision of a fund ``actor`` may read (a missing one and another's look alike)."""
    revision = db.session.get(BudgetRevision, revision_id)
    if revision is None:
        authorize(actor, Permission.READ_FUNDS)
        raise NotFound.thing("budget revision", revision_id)
    get_fund(actor, revision.fund_id)
    return revision


def decide_budget_revision(
    actor: Actor, revision_id: uuid.UUID, *, approve: bool, note: str | None, expected_version: int | None
) -> BudgetRevision:
    """A finance officer who did not propose it approves or rejects a revision over the threshold."""
    revision = db.session.get(BudgetRevision, revision_id)
    if revision is None:
        authorize(actor, Permission.DECIDE_BUDGET_REVISIONS)
        raise NotFound.thing("budget revision", revision_id)
    fund = get_fund(actor, revision.fund_id)
    authorize(actor, Permission.DECIDE_BUDGET_REVISIONS, fund.organisation_id)
    check_version(revision, expected_version)
    if (refusal := revision_decision_refusal(actor, revision, fund, approve=approve)) is not None:
        raise refusal
    _decide(actor, fund, revision, approve=approve, note=(note or "").strip() or None)
    return revision


def list_budget_revisions(actor: Actor, fund_id: uuid.UUID, request: PageRequest) -> Page[BudgetRevision]:
    fund = get_fund(actor, fund_id)
    statement = (
        select(BudgetRevision)
        .where(BudgetRevision.fund_id == fund.id)
        .order_by(BudgetRevision.proposed_at.desc())
    )
    return fetch_page(statement, request)
