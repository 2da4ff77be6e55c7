"""The fund-use statement (资金使用情况表): what a fund received and spent in a period.

Funders ask every recipient for this statement: the fund's basics, the award and the tranches
received, spending per budget category (budget, revised budget, this period, cumulative,
remaining, % executed), the admin-cost ratio against the cap, the unspent balance and where it
is held, and every approved expense report with its vouchers. Every figure is summed from the
books through ``ledger.services.fund_figures`` (the one definition of received, spent, refunded,
unspent and held in bank): an expense report counts in the period its approval is booked in
(and leaves it when a void is booked), a tranche in the period it was paid; the budget is the
one in force at the period's end (the agreed budget from the fund's first day).

The result is a plain dict of strings and numbers (amounts as decimal strings, no ORM objects),
the same dict the API returns as JSON and the PDF embeds as its attachment.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from ledger.extensions import db
from ledger.models.books import JournalEntry
from ledger.models.disbursement import Tranche
from ledger.models.expense_report import ExpenseLine, ExpenseReport, ReportStatus
from ledger.models.fund import BudgetEntry, Fund
from ledger.models.organisation import Organisation
from ledger.money import Money, percent
from ledger.services.disbursements import paid_disbursements
from ledger.services.fund_figures import (
    FundFigures,
    admin_cost_cap_percent,
    admin_cost_percent,
    figures_of,
    within_admin_cap,
)
from ledger.services.funds import budget_in_force, categories_of
from ledger.services.organisations import filing_figures
from ledger.statements.period import StatementPeriod


def fund_use_figures(fund: Fund, period: StatementPeriod) -> dict[str, Any]:
    """The fund-use statement of ``fund`` for ``period`` (the caller has checked access)."""
    currency = fund.currency

    def money(minor: int) -> str:
        return str(Money(currency, minor))

    organisation = db.session.get(Organisation, fund.organisation_id)
    assert organisation is not None  # a fund's organisation is a foreign key
    cumulative = figures_of(fund, period.end)
    this_period = cumulative.minus(figures_of(fund, period.start - timedelta(days=1)))
    categories = _category_rows(fund, period, cumulative, this_period, money)
    tranches = _tranches(fund, period, money)
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
            **({} if organisation.credit_code else {"recipient_filing": filing_figures(organisation)}),
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
        "received": {"this_period": money(this_period.received), "cumulative": money(cumulative.received)},
        "tranches": tranches,
        "categories": categories,
        "spending": {
            "this_period": money(this_period.spent),
            "cumulative": money(cumulative.spent),
            "budget": money(sum(Money.parse(c["revised_budget"], currency).minor for c in categories)),
        },
        # The cap is a share of the award, and so is the figure: the rule submission enforces.
        "admin_costs": {
            "cumulative": money(cumulative.admin_costs),
            "percent": admin_cost_percent(cumulative.admin_costs, fund.award_minor),
            "cap_percent": admin_cost_cap_percent(fund),
            "within_cap": within_admin_cap(fund, cumulative.admin_costs),
        },
        # received − spent − refunded = balance; balance + other_cash = held_in_bank.
        "unspent": {
            "received": money(cumulative.received),
            "spent": money(cumulative.spent),
            "refunded": money(cumulative.refunded),
            "balance": money(cumulative.unspent),
            "other_cash": money(cumulative.other_cash),
            "held_in_bank": money(cumulative.held_in_bank),
        },
        "restricted_net_assets": money(cumulative.restricted_net_assets),
        "vouchers": _vouchers(fund, period),
    }


def _category_rows(
    fund: Fund, period: StatementPeriod, cumulative: FundFigures, this_period: FundFigures, money: Any
) -> list[dict[str, Any]]:
    """Budget (agreed and revised, as in force at the period's end) against spending, per category."""
    budget_rows = db.session.execute(
        select(
            BudgetEntry.category_code,
            func.sum(case((BudgetEntry.source == "draft", BudgetEntry.amount_delta_minor), else_=0)),
            func.sum(BudgetEntry.amount_delta_minor),
        )
        .where(BudgetEntry.fund_id == fund.id, budget_in_force(fund, period.end))
        .group_by(BudgetEntry.category_code)
    ).all()
    budgets = {code: (int(original or 0), int(revised or 0)) for code, original, revised in budget_rows}
    names = categories_of(fund.category_list_version)
    rows = []
    for code in sorted(set(budgets) | set(cumulative.spent_by_category) | set(this_period.spent_by_category)):
        original, revised = budgets.get(code, (0, 0))
        spent = cumulative.spent_by_category.get(code, 0)
        if not (original or revised or spent):
            continue
        category = names.get(code)
        rows.append(
            {
                "code": code,
                "name_zh": category.name_zh if category else code,
                "name_en": category.name_en if category else code,
                "budget": money(original),
                "revised_budget": money(revised),
                "this_period": money(this_period.spent_by_category.get(code, 0)),
                "cumulative": money(spent),
                "remaining": money(revised - spent),
                "executed_percent": percent(spent, revised),
            }
        )
    return rows


def _tranches(fund: Fund, period: StatementPeriod, money: Any) -> list[dict[str, Any]]:
    """The payments received by the period's end; one the bank returned says when."""
    numbers = {t.id: t.number for t in db.session.scalars(select(Tranche).where(Tranche.fund_id == fund.id))}
    payments = []
    for disbursement in paid_disbursements(fund.id, period.end, with_returned=True):
        assert disbursement.paid_on is not None  # paid ones have their date
        returned = (
            disbursement.reversed_on
            if disbursement.reversed_on and disbursement.reversed_on <= period.end
            else None
        )
        payments.append(
            {
                "tranche": numbers.get(disbursement.tranche_id) if disbursement.tranche_id else None,
                "kind": disbursement.kind,
                "paid_on": disbursement.paid_on.isoformat(),
                "bank_reference": disbursement.bank_reference,
                "amount": money(disbursement.amount_minor),
                "in_period": disbursement.paid_on >= period.start,
                "returned_on": returned.isoformat() if returned else None,
            }
        )
    return payments


def _vouchers(fund: Fund, period: StatementPeriod) -> list[dict[str, Any]]:
    """Every line of the reports whose approval was booked in the period, by book date, report and line.

    A report voided by the period's end says when (its void counts against the period it is
    booked in).
    """
    void = aliased(JournalEntry)
    rows = db.session.execute(
        select(ExpenseReport, ExpenseLine, JournalEntry.entry_date, JournalEntry.id, void.entry_date)
        .join(ExpenseLine, ExpenseLine.report_id == ExpenseReport.id)
        .join(JournalEntry, JournalEntry.id == ExpenseReport.journal_entry_id)
        .outerjoin(void, void.reverses_id == JournalEntry.id)
        .where(
            ExpenseReport.fund_id == fund.id,
            ExpenseReport.status.in_([ReportStatus.APPROVED.value, ReportStatus.VOIDED.value]),
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
            "voided_on": voided_on.isoformat() if voided_on and voided_on <= period.end else None,
        }
        for report, line, day, entry_id, voided_on in rows
    ]
