"""Paying funds out: tranche schedules and disbursements, with separation of duties.

One finance officer prepares a disbursement, another approves it, and marking it paid books
it (debit 1002 bank deposits, credit the fund's revenue account, restricted when the fund is).
Creation is idempotent: the same ``Idempotency-Key`` from the same person with the same request
returns the first disbursement, with a different request it is a conflict, also when the
retries arrive at the same moment. The fund row is locked while a disbursement is prepared or
approved, so concurrent ones can never add up to more than the award.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ledger.errors import Conflict, LedgerError, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.books import EntrySource, JournalEntry, Side
from ledger.models.disbursement import (
    Disbursement,
    DisbursementKind,
    DisbursementStatus,
    Tranche,
    TrancheCondition,
)
from ledger.models.fund import Fund, FundStatus
from ledger.money import Money
from ledger.services import books
from ledger.services.access import (
    Actor,
    Permission,
    authorize,
    different_person_refusal,
    visible_organisation_ids,
)
from ledger.services.audit_subjects import record_event, record_state
from ledger.services.funds import get_fund, unspent_cash
from ledger.services.idempotency import IdempotencyClaim, claim_key, require_same_request
from ledger.services.pagination import Page, PageRequest, fetch_page
from ledger.services.restrictions import refund_lines


@dataclass(frozen=True)
class TrancheTerms:
    amount: Money
    due_date: date
    condition: TrancheCondition = TrancheCondition.NONE


def schedule_setting_refusal(fund: Fund) -> Conflict | None:
    """Why ``fund``'s tranche schedule cannot be set now (only a draft's is), or None."""
    if fund.status != FundStatus.DRAFT.value:
        return Conflict(
            translatable("The schedule of an active fund is what was agreed."),
            code="disbursement.schedule_fixed",
        )
    return None


def set_tranches(actor: Actor, fund_id: uuid.UUID, tranches: list[TrancheTerms]) -> list[Tranche]:
    """Set a draft fund's payment schedule (admins); it may not exceed the award."""
    authorize(actor, Permission.MANAGE_FUNDS)
    fund = get_fund(actor, fund_id)
    if (refusal := schedule_setting_refusal(fund)) is not None:
        raise refusal
    errors: dict[str, list[str]] = {}
    for index, tranche in enumerate(tranches):
        if tranche.amount.currency != fund.currency:
            errors[f"tranches.{index}.amount"] = [
                translatable("must be in %(currency)s", currency=fund.currency)
            ]
        elif not tranche.amount.is_positive:
            errors[f"tranches.{index}.amount"] = [translatable("must be more than zero")]
    if sum(t.amount.minor for t in tranches) > fund.award_minor:
        errors.setdefault("tranches", []).append(translatable("the tranches add up to more than the award"))
    if errors:
        raise ValidationFailed(translatable("The schedule is not valid."), errors=errors)
    for previous in db.session.scalars(select(Tranche).where(Tranche.fund_id == fund.id)):
        db.session.delete(previous)
    db.session.flush()
    created = [
        Tranche(
            fund_id=fund.id,
            number=n,
            amount_minor=t.amount.minor,
            due_date=t.due_date,
            condition=t.condition.value,
        )
        for n, t in enumerate(sorted(tranches, key=lambda t: t.due_date), start=1)
    ]
    db.session.add_all(created)
    db.session.flush()
    record_event(
        actor,
        "fund.schedule_set",
        "fund",
        fund.id,
        {
            "tranches": [
                {
                    "number": t.number,
                    "amount": str(Money(fund.currency, t.amount_minor)),
                    "due_date": t.due_date.isoformat(),
                    "condition": t.condition,
                }
                for t in created
            ]
        },
    )
    return created


def list_tranches(actor: Actor, fund_id: uuid.UUID) -> list[Tranche]:
    fund = get_fund(actor, fund_id)
    return list(
        db.session.scalars(select(Tranche).where(Tranche.fund_id == fund.id).order_by(Tranche.number))
    )


@dataclass(frozen=True)
class DisbursementRequest:
    kind: DisbursementKind
    amount: Money
    memo: str
    tranche_id: uuid.UUID | None = None

    def fingerprinted_fields(self) -> dict[str, object]:
        """What makes this request this request, for telling a retry from a different one."""
        return {
            "kind": self.kind.value,
            "amount": str(self.amount),
            "currency": self.amount.currency,
            "memo": self.memo,
            "tranche_id": str(self.tranche_id) if self.tranche_id else None,
        }


@dataclass(frozen=True)
class Prepared:
    disbursement: Disbursement
    created: bool


