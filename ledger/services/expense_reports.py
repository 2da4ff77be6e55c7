"""Expense reports: organisations account for what they spent from a fund.

An organisation member files a report as a draft, with lines (category, amount, date incurred,
payee, description, receipt), and submits it; a finance officer approves it, returns it with a
comment (it can be fixed and submitted again) or rejects it. The same checks run at submit and
again at approval, and every problem names its line:

- the fund is active and the category is in its budget and not banned;
- each category stays within its available budget (budget - approved - pending);
- administrative costs stay within the fund's cap (a share of the award);
- the date incurred is within the fund's period and its accounting period is open;
- a receipt (the same SHA-256) is never claimed twice;
- an invoice (the same kind, code and number) is claimed by one line in the whole deployment:
  ``invoice_claim`` holds the claim and its unique constraint refuses a second one, even when two
  requests race; a rejected or voided report releases its claims (docs/invoices.md).

Approval books the spending (Dr the category's expense account, Cr 1002, by fund) and, for a
restricted fund, releases the restriction on as much (``ledger.services.restrictions``). A
finance officer voids an approved report by reversing both; its receipts may then be claimed
again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ledger.errors import Conflict, LedgerError, NotFound, ValidationFailed, listed
from ledger.extensions import db
from ledger.messages import Message, translatable
from ledger.models.base import utcnow
from ledger.models.books import AccountingPeriod, EntrySource, JournalEntry, PeriodStatus, Side
from ledger.models.expense_report import (
    EDITABLE,
    ExpenseLine,
    ExpenseReport,
    InvoiceClaim,
    Receipt,
    ReceiptKind,
    ReportStatus,
)
from ledger.models.fund import Fund, FundStatus
from ledger.money import Money
from ledger.replay.capture import note_rows
from ledger.services import books, requirement_filing
from ledger.services.access import (
    Actor,
    Permission,
    authorize,
    different_person_refusal,
    may,
    visible_organisation_ids,
)
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.fund_figures import (
    admin_cost_cap,
    admin_cost_cap_percent,
    approved_spending,
    within_admin_cap,
)
from ledger.services.funds import budget_of, categories_of, get_fund
from ledger.services.idempotency import claim_key, require_same_request
from ledger.services.invoices import claim_identity, identity_problems, taxpayer_id_problem
from ledger.services.pagination import Page, PageRequest, fetch_page
from ledger.services.restrictions import release_lines, release_reversal_lines

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
    return CreatedReport(report, created=True)


def get_report(actor: Actor, report_id: uuid.UUID) -> ExpenseReport:
    report = db.session.get(ExpenseReport, report_id)
    if report is None:
        authorize(actor, Permission.READ_FUNDS)
        raise NotFound.thing("expense report", report_id)
    authorize(actor, Permission.READ_FUNDS, report.organisation_id)
    return report


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
    if fund_id is not None:
        get_fund(actor, fund_id)
        statement = statement.where(ExpenseReport.fund_id == fund_id)
    if status is not None:
        statement = statement.where(ExpenseReport.status == status.value)
    order = (
        (ExpenseReport.submitted_at, ExpenseReport.id)
        if status is ReportStatus.SUBMITTED
        # Both descending, so the (…, created_at, id) indexes serve it read backwards.
        else (ExpenseReport.created_at.desc(), ExpenseReport.id.desc())
    )
    return fetch_page(statement.order_by(*order), request)


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
    fund = db.session.get(Fund, report.fund_id)
    assert fund is not None
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
            receipt = db.session.get(Receipt, line.receipt_sha256)
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
    try:
        # One savepoint: a claim refused by the unique constraint (another request won the race)
        # leaves nothing of this change behind.
        with db.session.begin_nested():
            _write_lines(report, lines, verified)
    except IntegrityError:
        # The savepoint is rolled back: look again, now seeing the claim that won.
        db.session.expire_all()
        _refuse_claimed(report, lines)
        # No other report holds them: this report's own lines were set by another request meanwhile.
        raise Conflict(
            translatable("The report's lines were changed by another request at the same time; reload it."),
            code="expense_report.changed_meanwhile",
        ) from None
    _touch(report)
    record_state(actor, "expense_report.lines_set", "expense_report", report)
    return report


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
    for claim in db.session.scalars(select(InvoiceClaim).where(InvoiceClaim.report_id == report.id)):
        db.session.delete(claim)
    db.session.flush()
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


def _release_claims(report: ExpenseReport) -> None:
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
    _touch(report)
    record_state(actor, "expense_report.invoice_verified", "expense_report", report)
    return report


def _touch(report: ExpenseReport) -> None:
    """Lines live in their own table; a change to them is a change to the report (a new ETag)."""
    db.session.execute(
        update(ExpenseReport).where(ExpenseReport.id == report.id).values(version=ExpenseReport.version + 1)
    )
    db.session.refresh(report)
    note_rows(db.session, report)  # the statement above bypassed the session: carry the new version


def _category_totals(report: ExpenseReport) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for line in report.lines:
        totals[line.category_code] += line.amount_minor
    return totals


def _pending(fund: Fund, excluding: uuid.UUID) -> dict[str, int]:
    """Other submitted reports' lines per category: budget they will take if approved."""
    rows = db.session.execute(
        select(ExpenseLine.category_code, func.sum(ExpenseLine.amount_minor))
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .where(
            ExpenseReport.fund_id == fund.id,
            ExpenseReport.status == ReportStatus.SUBMITTED.value,
            ExpenseReport.id != excluding,
        )
        .group_by(ExpenseLine.category_code)
    )
    return {code: int(total) for code, total in rows}


