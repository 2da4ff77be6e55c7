"""An expense report's lines: set while it is a draft (or returned), and their invoices.

Each line names a category, an amount, the date incurred, the payee, a description and the
receipt it claims (uploaded first). An invoice on a line (its kind, code and number) is claimed
by that line in the whole deployment: ``invoice_claim`` holds the claim and its unique
constraint refuses a second one, even when two requests race; a rejected or voided report
releases its claims (docs/invoices.md). A finance officer who did not file the report records
that a line's invoice was verified.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ledger.errors import Conflict, LedgerError, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.expense_report import (
    EDITABLE,
    ExpenseLine,
    ExpenseReport,
    InvoiceClaim,
    Receipt,
    ReceiptKind,
    ReportStatus,
)
from ledger.models.fund import Fund
from ledger.money import Money
from ledger.replay.capture import note_rows
from ledger.services.access import Actor, Permission, authorize, different_person_refusal, may
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.expense_reports import get_report
from ledger.services.invoices import claim_identity, identity_problems, taxpayer_id_problem

MAX_LINES = 200


@dataclass(frozen=True)
class LineInput:
    category_code: str
    amount: Money
    incurred_on: date
    payee: str
    description: str
    receipt_sha256: str | None = None
    receipt_kind: str = ReceiptKind.PLAIN_RECEIPT.value
    invoice_code: str | None = None
    invoice_number: str | None = None
    invoice_date: date | None = None
    invoice_amount: Money | None = None
    seller_name: str | None = None
    seller_taxpayer_id: str | None = None


INVOICE_CLAIMED = "expense_report.invoice_claimed"
"""The problem code of a line whose invoice another line already claims."""


def editing_refusal(report: ExpenseReport) -> Conflict | None:
    """Why ``report``'s lines cannot be changed now (only a draft's or a returned one's), or None."""
    if report.status not in EDITABLE:
        return Conflict(
            translatable("Only a draft or returned report is edited; this report is not."),
            code="expense_report.not_editable",
        )
    return None


def set_lines(
    actor: Actor, report_id: uuid.UUID, lines: list[LineInput], expected_version: int | None
) -> ExpenseReport:
    """Replace a draft (or returned) report's lines."""
    report = get_report(actor, report_id)
    authorize(actor, Permission.FILE_EXPENSE_REPORTS, report.organisation_id)
    check_version(report, expected_version)
    if (refusal := editing_refusal(report)) is not None:
        raise refusal
    if len(lines) > MAX_LINES:
        raise ValidationFailed.field(
            "lines", translatable("a report has at most %(limit)s lines", limit=MAX_LINES)
        )
    fund = report.fund
    receipts = _receipts_of(lines)
    errors: dict[str, list[str]] = defaultdict(list)
    for index, line in enumerate(lines):
        if line.amount.currency != fund.currency:
            errors[f"lines.{index}.amount"].append(
                translatable("must be in %(currency)s", currency=fund.currency)
            )
        elif not line.amount.is_positive:
            errors[f"lines.{index}.amount"].append(translatable("must be more than zero"))
        for name in ("payee", "description"):
            if not getattr(line, name).strip():
                errors[f"lines.{index}.{name}"].append(translatable("must not be blank"))
        if line.receipt_sha256 is not None:
            receipt = receipts.get(line.receipt_sha256)
            if receipt is None or receipt.organisation_id != report.organisation_id:
                errors[f"lines.{index}.receipt_sha256"].append(
                    translatable("upload the receipt first (POST /api/v1/receipts)")
                )
        _check_invoice(index, line, fund.currency, errors)
    if errors:
        raise ValidationFailed(translatable("The lines are not valid."), errors=errors)
    _refuse_claimed(report, lines)
    verified = {
        identity: (line.invoice_verified_by, line.invoice_verified_at)
        for line in report.lines
        if (identity := claim_identity(line.receipt_kind, line.invoice_code, line.invoice_number))
        and line.invoice_verified_by
    }
    # The new version first: its row lock makes a second request changing the same lines wait,
    # and then find the version moved on.
    if not _next_version(report, report.version):
        raise _CHANGED_MEANWHILE
    if not any(claim_identity(line.receipt_kind, line.invoice_code, line.invoice_number) for line in lines):
        _write_lines(report, lines, verified)  # no claim to write: no claim to lose a race for
    else:
        try:
            # One savepoint: a claim refused by the unique constraint (another request won the
            # race) leaves nothing of this change behind.
            with db.session.begin_nested():
                _write_lines(report, lines, verified)
        except IntegrityError:
            # The savepoint is rolled back: look again, now seeing the claim that won.
            db.session.expire_all()
            _refuse_claimed(report, lines)
            raise _CHANGED_MEANWHILE from None
    record_state(actor, "expense_report.lines_set", "expense_report", report)
    return report


