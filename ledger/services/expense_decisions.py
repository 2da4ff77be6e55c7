"""Deciding an expense report: submitted by its organisation, then approved, returned or rejected.

The same checks run at submit and again at approval (``expense_checks``). Approval books the
spending (Dr the category's expense account, Cr 1002, by fund) and, for a restricted fund,
releases the restriction on as much (``ledger.services.restrictions``). A finance officer voids
an approved report by reversing both; its receipts may then be claimed again. The fund's row is
the lock: two reports on one fund are checked against its budget one at a time.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ledger.errors import Conflict, LedgerError, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.books import EntrySource, JournalEntry, Side
from ledger.models.expense_report import EDITABLE, ExpenseReport, ReportStatus
from ledger.models.fund import Fund
from ledger.money import Money
from ledger.services import books, requirement_filing
from ledger.services.access import Actor, Permission, authorize, different_person_refusal
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.expense_checks import problems_refusal
from ledger.services.expense_lines import release_claims
from ledger.services.funds import categories_of
from ledger.services.restrictions import release_lines, release_reversal_lines


def _lock(actor: Actor, report_id: uuid.UUID, expected_version: int | None) -> tuple[ExpenseReport, Fund]:
    # The fund row is the lock: two reports on one fund are checked against its budget one at a
    # time. It is found through the report (whose fund never changes) and taken first, so that the
    # report and its lines are then read as they are once the lock is held.
    fund = db.session.scalar(
        select(Fund)
        .where(
            Fund.id == select(ExpenseReport.fund_id).where(ExpenseReport.id == report_id).scalar_subquery()
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if fund is None:
        authorize(actor, Permission.READ_FUNDS)
        raise NotFound.thing("expense report", report_id)
    report = (
        db.session.scalars(
            select(ExpenseReport)
            .where(ExpenseReport.id == report_id)
            .options(joinedload(ExpenseReport.lines))
            .execution_options(populate_existing=True)
        )
        .unique()
        .one()
    )
    set_committed_value(report, "fund", fund)  # the report keeps its fund for the rest of the request
    authorize(actor, Permission.READ_FUNDS, report.organisation_id)
    check_version(report, expected_version)
    return report, fund


def submission_refusal(report: ExpenseReport, fund: Fund) -> LedgerError | None:
    """Why ``report`` cannot be submitted now (its problems, by line), or None when it can."""
    if report.status not in EDITABLE:
        return Conflict(
            translatable("Only a draft or returned report is submitted; this report is not."),
            code="expense_report.not_editable",
        )
    return problems_refusal(report, fund, "submitted")


def submit_report(actor: Actor, report_id: uuid.UUID, expected_version: int | None) -> ExpenseReport:
    report, fund = _lock(actor, report_id, expected_version)
    authorize(actor, Permission.FILE_EXPENSE_REPORTS, report.organisation_id)
    if (refusal := submission_refusal(report, fund)) is not None:
        raise refusal
    report.status = ReportStatus.SUBMITTED.value
    report.submitted_at = utcnow()
    db.session.flush()
    record_state(actor, "expense_report.submitted", "expense_report", report)
    requirement_filing.report_submitted(actor, report)
    return report


_NOT_SUBMITTED = {
    "approve": translatable("Only a submitted report is approved; this report is not submitted."),
    "return": translatable("Only a submitted report is returned; this report is not submitted."),
    "reject": translatable("Only a submitted report is rejected; this report is not submitted."),
}


_SELF_DECISION = {
    "approve": translatable("approve an expense report"),
    "return": translatable("return an expense report"),
    "reject": translatable("reject an expense report"),
}


def _decidable(
    actor: Actor, report_id: uuid.UUID, expected_version: int | None, action: str
) -> tuple[ExpenseReport, Fund]:
    report, fund = _lock(actor, report_id, expected_version)
    authorize(actor, Permission.REVIEW_EXPENSE_REPORTS, report.organisation_id)
    if (refusal := decision_refusal(actor, report, fund, action)) is not None:
        raise refusal
    return report, fund


def decision_refusal(actor: Actor, report: ExpenseReport, fund: Fund, action: str) -> LedgerError | None:
    """Why ``actor`` cannot ``action`` (approve, return or reject) ``report`` now, or None.

    The permission aside: the one who filed it never decides it, only a submitted report is
    decided, and an approval runs the submission's checks again, against the books as they are.
    """
    refusal = different_person_refusal(actor, [report.filed_by], _SELF_DECISION[action])
    if refusal is not None:
        return refusal
    if report.status != ReportStatus.SUBMITTED.value:
        return Conflict(_NOT_SUBMITTED[action], code="expense_report.not_submitted")
    if action == "approve":
        return problems_refusal(report, fund, "approved")
    return None


def approve_report(actor: Actor, report_id: uuid.UUID, expected_version: int | None) -> ExpenseReport:
    """Approve and book the report: the checks run again, against the books as they are now."""
    report, fund = _decidable(actor, report_id, expected_version, "approve")
    categories = categories_of(fund.category_list_version)
    by_account: dict[str, int] = defaultdict(int)
    for line in report.lines:
        by_account[categories[line.category_code].account_code] += line.amount_minor
    total = Money(fund.currency, sum(by_account.values()))
    entry_date = max(line.incurred_on for line in report.lines)
    entry = books.post_journal_entry(
        actor,
        report.organisation_id,
        entry_date,
        f"{fund.title}: {report.title}",
        [
            books.PostingLine(code, Side.DEBIT, Money(fund.currency, amount), fund.id)
            for code, amount in sorted(by_account.items())
        ]
        + [books.PostingLine("1002", Side.CREDIT, total, fund.id)],
        source=EntrySource.EXPENSE_APPROVED,
        source_id=str(report.id),
    )
    release = release_lines(fund, total, entry_date)
    if release:
        books.post_journal_entry(
            actor,
            report.organisation_id,
            entry_date,
            f"{fund.title}: restriction released for {report.title}",
            release,
            source=EntrySource.RESTRICTED_RELEASE,
            source_id=str(report.id),
        )
    report.status = ReportStatus.APPROVED.value
    report.decided_by = actor.audit_identity["id"]
    report.decided_at = utcnow()
    report.journal_entry_id = entry.id
    db.session.flush()
    record_state(actor, "expense_report.approved", "expense_report", report)
    requirement_filing.report_approved(actor, report)
    return report


def void_refusal(actor: Actor, report: ExpenseReport) -> LedgerError | None:
    """Why ``actor`` cannot void ``report`` now (the permission aside), or None when they can."""
    refusal = different_person_refusal(actor, [report.filed_by], translatable("void an expense report"))
    if refusal is not None:
        return refusal
    if report.status != ReportStatus.APPROVED.value:
        return Conflict(
            translatable("Only an approved report is voided; this report is not approved."),
            code="expense_report.not_approved",
        )
    return None


def void_report(
    actor: Actor, report_id: uuid.UUID, void_date: date, reason: str, expected_version: int | None
) -> ExpenseReport:
    """Withdraw an approved report: its spending and its restriction release are reversed on ``void_date``.

    A finance officer who did not file it voids it, with a reason; budget vs actual and every
    figure stop counting it from the void's date on. Nothing is deleted: the approval and the
    void both stay in the books and the trail.
    """
    if not reason.strip():
        raise ValidationFailed.field("reason", translatable("say why the report is voided"))
    report, _fund = _lock(actor, report_id, expected_version)
    authorize(actor, Permission.REVIEW_EXPENSE_REPORTS, report.organisation_id)
    if (refusal := void_refusal(actor, report)) is not None:
        raise refusal
    entries = db.session.scalars(
        select(JournalEntry)
        .where(
            JournalEntry.source_id == str(report.id),
            JournalEntry.source.in_(
                [EntrySource.EXPENSE_APPROVED.value, EntrySource.RESTRICTED_RELEASE.value]
            ),
        )
        .order_by(JournalEntry.created_at)
    ).all()
    for entry in entries:
        lines = (
            release_reversal_lines(entry, void_date)
            if entry.source == EntrySource.RESTRICTED_RELEASE.value
            else None
        )
        books.post_reversal(actor, entry, void_date, f"report voided: {reason.strip()}", lines=lines)
    release_claims(report)
    report.status = ReportStatus.VOIDED.value
    report.voided_by = actor.audit_identity["id"]
    report.voided_at = utcnow()
    report.comments = [
        *report.comments,
        {
            "by": actor.audit_identity["id"],
            "at": utcnow().isoformat(),
            "status": ReportStatus.VOIDED.value,
            "comment": reason.strip(),
        },
    ]
    db.session.flush()
    record_state(actor, "expense_report.voided", "expense_report", report)
    return report


def return_report(
    actor: Actor, report_id: uuid.UUID, comment: str, expected_version: int | None
) -> ExpenseReport:
    """Send a report back with a comment; the organisation fixes it and submits again."""
    return _decide_without_booking(
        actor, report_id, comment, expected_version, ReportStatus.RETURNED, "return"
    )


def reject_report(
    actor: Actor, report_id: uuid.UUID, comment: str, expected_version: int | None
) -> ExpenseReport:
    return _decide_without_booking(
        actor, report_id, comment, expected_version, ReportStatus.REJECTED, "reject"
    )


def _decide_without_booking(
    actor: Actor,
    report_id: uuid.UUID,
    comment: str,
    expected_version: int | None,
    status: ReportStatus,
    action: str,
) -> ExpenseReport:
    if not comment.strip():
        raise ValidationFailed.field(
            "comment",
            translatable("say why the report is returned")
            if status is ReportStatus.RETURNED
            else translatable("say why the report is rejected"),
        )
    report, _fund = _decidable(actor, report_id, expected_version, action)
    if status is ReportStatus.REJECTED:
        release_claims(report)
    report.status = status.value
    report.decided_by = actor.audit_identity["id"]
    report.decided_at = utcnow()
    report.comments = [
        *report.comments,
        {
            "by": actor.audit_identity["id"],
            "at": utcnow().isoformat(),
            "status": status.value,
            "comment": comment.strip(),
        },
    ]
    db.session.flush()
    record_state(actor, f"expense_report.{status.value}", "expense_report", report)
    return report