def _committed_total(fund: Fund, excluding: uuid.UUID | None = None) -> int:
    statement = select(func.coalesce(func.sum(Disbursement.amount_minor), 0)).where(
        Disbursement.fund_id == fund.id, Disbursement.status != DisbursementStatus.CANCELLED.value
    )
    if excluding is not None:
        statement = statement.where(Disbursement.id != excluding)
    return int(db.session.scalar(statement) or 0)


def _lock_fund(fund_id: uuid.UUID) -> Fund:
    # populate_existing: a fund already in the session takes the row as it is once locked.
    fund = db.session.scalar(
        select(Fund).where(Fund.id == fund_id).with_for_update().execution_options(populate_existing=True)
    )
    if fund is None:
        raise NotFound.thing("fund", fund_id)
    return fund


def _existing_for_key(actor: Actor, key: str) -> Disbursement | None:
    return db.session.scalar(
        select(Disbursement).where(
            Disbursement.prepared_by == actor.audit_identity["id"], Disbursement.idempotency_key == key
        )
    )


def _replay(existing: Disbursement, claim: IdempotencyClaim) -> Prepared:
    require_same_request(existing.request_hash, claim, "disbursement")
    return Prepared(existing, created=False)


def prepare_disbursement(
    actor: Actor, fund_id: uuid.UUID, request: DisbursementRequest, key: str | None
) -> Prepared:
    """Prepare a payment to the fund's organisation (a finance officer); idempotent by ``key``."""
    fund = get_fund(actor, fund_id)
    authorize(actor, Permission.MANAGE_DISBURSEMENTS, fund.organisation_id)
    claim = claim_key(key, request.fingerprinted_fields(), "disbursement")
    # The fund's row is locked before the key is looked up: a retry racing the first request
    # waits for it to commit, then finds what it made and answers as it did, in one look.
    fund = _lock_fund(fund_id)
    existing = _existing_for_key(actor, claim.key)
    if existing is not None:
        return _replay(existing, claim)
    _check_request(fund, request)
    disbursement = Disbursement(
        fund_id=fund.id,
        organisation_id=fund.organisation_id,
        kind=request.kind.value,
        tranche_id=request.tranche_id,
        amount_minor=request.amount.minor,
        currency=request.amount.currency,
        memo=request.memo.strip(),
        prepared_by=actor.audit_identity["id"],
        status=DisbursementStatus.PREPARED.value,
        idempotency_key=claim.key,
        request_hash=claim.fingerprint,
    )
    db.session.add(disbursement)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # The same key arrived twice at once and the other request won the unique index.
        existing = _existing_for_key(actor, claim.key)
        if existing is None:
            raise
        return _replay(existing, claim)
    record_state(actor, "disbursement.prepared", "disbursement", disbursement)
    return Prepared(disbursement, created=True)


def _paying_refusal(fund: Fund) -> Conflict | None:
    if fund.status != FundStatus.ACTIVE.value:
        return Conflict(
            translatable(
                "Nothing is paid from a fund that is not active (it is %(status)s).", status=fund.status
            ),
            code="disbursement.fund_not_active",
        )
    return None


def preparation_refusal(fund: Fund, committed: int | None = None) -> Conflict | None:
    """Why nothing can be prepared for payment from ``fund`` now, or None when it can.

    The fund is active and some of its award is not yet committed to a disbursement
    (``committed``, when the caller has already summed it).
    """
    if (refusal := _paying_refusal(fund)) is not None:
        return refusal
    if (_committed_total(fund) if committed is None else committed) >= fund.award_minor:
        return Conflict(
            translatable("The whole award is already paid or being paid: nothing is left to prepare."),
            code="disbursement.award_committed",
        )
    return None