_CHANGED_MEANWHILE = Conflict(
    translatable("The report's lines were changed by another request at the same time; reload it."),
    code="expense_report.changed_meanwhile",
)


def _receipts_of(lines: list[LineInput]) -> dict[str, Receipt]:
    """The receipts the lines name, in one query."""
    wanted = {line.receipt_sha256 for line in lines if line.receipt_sha256 is not None}
    if not wanted:
        return {}
    return {r.sha256: r for r in db.session.scalars(select(Receipt).where(Receipt.sha256.in_(wanted)))}


def _check_invoice(index: int, line: LineInput, currency: str, errors: dict[str, list[str]]) -> None:
    """The invoice fields of one line: each kind's code and number, the seller's id, the amount."""
    where = f"lines.{index}"
    if line.receipt_kind not in {kind.value for kind in ReceiptKind}:
        errors[f"{where}.receipt_kind"].append(
            translatable("must be one of %(kinds)s", kinds=", ".join(kind.value for kind in ReceiptKind))
        )
        return
    for name, messages in identity_problems(
        line.receipt_kind, line.invoice_code, line.invoice_number
    ).items():
        errors[f"{where}.{name}"].extend(messages)
    if line.seller_taxpayer_id and (problem := taxpayer_id_problem(line.seller_taxpayer_id)) is not None:
        errors[f"{where}.seller_taxpayer_id"].append(problem)
    if line.invoice_amount is not None:
        if line.invoice_amount.currency != currency:
            errors[f"{where}.invoice_amount"].append(
                translatable("must be in %(currency)s", currency=currency)
            )
        elif not line.invoice_amount.is_positive:
            errors[f"{where}.invoice_amount"].append(translatable("must be more than zero"))


def _refuse_claimed(report: ExpenseReport, lines: list[LineInput]) -> None:
    """Refuse lines whose invoice is on an earlier line or claimed by another report (422 at the line).

    The report that holds the claim is named only to its own organisation; to another one the
    invoice is just "already claimed", so that nothing is said about who claimed it.
    """
    errors: dict[str, list[str]] = defaultdict(list)
    seen: dict[tuple[str, str, str], int] = {}
    for index, line in enumerate(lines):
        identity = claim_identity(line.receipt_kind, line.invoice_code, line.invoice_number)
        if identity is None:
            continue
        if identity in seen:
            errors[f"lines.{index}.invoice_number"].append(
                translatable("the same invoice is on line %(line)s", line=seen[identity] + 1)
            )
            continue
        seen[identity] = index
        claim = db.session.scalar(
            select(InvoiceClaim).where(
                InvoiceClaim.receipt_kind == identity[0],
                InvoiceClaim.invoice_code == identity[1],
                InvoiceClaim.invoice_number == identity[2],
                InvoiceClaim.report_id != report.id,
            )
        )
        if claim is None:
            continue
        if claim.organisation_id == report.organisation_id:
            holder = db.session.get(ExpenseReport, claim.report_id)
            holder_fund = db.session.get(Fund, holder.fund_id) if holder is not None else None
            errors[f"lines.{index}.invoice_number"].append(
                translatable(
                    "this invoice is already claimed on the report %(title)s (%(reference)s)",
                    title=f"“{holder.title}”" if holder is not None else "",
                    reference=holder_fund.reference if holder_fund is not None else "",
                )
            )
        else:
            errors[f"lines.{index}.invoice_number"].append(translatable("this invoice is already claimed"))
    if errors:
        raise ValidationFailed(
            translatable("An invoice on these lines is already claimed."), errors=errors, code=INVOICE_CLAIMED
        )