def report_problems(report: ExpenseReport, fund: Fund) -> dict[str, list[str]]:
    """Every rule the report breaks, by line."""
    errors: dict[str, list[str]] = defaultdict(list)
    if fund.status != FundStatus.ACTIVE.value:
        errors["fund"].append(translatable("the fund is not active"))
    if not report.lines:
        errors["lines"].append(translatable("a report needs at least one line"))
    categories = categories_of(fund.category_list_version)
    budget = budget_of(fund)
    approved, admin_costs = approved_spending(fund)
    pending = _pending(fund, report.id)
    totals = _category_totals(report)
    seen_receipts: dict[str, int] = {}
    for index, line in enumerate(report.lines):
        where = f"lines.{index}"
        code = line.category_code
        if code not in categories:
            errors[f"{where}.category_code"].append(
                translatable("'%(category)s' is not a standard expense category", category=code)
            )
        elif code in fund.banned_categories:
            errors[f"{where}.category_code"].append(
                translatable("this fund may not be spent on %(category)s", category=code)
            )
        elif code not in budget:
            errors[f"{where}.category_code"].append(
                translatable("%(category)s is not in this fund's budget", category=code)
            )
        if not fund.period_start <= line.incurred_on <= fund.period_end:
            errors[f"{where}.incurred_on"].append(
                translatable(
                    "is outside the fund's period %(start)s..%(end)s",
                    start=fund.period_start.isoformat(),
                    end=fund.period_end.isoformat(),
                )
            )
        elif _period_closed(report.organisation_id, line.incurred_on):
            errors[f"{where}.incurred_on"].append(
                translatable("the period %(period)s is closed", period=f"{line.incurred_on:%Y-%m}")
            )
        if line.receipt_sha256 is None:
            errors[f"{where}.receipt_sha256"].append(translatable("attach the receipt"))
        elif line.receipt_sha256 in seen_receipts:
            errors[f"{where}.receipt_sha256"].append(
                translatable(
                    "the same receipt is on line %(line)s", line=seen_receipts[line.receipt_sha256] + 1
                )
            )
        elif _claimed_elsewhere(line.receipt_sha256, report.id):
            errors[f"{where}.receipt_sha256"].append(
                translatable("this receipt is already claimed on another report")
            )
        if line.receipt_sha256 is not None:
            seen_receipts.setdefault(line.receipt_sha256, index)
    for code, total in sorted(totals.items()):
        if code not in budget:
            continue
        available = budget[code].minor - approved.get(code, 0) - pending.get(code, 0)
        if total > available:
            first = next(i for i, line in enumerate(report.lines) if line.category_code == code)
            errors[f"lines.{first}.amount"].append(
                Message(
                    OVER_BUDGET.msgid,
                    {
                        "category": code,
                        "amount": str(Money(fund.currency, total)),
                        "left": str(Money(fund.currency, max(available, 0))),
                    },
                )
            )
    if fund.admin_cost_cap_bp is not None:
        management = {code for code, c in categories.items() if c.functional_class == "management"}
        admin_total = admin_costs + sum(
            amount
            for spending in (pending, totals)
            for code, amount in spending.items()
            if code in management
        )
        if not within_admin_cap(fund, admin_total):
            errors["lines"].append(
                translatable(
                    "administrative costs would be %(amount)s, over the cap of %(percent)s%% of the award "
                    "(%(cap)s)",
                    amount=Money(fund.currency, admin_total).shown(),
                    percent=admin_cost_cap_percent(fund),
                    cap=Money(fund.currency, admin_cost_cap(fund) or 0).shown(),
                )
            )
    return dict(errors)


