"""The fund-use statement (资金使用情况表): what a fund received and spent in a period.

Funders ask every recipient for this statement: the fund's basics, the award and the tranches
received, spending per budget category (budget, revised budget, this period, cumulative,
remaining, % executed), the admin-cost ratio against the cap, the unspent balance and where it
is held, and every approved expense report with its vouchers. Every figure is summed from the
books: an expense report counts in the period its journal entry is dated in, a tranche in the
period it was paid, the unspent balance is the fund's bank-deposit postings (1002).

The result is a plain dict of strings and numbers (amounts as decimal strings, no ORM objects),
the same dict the API returns as JSON and the PDF embeds as its attachment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select

from ledger.extensions import db
from ledger.models.books import JournalEntry, Posting
from ledger.models.disbursement import Tranche
from ledger.models.expense_report import ExpenseLine, ExpenseReport, ReportStatus
from ledger.models.fund import BudgetEntry, Fund
from ledger.models.organisation import Organisation
from ledger.money import Money, percent
from ledger.services.disbursements import paid_disbursements
from ledger.services.funds import categories_of
from ledger.statements.period import StatementPeriod


def fund_use_figures(fund: Fund, period: StatementPeriod) -> dict[str, Any]:
    """The fund-use statement of ``fund`` for ``period`` (the caller has checked access)."""
    currency = fund.currency

    def money(minor: int) -> str:
        return str(Money(currency, minor))

    organisation = db.session.get(Organisation, fund.organisation_id)
    assert organisation is not None  # a fund's organisation is a foreign key
    vouchers = _vouchers(fund, period)
    spending = _spending_by_category(fund, period)
    categories = _category_rows(fund, period, spending, money)
    this_period = sum(s[0] for s in spending.values())
    cumulative = sum(s[1] for s in spending.values())
    management = {c["code"] for c in categories if c["functional_class"] == "management"}
    admin_costs = sum(spending.get(code, (0, 0))[1] for code in management)
    received_period, received_cumulative, tranches = _tranches(fund, period, money)
    refunded = _refunded(fund, period.end)
    cash = _fund_cash(fund, period.end)
    return {
        "statement": "fund_use",
        "fund": {
            "id": str(fund.id),
            "kind": fund.kind,
            "title": fund.title,
            "reference": fund.reference,
            "funder": fund.funder_name,
            "funder_credit_code": fund.funder_credit_code,
            "recipient": organisation.name,
            "recipient_credit_code": organisation.credit_code,
            "period_start": fund.period_start.isoformat(),
            "period_end": fund.period_end.isoformat(),
            "restricted": fund.restricted,
            "restriction_purpose": fund.restriction_purpose,
            "status": fund.status,
            "lottery_label": fund.kind == "lottery_grant",
        },
        "currency": currency,
        "period": period.as_dict(),
        "award": money(fund.award_minor),
        "received": {"this_period": money(received_period), "cumulative": money(received_cumulative)},
        "tranches": tranches,
        "categories": [{k: v for k, v in c.items() if k != "functional_class"} for c in categories],
        "spending": {
            "this_period": money(this_period),
            "cumulative": money(cumulative),
            "budget": money(sum(int(Money.parse(c["revised_budget"], currency).minor) for c in categories)),
        },
        "admin_costs": {
            "cumulative": money(admin_costs),
            "percent": percent(admin_costs, cumulative),
            "cap_percent": None if fund.admin_cost_cap_bp is None else f"{fund.admin_cost_cap_bp / 100:.2f}",
            "within_cap": fund.admin_cost_cap_bp is None
            or admin_costs * 10_000 <= fund.admin_cost_cap_bp * cumulative,
        },
        "unspent": {
            "balance": money(received_cumulative - cumulative - refunded),
            "refunded": money(refunded),
            "held_in_bank": money(cash),
        },
        "vouchers": vouchers,
    }


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _spending_by_category(fund: Fund, period: StatementPeriod) -> dict[str, tuple[int, int]]:
    """category -> (this period, cumulative to the period's end), of approved reports, by book date."""
    in_period = case((JournalEntry.entry_date >= period.start, ExpenseLine.amount_minor), else_=0)
    rows = db.session.execute(
        select(ExpenseLine.category_code, func.sum(in_period), func.sum(ExpenseLine.amount_minor))
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .join(JournalEntry, JournalEntry.id == ExpenseReport.journal_entry_id)
        .where(
            ExpenseReport.fund_id == fund.id,
            ExpenseReport.status == ReportStatus.APPROVED.value,
            JournalEntry.entry_date <= period.end,
        )
        .group_by(ExpenseLine.category_code)
    )
    return {code: (int(this or 0), int(total or 0)) for code, this, total in rows}


def _category_rows(
    fund: Fund, period: StatementPeriod, spending: dict[str, tuple[int, int]], money: Any
) -> list[dict[str, Any]]:
    budget_rows = db.session.execute(
        select(
            BudgetEntry.category_code,
            func.sum(case((BudgetEntry.source == "draft", BudgetEntry.amount_delta_minor), else_=0)),
            func.sum(BudgetEntry.amount_delta_minor),
        )
        .where(BudgetEntry.fund_id == fund.id, BudgetEntry.effective_at < _end_of(period.end))
        .group_by(BudgetEntry.category_code)
    ).all()
    budgets = {code: (int(original or 0), int(revised or 0)) for code, original, revised in budget_rows}
    names = categories_of(fund.category_list_version)
    rows = []
    for code in sorted(set(budgets) | set(spending)):
        original, revised = budgets.get(code, (0, 0))
        this, cumulative = spending.get(code, (0, 0))
        if not (original or revised or cumulative):
            continue
        category = names.get(code)
        rows.append(
            {
                "code": code,
                "name_zh": category.name_zh if category else code,
                "name_en": category.name_en if category else code,
                "functional_class": category.functional_class if category else "program",
                "budget": money(original),
                "revised_budget": money(revised),
                "this_period": money(this),
                "cumulative": money(cumulative),
                "remaining": money(revised - cumulative),
                "executed_percent": percent(cumulative, revised),
            }
        )
    return rows


def _tranches(fund: Fund, period: StatementPeriod, money: Any) -> tuple[int, int, list[dict[str, Any]]]:
    numbers = {t.id: t.number for t in db.session.scalars(select(Tranche).where(Tranche.fund_id == fund.id))}
    received_period = received_cumulative = 0
    payments = []
    for disbursement in paid_disbursements(fund.id, period.end):
        assert disbursement.paid_on is not None  # paid ones have their date
        received_cumulative += disbursement.amount_minor
        if disbursement.paid_on >= period.start:
            received_period += disbursement.amount_minor
        payments.append(
            {
                "tranche": numbers.get(disbursement.tranche_id) if disbursement.tranche_id else None,
                "kind": disbursement.kind,
                "paid_on": disbursement.paid_on.isoformat(),
                "bank_reference": disbursement.bank_reference,
                "amount": money(disbursement.amount_minor),
                "in_period": disbursement.paid_on >= period.start,
            }
        )
    return received_period, received_cumulative, payments


def _refunded(fund: Fund, end: date) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Posting.amount_minor), 0)).where(
                Posting.fund_id == fund.id,
                Posting.account_code == fund.revenue_account,
                Posting.side == "debit",
                Posting.entry_date <= end,
            )
        )
        or 0
    )


