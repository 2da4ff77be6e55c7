"""Expense reports: organisations account for what they spent from a fund.

An organisation member files a report as a draft, with lines (category, amount, date incurred,
payee, description, receipt: ``expense_lines``), and submits it; a finance officer approves it,
returns it with a comment (it can be fixed and submitted again) or rejects it
(``expense_decisions``). The same checks run at submit and again at approval, and every problem
names its line (``expense_checks``). This module starts reports, finds them and lists them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.expense_report import ExpenseReport, ReportStatus
from ledger.models.fund import Fund, FundStatus
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.audit_subjects import record_state
from ledger.services.funds import get_fund
from ledger.services.idempotency import claim_key, require_same_request
from ledger.services.pagination import Page, PageRequest, fetch_page


def has_approved_report(fund_id: uuid.UUID) -> bool:
    """Whether an interim expense report of the fund has been approved (a tranche may wait for one)."""
    return (
        db.session.scalar(
            select(ExpenseReport.id).where(
                ExpenseReport.fund_id == fund_id,
                ExpenseReport.interim.is_(True),
                ExpenseReport.status == ReportStatus.APPROVED.value,
            )
        )
        is not None
    )


@dataclass(frozen=True)
class CreatedReport:
    """A report ``create_report`` made, or the one a first request with the same key made."""

    report: ExpenseReport
    created: bool


def _report_for_key(actor: Actor, key: str) -> ExpenseReport | None:
    return db.session.scalar(
        select(ExpenseReport).where(
            ExpenseReport.filed_by == actor.audit_identity["id"], ExpenseReport.idempotency_key == key
        )
    )


def creation_refusal(fund: Fund) -> Conflict | None:
    """Why no report can be started on ``fund`` now, or None when one can."""
    if fund.status != FundStatus.ACTIVE.value:
        return Conflict(
            translatable("Reports are filed against an active fund; this fund is not active."),
            code="expense_report.fund_not_active",
        )
    return None


def create_report(
    actor: Actor, fund_id: uuid.UUID, title: str, interim: bool, key: str | None
) -> CreatedReport:
    """Start a draft report (an organisation member); idempotent by ``key`` (Idempotency-Key).

    A retry with the same key and request returns the first report; the same key with another
    request is a conflict.
    """
    fund = get_fund(actor, fund_id)
    authorize(actor, Permission.FILE_EXPENSE_REPORTS, fund.organisation_id)
    claim = claim_key(key, {"fund_id": str(fund.id), "title": title, "interim": interim}, "expense report")
    existing = _report_for_key(actor, claim.key)
    if existing is not None:
        require_same_request(existing.request_hash, claim, "expense report")
        return CreatedReport(existing, created=False)
    if (refusal := creation_refusal(fund)) is not None:
        raise refusal
    if not title.strip():
        raise ValidationFailed.field("title", translatable("must not be blank"))
    report = ExpenseReport(
        fund_id=fund.id,
        organisation_id=fund.organisation_id,
        title=title.strip(),
        interim=interim,
        filed_by=actor.audit_identity["id"],
        status=ReportStatus.DRAFT.value,
        comments=[],
        lines=[],  # a new report has none: saves loading the empty list back
        idempotency_key=claim.key,
        request_hash=claim.fingerprint,
    )
    try:
        # Added inside the savepoint, so that a refused insert leaves nothing pending behind it.
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        # The same key arrived twice at once and the other request won the unique index.
        existing = _report_for_key(actor, claim.key)
        if existing is None:
            raise
        require_same_request(existing.request_hash, claim, "expense report")
        return CreatedReport(existing, created=False)
    record_state(actor, "expense_report.created", "expense_report", report)
    set_committed_value(report, "fund", fund)  # the report keeps its fund for the rest of the request
    return CreatedReport(report, created=True)


def get_report(actor: Actor, report_id: uuid.UUID) -> ExpenseReport:
    # One query for the report, its lines and its fund; none when the request already has it.
    report = db.session.get(ExpenseReport, report_id, options=_WITH_LINES_AND_FUND)
    if report is None:
        authorize(actor, Permission.READ_FUNDS)
        raise NotFound.thing("expense report", report_id)
    authorize(actor, Permission.READ_FUNDS, report.organisation_id)
    return report


_WITH_LINES_AND_FUND = (joinedload(ExpenseReport.lines), joinedload(ExpenseReport.fund))


@dataclass(frozen=True)
class MemberWork:
    """What waits for a person who files reports: counts by status, and the reports sent back."""

    counts: dict[str, int]
    returned: list[tuple[ExpenseReport, str]]
    """Each returned report with the officer's comment that returned it, newest first."""


def member_work(actor: Actor, limit: int = 20) -> MemberWork:
    """The reports of the actor's organisations by status, and those returned for changes."""
    authorize(actor, Permission.READ_FUNDS)
    visible = visible_organisation_ids(actor)
    counting = select(ExpenseReport.status, func.count()).group_by(ExpenseReport.status)
    listing = select(ExpenseReport).where(ExpenseReport.status == ReportStatus.RETURNED.value)
    if visible is not None:
        counting = counting.where(ExpenseReport.organisation_id.in_(visible))
        listing = listing.where(ExpenseReport.organisation_id.in_(visible))
    counts = {status.value: 0 for status in ReportStatus}
    counts.update({status: count for status, count in db.session.execute(counting)})
    returned = db.session.scalars(
        listing.order_by(ExpenseReport.created_at.desc(), ExpenseReport.id.desc()).limit(limit)
    ).all()
    return MemberWork(counts, [(report, _return_comment(report)) for report in returned])


def _return_comment(report: ExpenseReport) -> str:
    for comment in reversed(report.comments):
        if comment.get("status") == ReportStatus.RETURNED.value:
            return str(comment.get("comment", ""))
    return ""


def list_reports(
    actor: Actor,
    request: PageRequest,
    *,
    fund_id: uuid.UUID | None = None,
    status: ReportStatus | None = None,
) -> Page[ExpenseReport]:
    """Reports you may see; the review queue is ``status=submitted``, oldest first."""
    authorize(actor, Permission.READ_FUNDS)
    statement = select(ExpenseReport)
    visible = visible_organisation_ids(actor)
    if visible is not None:
        statement = statement.where(ExpenseReport.organisation_id.in_(visible))
    fund = None
    if fund_id is not None:
        fund = get_fund(actor, fund_id)
        statement = statement.where(ExpenseReport.fund_id == fund_id)
    if status is not None:
        statement = statement.where(ExpenseReport.status == status.value)
    order = (
        (ExpenseReport.submitted_at, ExpenseReport.id)
        if status is ReportStatus.SUBMITTED
        # Both descending, so the (…, created_at, id) indexes serve it read backwards.
        else (ExpenseReport.created_at.desc(), ExpenseReport.id.desc())
    )
    page = fetch_page(statement.order_by(*order), request)
    if fund is not None:
        for report in page.items:
            set_committed_value(report, "fund", fund)  # the reports keep their fund for the answer
    return page