def _check_request(fund: Fund, request: DisbursementRequest) -> None:
    committed = _committed_total(fund)
    if (refusal := preparation_refusal(fund, committed)) is not None:
        raise refusal
    errors: dict[str, list[str]] = {}
    if request.amount.currency != fund.currency:
        errors["amount"] = [translatable("must be in %(currency)s", currency=fund.currency)]
    elif not request.amount.is_positive:
        errors["amount"] = [translatable("must be more than zero")]
    if not request.memo.strip():
        errors["memo"] = [translatable("say what the payment is for")]
    if request.kind is DisbursementKind.TRANCHE_ADVANCE:
        tranche = db.session.get(Tranche, request.tranche_id) if request.tranche_id else None
        if tranche is None or tranche.fund_id != fund.id:
            errors["tranche_id"] = [translatable("name a tranche of this fund")]
        else:
            if request.amount.minor != tranche.amount_minor:
                errors["amount"] = [
                    translatable(
                        "a tranche advance pays the tranche, %(amount)s",
                        amount=Money(fund.currency, tranche.amount_minor).shown(),
                    )
                ]
            taken = db.session.scalar(
                select(Disbursement.id).where(
                    Disbursement.tranche_id == tranche.id,
                    Disbursement.status != DisbursementStatus.CANCELLED.value,
                )
            )
            if taken is not None:
                raise Conflict(
                    translatable("Tranche %(number)s is already being paid.", number=tranche.number),
                    code="disbursement.tranche_taken",
                )
            if (
                tranche.condition == TrancheCondition.APPROVED_INTERIM_REPORT.value
                and not _has_approved_report(fund)
            ):
                raise Conflict(
                    translatable(
                        "Tranche %(number)s is paid after an approved interim expense report.",
                        number=tranche.number,
                    ),
                    code="disbursement.tranche_condition",
                )
    elif request.tranche_id is not None:
        errors["tranche_id"] = [translatable("only a tranche advance names a tranche")]
    if errors:
        raise ValidationFailed(translatable("The disbursement is not valid."), errors=errors)
    if committed + request.amount.minor > fund.award_minor:
        left = Money(fund.currency, fund.award_minor - committed)
        raise Conflict(
            translatable(
                "That is more than is left of the award: %(left)s is left.",
                left=left.shown(),
            ),
            code="disbursement.over_award",
        )


def _has_approved_report(fund: Fund) -> bool:
    """Whether the organisation has an approved expense report on this fund (none until reports exist)."""
    from ledger.services import expense_reports  # reports build on disbursements' module

    return expense_reports.has_approved_report(fund.id)


def get_disbursement(actor: Actor, disbursement_id: uuid.UUID) -> Disbursement:
    disbursement = db.session.get(Disbursement, disbursement_id)
    if disbursement is None:
        authorize(actor, Permission.READ_FUNDS)
        raise NotFound.thing("disbursement", disbursement_id)
    authorize(actor, Permission.READ_FUNDS, disbursement.organisation_id)
    return disbursement


def list_disbursements(actor: Actor, fund_id: uuid.UUID, request: PageRequest) -> Page[Disbursement]:
    fund = get_fund(actor, fund_id)
    statement = (
        select(Disbursement).where(Disbursement.fund_id == fund.id).order_by(Disbursement.prepared_at.desc())
    )
    visible = visible_organisation_ids(actor)
    if visible is not None:
        statement = statement.where(Disbursement.organisation_id.in_(visible))
    return fetch_page(statement, request)


def paid_disbursements(
    fund_id: uuid.UUID, until: date | None = None, *, with_returned: bool = False
) -> list[Disbursement]:
    """A fund's paid disbursements (up to ``until``), by payment date: what reports and exports count.

    ``with_returned`` adds the payments the bank returned later (status ``reversed``), for a
    statement of a period in which they still counted. No access check: the callers
    (statements, open data) have checked the fund's.
    """
    statuses = [DisbursementStatus.PAID.value]
    if with_returned:
        statuses.append(DisbursementStatus.REVERSED.value)
    statement = select(Disbursement).where(Disbursement.fund_id == fund_id, Disbursement.status.in_(statuses))
    if until is not None:
        statement = statement.where(Disbursement.paid_on <= until)
    return list(db.session.scalars(statement.order_by(Disbursement.paid_on, Disbursement.id)))


def _for_change(actor: Actor, disbursement_id: uuid.UUID, expected: DisbursementStatus) -> Disbursement:
    disbursement = get_disbursement(actor, disbursement_id)
    authorize(actor, Permission.MANAGE_DISBURSEMENTS, disbursement.organisation_id)
    _lock_fund(disbursement.fund_id)
    db.session.refresh(disbursement)
    if (refusal := _status_refusal(disbursement, expected)) is not None:
        raise refusal
    return disbursement


_NOT_IN_STATUS = {
    DisbursementStatus.PREPARED: translatable(
        "Only a prepared disbursement is approved; this disbursement is no longer awaiting approval."
    ),
    DisbursementStatus.APPROVED: translatable(
        "Only an approved disbursement is marked paid; this disbursement is not approved or is already paid."
    ),
}


def _status_refusal(disbursement: Disbursement, expected: DisbursementStatus) -> Conflict | None:
    if disbursement.status != expected.value:
        return Conflict(_NOT_IN_STATUS[expected], code=f"disbursement.not_{expected.value}")
    return None