def _fund_cash(fund: Fund, end: date) -> int:
    signed = case((Posting.side == "debit", Posting.amount_minor), else_=-Posting.amount_minor)
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(signed), 0)).where(
                Posting.fund_id == fund.id, Posting.account_code == "1002", Posting.entry_date <= end
            )
        )
        or 0
    )


def _vouchers(fund: Fund, period: StatementPeriod) -> list[dict[str, Any]]:
    """Every line of the approved reports booked in the period, by book date, report and line."""
    rows = db.session.execute(
        select(ExpenseReport, ExpenseLine, JournalEntry.entry_date, JournalEntry.id)
        .join(ExpenseLine, ExpenseLine.report_id == ExpenseReport.id)
        .join(JournalEntry, JournalEntry.id == ExpenseReport.journal_entry_id)
        .where(
            ExpenseReport.fund_id == fund.id,
            ExpenseReport.status == ReportStatus.APPROVED.value,
            JournalEntry.entry_date.between(period.start, period.end),
        )
        .order_by(JournalEntry.entry_date, ExpenseReport.title, ExpenseReport.id, ExpenseLine.number)
    ).all()
    names = categories_of(fund.category_list_version)
    return [
        {
            "booked_on": day.isoformat(),
            "report": report.title,
            "report_id": str(report.id),
            "voucher": str(entry_id)[:8],
            "line": line.number,
            "category": line.category_code,
            "category_zh": names[line.category_code].name_zh
            if line.category_code in names
            else line.category_code,
            "category_en": names[line.category_code].name_en
            if line.category_code in names
            else line.category_code,
            "incurred_on": line.incurred_on.isoformat(),
            "payee": line.payee,
            "description": line.description,
            "amount": str(Money(fund.currency, line.amount_minor)),
            "receipt": line.receipt_sha256[:12] if line.receipt_sha256 else None,
        }
        for report, line, day, entry_id in rows
    ]