def _period_closed(organisation_id: uuid.UUID, on: date) -> bool:
    status = db.session.scalar(
        select(AccountingPeriod.status).where(
            AccountingPeriod.organisation_id == organisation_id,
            AccountingPeriod.year == on.year,
            AccountingPeriod.month == on.month,
        )
    )
    return status == PeriodStatus.CLOSED.value


def _claimed_elsewhere(sha256: str, report_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            select(ExpenseLine.id)
            .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
            .where(
                ExpenseLine.receipt_sha256 == sha256,
                ExpenseReport.id != report_id,
                ExpenseReport.status.not_in([ReportStatus.REJECTED.value, ReportStatus.VOIDED.value]),
            )
            .limit(1)
        )
        is not None
    )


def _problems_refusal(report: ExpenseReport, fund: Fund, what: str) -> ValidationFailed | None:
    errors = report_problems(report, fund)
    if errors:
        over_budget = any(
            getattr(m, "msgid", None) == OVER_BUDGET.msgid for ms in errors.values() for m in ms
        )
        problems = listed(dict(sorted(errors.items())))
        return ValidationFailed(
            (
                translatable("The report cannot be submitted: %(problems)s", problems=problems)
                if what == "submitted"
                else translatable("The report cannot be approved: %(problems)s", problems=problems)
            ),
            errors=errors,
            code="expense_report.over_budget" if over_budget else "expense_report.lines_refused",
        )
    return None


def _lock(actor: Actor, report_id: uuid.UUID, expected_version: int | None) -> tuple[ExpenseReport, Fund]:
    report = get_report(actor, report_id)
    # The fund row is the lock: two reports on one fund are checked against its budget one at a time.
    fund = db.session.scalar(select(Fund).where(Fund.id == report.fund_id).with_for_update())
    assert fund is not None
    db.session.refresh(report)
    check_version(report, expected_version)
    return report, fund


def submission_refusal(report: ExpenseReport, fund: Fund) -> LedgerError | None:
    """Why ``report`` cannot be submitted now (its problems, by line), or None when it can."""
    if report.status not in EDITABLE:
        return Conflict(
            translatable("Only a draft or returned report is submitted; this report is not."),
            code="expense_report.not_editable",
        )
    return _problems_refusal(report, fund, "submitted")


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


OVER_BUDGET = translatable(
    "%(category)s: %(amount)s is more than the %(left)s left in the budget (budget - approved - pending)"
)
"""A line's category would spend more than its budget has left (the code ``expense_report.over_budget``)."""

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
        return _problems_refusal(report, fund, "approved")
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
    _release_claims(report)
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
        _release_claims(report)
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