def approval_refusal(actor: Actor, disbursement: Disbursement, fund: Fund) -> LedgerError | None:
    """Why ``actor`` cannot approve ``disbursement`` now, or None when they can (the permission aside).

    Only a prepared one is approved, never by the one who prepared it, and only from an active fund.
    """
    return (
        _status_refusal(disbursement, DisbursementStatus.PREPARED)
        or different_person_refusal(actor, [disbursement.prepared_by], translatable("approve a disbursement"))
        or _paying_refusal(fund)
    )


def payment_refusal(disbursement: Disbursement) -> Conflict | None:
    """Why ``disbursement`` cannot be marked paid now (only an approved one is), or None.

    ``mark_paid`` makes the same check under the fund's lock (``_for_change``).
    """
    return _status_refusal(disbursement, DisbursementStatus.APPROVED)


def cancellation_refusal(disbursement: Disbursement) -> Conflict | None:
    """Why ``disbursement`` cannot be cancelled (a paid one is refunded instead), or None."""
    if disbursement.status not in (DisbursementStatus.PREPARED.value, DisbursementStatus.APPROVED.value):
        return Conflict(
            translatable(
                "Only a prepared or approved disbursement is cancelled; a paid one is refunded instead."
            ),
            code="disbursement.not_cancellable",
        )
    return None


def approve_disbursement(actor: Actor, disbursement_id: uuid.UUID) -> Disbursement:
    """A second finance officer, not the one who prepared it, approves the payment."""
    disbursement = _for_change(actor, disbursement_id, DisbursementStatus.PREPARED)
    fund = db.session.get(Fund, disbursement.fund_id)
    assert fund is not None
    if (refusal := approval_refusal(actor, disbursement, fund)) is not None:
        raise refusal
    disbursement.status = DisbursementStatus.APPROVED.value
    disbursement.approved_by = actor.audit_identity["id"]
    db.session.flush()
    record_state(actor, "disbursement.approved", "disbursement", disbursement)
    return disbursement


def mark_paid(actor: Actor, disbursement_id: uuid.UUID, bank_reference: str, paid_on: date) -> Disbursement:
    """Record that the bank paid it, and book it: Dr 1002 bank, Cr the fund's revenue account."""
    disbursement = _for_change(actor, disbursement_id, DisbursementStatus.APPROVED)
    if not bank_reference.strip():
        raise ValidationFailed.field(
            "bank_reference", translatable("give the bank's reference for the payment")
        )
    fund = db.session.get(Fund, disbursement.fund_id)
    assert fund is not None
    signed = fund.signed_on or fund.awarded_on
    if signed is not None and paid_on < signed:
        raise ValidationFailed.field(
            "paid_on",
            translatable("must not be before the agreement was signed (%(day)s)", day=signed.isoformat()),
        )
    amount = Money(disbursement.currency, disbursement.amount_minor)
    restriction = "restricted" if fund.restricted else "unrestricted"
    entry = books.post_journal_entry(
        actor,
        disbursement.organisation_id,
        paid_on,
        f"{fund.title}: {disbursement.memo} ({bank_reference.strip()})",
        [
            books.PostingLine("1002", Side.DEBIT, amount, fund.id),
            books.PostingLine(fund.revenue_account, Side.CREDIT, amount, fund.id, restriction),
        ],
        source=EntrySource.DISBURSEMENT_PAID,
        source_id=str(disbursement.id),
    )
    disbursement.status = DisbursementStatus.PAID.value
    disbursement.paid_by = actor.audit_identity["id"]
    disbursement.paid_on = paid_on
    disbursement.bank_reference = bank_reference.strip()
    disbursement.journal_entry_id = entry.id
    db.session.flush()
    record_state(actor, "disbursement.paid", "disbursement", disbursement)
    return disbursement


def cancel_disbursement(actor: Actor, disbursement_id: uuid.UUID, reason: str) -> Disbursement:
    disbursement = get_disbursement(actor, disbursement_id)
    authorize(actor, Permission.MANAGE_DISBURSEMENTS, disbursement.organisation_id)
    if (refusal := cancellation_refusal(disbursement)) is not None:
        raise refusal
    if not reason.strip():
        raise ValidationFailed.field("reason", translatable("say why it is cancelled"))
    disbursement.status = DisbursementStatus.CANCELLED.value
    disbursement.cancel_reason = reason.strip()
    db.session.flush()
    record_state(actor, "disbursement.cancelled", "disbursement", disbursement)
    return disbursement


@dataclass(frozen=True)
class Refunded:
    """A refund's journal entry, and whether this request booked it (False for a retry)."""

    fund: Fund
    entry: JournalEntry
    created: bool