def _write_lines(
    report: ExpenseReport,
    lines: list[LineInput],
    verified: Mapping[tuple[str, str, str], tuple[str | None, Any]],
) -> None:
    """Replace the report's lines and their invoice claims (the old claims go first, then the lines)."""
    if any(
        claim_identity(line.receipt_kind, line.invoice_code, line.invoice_number) for line in report.lines
    ):
        # Only a line with an invoice holds a claim: a report without one has none to read.
        release_claims(report)
    if report.lines:
        # Remove the old lines first: their numbers are unique within the report.
        report.lines.clear()
        db.session.flush()
    made = []
    for index, line in enumerate(lines):
        identity = claim_identity(line.receipt_kind, line.invoice_code, line.invoice_number)
        verified_by, verified_at = verified.get(identity, (None, None)) if identity else (None, None)
        made.append(
            ExpenseLine(
                number=index + 1,
                category_code=line.category_code,
                amount_minor=line.amount.minor,
                incurred_on=line.incurred_on,
                payee=line.payee.strip(),
                description=line.description.strip(),
                receipt_sha256=line.receipt_sha256,
                receipt_kind=line.receipt_kind,
                invoice_code=line.invoice_code or None,
                invoice_number=line.invoice_number or None,
                invoice_date=line.invoice_date,
                invoice_amount_minor=line.invoice_amount.minor if line.invoice_amount is not None else None,
                seller_name=(line.seller_name or "").strip() or None,
                seller_taxpayer_id=line.seller_taxpayer_id or None,
                invoice_verified_by=verified_by,
                invoice_verified_at=verified_at,
            )
        )
    report.lines.extend(made)
    db.session.flush()
    for row in made:
        identity = claim_identity(row.receipt_kind, row.invoice_code, row.invoice_number)
        if identity is not None:
            db.session.add(
                InvoiceClaim(
                    receipt_kind=identity[0],
                    invoice_code=identity[1],
                    invoice_number=identity[2],
                    line_id=row.id,
                    report_id=report.id,
                    organisation_id=report.organisation_id,
                )
            )
    db.session.flush()


def release_claims(report: ExpenseReport) -> None:
    """A rejected or voided report no longer holds its invoices: another line may claim them."""
    for claim in db.session.scalars(select(InvoiceClaim).where(InvoiceClaim.report_id == report.id)):
        db.session.delete(claim)
    db.session.flush()


def invoice_verification_refusal(
    actor: Actor, report: ExpenseReport, line: ExpenseLine
) -> LedgerError | None:
    """Why ``actor`` cannot record ``line``'s invoice as verified (the permission aside), or None."""
    refusal = different_person_refusal(actor, [report.filed_by], translatable("verify an invoice"))
    if refusal is not None:
        return refusal
    if report.status in (ReportStatus.REJECTED.value, ReportStatus.VOIDED.value):
        return Conflict(
            translatable("A rejected or voided report's invoices are not verified."),
            code="expense_report.not_verifiable",
        )
    if claim_identity(line.receipt_kind, line.invoice_code, line.invoice_number) is None:
        return Conflict(
            translatable("This line has no invoice number to verify."), code="expense_report.no_invoice"
        )
    return None


def may_verify_invoice(actor: Actor, report: ExpenseReport, line: ExpenseLine) -> bool:
    """Whether the page offers ``actor`` the button that records ``line``'s invoice as verified."""
    return (
        may(actor, Permission.REVIEW_EXPENSE_REPORTS, report.organisation_id)
        and line.invoice_verified_by is None
        and invoice_verification_refusal(actor, report, line) is None
    )


def verify_invoice(actor: Actor, report_id: uuid.UUID, number: int) -> ExpenseReport:
    """Record that a finance officer (not the filer) checked line ``number``'s invoice.

    The official check service is online only; the officer checks it there (or on paper) and
    this records who did and when. A line already verified keeps its first verification.
    """
    report = get_report(actor, report_id)
    authorize(actor, Permission.REVIEW_EXPENSE_REPORTS, report.organisation_id)
    line = next((line for line in report.lines if line.number == number), None)
    if line is None:
        raise NotFound.thing("expense line", number)
    if (refusal := invoice_verification_refusal(actor, report, line)) is not None:
        raise refusal
    if line.invoice_verified_by is not None:
        return report
    line.invoice_verified_by = actor.audit_identity["id"]
    line.invoice_verified_at = utcnow()
    db.session.flush()
    _next_version(report)
    record_state(actor, "expense_report.invoice_verified", "expense_report", report)
    return report


def _next_version(report: ExpenseReport, unless_moved_from: int | None = None) -> bool:
    """Lines live in their own table; a change to them is a change to the report (a new ETag).

    With ``unless_moved_from``, only if the report is still at that version: False when another
    request changed it first (the update waits for that request's row lock, then sees its version).
    """
    statement = update(ExpenseReport).where(ExpenseReport.id == report.id)
    if unless_moved_from is not None:
        statement = statement.where(ExpenseReport.version == unless_moved_from)
    version = db.session.scalar(
        statement.values(version=ExpenseReport.version + 1).returning(ExpenseReport.version)
    )
    if version is None:
        return False
    # The statement bypassed the session: the report takes its new version as stored, and the
    # replay capture carries the row with it.
    set_committed_value(report, "version", version)
    note_rows(db.session, report)
    return True