def refund_unspent(
    actor: Actor,
    fund_id: uuid.UUID,
    amount: Money,
    refunded_on: date,
    bank_reference: str,
    key: str | None,
) -> Refunded:
    """Book money returned to the funder (``restrictions.refund_lines``: revenue of this year, or
    管理费用 for money received in an earlier year), Cr 1002 bank."""
    fund = get_fund(actor, fund_id)
    authorize(actor, Permission.MANAGE_DISBURSEMENTS, fund.organisation_id)
    reference = bank_reference.strip()
    claim = claim_key(
        key,
        {
            "fund_id": str(fund.id),
            "amount": str(amount),
            "currency": amount.currency,
            "refunded_on": refunded_on.isoformat(),
            "bank_reference": reference,
        },
        "refund",
    )
    # The fund lock comes first so that retries queue behind the first attempt and then find it.
    fund = _lock_fund(fund_id)

    def book_refund() -> JournalEntry:
        if fund.status not in (FundStatus.ACTIVE.value, FundStatus.SUSPENDED.value):
            raise Conflict(
                translatable("Only an active or suspended fund has anything to refund."),
                code="refund.fund_not_open",
            )
        if not reference:
            raise ValidationFailed.field(
                "bank_reference", translatable("give the bank's reference for the refund")
            )
        if amount.currency != fund.currency or not amount.is_positive:
            raise ValidationFailed.field(
                "amount", translatable("must be a positive amount in %(currency)s", currency=fund.currency)
            )
        left = unspent_cash(fund)
        if amount.minor > left.minor:
            raise ValidationFailed.field(
                "amount",
                translatable("only %(left)s of this fund is unspent", left=left.shown()),
            )
        entry = books.post_journal_entry(
            actor,
            fund.organisation_id,
            refunded_on,
            f"{fund.title}: unspent funds refunded ({reference})",
            refund_lines(fund, amount, refunded_on),
            source=EntrySource.REFUND,
            source_id=str(fund.id),
            idempotency=claim,
        )
        record_event(
            actor,
            "fund.refunded",
            "fund",
            fund.id,
            {
                "amount": str(amount),
                "currency": amount.currency,
                "journal_entry_id": str(entry.id),
                "bank_reference": reference,
            },
        )
        return entry

    entry, created = books.post_journal_entry_once(actor, claim, book_refund)
    return Refunded(fund, entry, created)


def reverse_payment(actor: Actor, disbursement_id: uuid.UUID, returned_on: date, reason: str) -> Disbursement:
    """The bank returned a paid disbursement: its booking is reversed and it no longer counts as paid."""
    if not reason.strip():
        raise ValidationFailed.field("reason", translatable("say why the payment is reversed"))
    disbursement = get_disbursement(actor, disbursement_id)
    authorize(actor, Permission.MANAGE_DISBURSEMENTS, disbursement.organisation_id)
    _lock_fund(disbursement.fund_id)
    if disbursement.status != DisbursementStatus.PAID.value:
        raise Conflict(
            translatable("Only a paid disbursement is reversed; this disbursement is not paid."),
            code="disbursement.not_paid",
        )
    assert disbursement.journal_entry_id is not None  # a paid disbursement was booked
    entry = db.session.get(JournalEntry, disbursement.journal_entry_id)
    assert entry is not None
    books.post_reversal(actor, entry, returned_on, f"payment returned by the bank: {reason.strip()}")
    disbursement.status = DisbursementStatus.REVERSED.value
    disbursement.reversed_on = returned_on
    disbursement.reversal_reason = reason.strip()
    db.session.flush()
    record_state(actor, "disbursement.reversed", "disbursement", disbursement)
    return disbursement


def reverse_refund(
    actor: Actor, fund_id: uuid.UUID, entry_id: uuid.UUID, returned_on: date, reason: str
) -> JournalEntry:
    """The bank returned a refund to the funder: the refund's booking is reversed, the money is back."""
    if not reason.strip():
        raise ValidationFailed.field("reason", translatable("say why the refund is reversed"))
    fund = get_fund(actor, fund_id)
    authorize(actor, Permission.MANAGE_DISBURSEMENTS, fund.organisation_id)
    fund = _lock_fund(fund_id)
    entry = db.session.get(JournalEntry, entry_id)
    if entry is None or entry.source != EntrySource.REFUND.value or entry.source_id != str(fund.id):
        raise NotFound.thing("refund", entry_id)
    reversal = books.post_reversal(
        actor, entry, returned_on, f"refund returned by the bank: {reason.strip()}"
    )
    record_event(
        actor,
        "fund.refund_reversed",
        "fund",
        fund.id,
        {"refund_entry_id": str(entry.id), "journal_entry_id": str(reversal.id), "reason": reason.strip()},
    )
    return reversal
