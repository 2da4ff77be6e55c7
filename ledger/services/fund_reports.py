"""Reports on a fund, derived from the budget entries, reports, disbursements and postings.

Nothing here is stored: every figure is summed from the rows that record what happened, so the
reports always agree with the books and the audit trail.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select

from ledger.extensions import db
from ledger.models.books import Posting
from ledger.models.disbursement import Disbursement, DisbursementStatus, Tranche
from ledger.models.expense_report import ExpenseLine, ExpenseReport, ReportStatus
from ledger.models.fund import REVENUE_ACCOUNTS, BudgetEntry, Fund
from ledger.money import Money, percent
from ledger.services.access import Actor
from ledger.services.funds import CASH_ACCOUNTS, categories_of, get_fund


@dataclass(frozen=True)
class CategoryExecution:
    category_code: str
    name_zh: str
    name_en: str
    budget: Money
    revised_budget: Money
    approved: Money
    pending: Money

    @property
    def remaining(self) -> Money:
        return self.revised_budget - self.approved

    @property
    def executedpercent(self) -> str:
        return percent(self.approved.minor, self.revised_budget.minor)


def _spending(
    fund_ids: Collection[uuid.UUID], *statuses: ReportStatus
) -> dict[tuple[uuid.UUID, ReportStatus], dict[str, int]]:
    """Report line totals per fund, status and category, in one grouped query."""
    totals: dict[tuple[uuid.UUID, ReportStatus], dict[str, int]] = defaultdict(dict)
    for fund_id, status, code, total in db.session.execute(
        select(
            ExpenseReport.fund_id,
            ExpenseReport.status,
            ExpenseLine.category_code,
            func.sum(ExpenseLine.amount_minor),
        )
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .where(ExpenseReport.fund_id.in_(fund_ids), ExpenseReport.status.in_([s.value for s in statuses]))
        .group_by(ExpenseReport.fund_id, ExpenseReport.status, ExpenseLine.category_code)
    ):
        totals[fund_id, ReportStatus(status)][code] = int(total)
    return totals


def budget_executions(funds: Sequence[Fund]) -> dict[uuid.UUID, list[CategoryExecution]]:
    """Budget vs actual for each of ``funds`` (already authorised), in three queries however many."""
    if not funds:
        return {}
    fund_ids = [fund.id for fund in funds]
    original: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    revised: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    # The draft budget and every revision since, in one pass over the funds' budget entries.
    for fund_id, code, source, total in db.session.execute(
        select(
            BudgetEntry.fund_id,
            BudgetEntry.category_code,
            BudgetEntry.source,
            func.sum(BudgetEntry.amount_delta_minor),
        )
        .where(BudgetEntry.fund_id.in_(fund_ids))
        .group_by(BudgetEntry.fund_id, BudgetEntry.category_code, BudgetEntry.source)
    ):
        if source == "draft":
            original[fund_id][code] = original[fund_id].get(code, 0) + int(total)
        revised[fund_id][code] = revised[fund_id].get(code, 0) + int(total)
    spending = _spending(fund_ids, ReportStatus.APPROVED, ReportStatus.SUBMITTED)
    names = {version: categories_of(version) for version in {fund.category_list_version for fund in funds}}
    executions: dict[uuid.UUID, list[CategoryExecution]] = {}
    for fund in funds:
        drafted = original[fund.id]
        budget = {code: total for code, total in revised[fund.id].items() if total}
        approved = spending[fund.id, ReportStatus.APPROVED]
        pending = spending[fund.id, ReportStatus.SUBMITTED]
        rows = []
        for code in sorted(set(drafted) | set(budget) | set(approved) | set(pending)):
            category = names[fund.category_list_version].get(code)
            rows.append(
                CategoryExecution(
                    code,
                    category.name_zh if category else code,
                    category.name_en if category else code,
                    Money(fund.currency, drafted.get(code, 0)),
                    Money(fund.currency, budget.get(code, 0)),
                    Money(fund.currency, approved.get(code, 0)),
                    Money(fund.currency, pending.get(code, 0)),
                )
            )
        executions[fund.id] = rows
    return executions


def budget_vs_actual(actor: Actor, fund_id: uuid.UUID) -> tuple[Fund, list[CategoryExecution]]:
    fund = get_fund(actor, fund_id)
    return fund, budget_executions([fund])[fund.id]


@dataclass(frozen=True)
class TranchePayment:
    number: int
    due_date: str
    amount: Money
    paid: Money


@dataclass(frozen=True)
class FundSummary:
    fund: Fund
    awarded: Money
    disbursed: Money
    tranches: list[TranchePayment]
    spent: Money
    refunded: Money
    unspent_cash: Money
    admin_costs: Money
    restricted_received: Money
    restricted_released: Money

    @property
    def admin_costpercent(self) -> str:
        return percent(self.admin_costs.minor, self.awarded.minor)

    @property
    def admin_cost_cappercent(self) -> str | None:
        return None if self.fund.admin_cost_cap_bp is None else f"{self.fund.admin_cost_cap_bp / 100:.2f}"

    @property
    def restricted_net_assets(self) -> Money:
        return self.restricted_received - self.restricted_released


@dataclass(frozen=True)
class _PostingTotals:
    """A fund's figures from its postings, in minor units."""

    cash: int
    restricted_received: int
    restricted_released: int
    refunded: int


def _posting_totals(fund_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, _PostingTotals]:
    """Cash, restricted revenue, releases and refunds per fund, summed in one pass over their postings."""
    debit = case((Posting.side == "debit", Posting.amount_minor), else_=0)
    credit = case((Posting.side == "credit", Posting.amount_minor), else_=0)

    def total(amount: Any, *conditions: Any) -> Any:
        return func.coalesce(func.sum(case((and_(*conditions), amount), else_=0)), 0)

    rows = db.session.execute(
        select(
            Posting.fund_id,
            total(debit - credit, Posting.account_code.in_(CASH_ACCOUNTS)),
            total(
                credit - debit,
                Posting.account_code.in_(REVENUE_ACCOUNTS),
                Posting.restriction == "restricted",
            ),
            total(debit - credit, Posting.account_code == "3102"),
            total(debit, Posting.account_code.in_(REVENUE_ACCOUNTS)),
        )
        .where(Posting.fund_id.in_(fund_ids))
        .group_by(Posting.fund_id)
    )
    return {fund_id: _PostingTotals(*(int(value) for value in figures)) for fund_id, *figures in rows}


def fund_summaries(funds: Sequence[Fund]) -> dict[uuid.UUID, FundSummary]:
    """The summary of each of ``funds`` (already authorised), in five queries however many."""
    if not funds:
        return {}
    fund_ids = [fund.id for fund in funds]
    paid: dict[uuid.UUID, dict[uuid.UUID | None, int]] = defaultdict(dict)
    # Paid disbursements per tranche (None: paid outside the schedule).
    for fund_id, tranche_id, total in db.session.execute(
        select(Disbursement.fund_id, Disbursement.tranche_id, func.sum(Disbursement.amount_minor))
        .where(Disbursement.fund_id.in_(fund_ids), Disbursement.status == DisbursementStatus.PAID.value)
        .group_by(Disbursement.fund_id, Disbursement.tranche_id)
    ):
        paid[fund_id][tranche_id] = int(total)
    schedules: dict[uuid.UUID, list[Tranche]] = defaultdict(list)
    for tranche in db.session.scalars(
        select(Tranche).where(Tranche.fund_id.in_(fund_ids)).order_by(Tranche.fund_id, Tranche.number)
    ):
        schedules[tranche.fund_id].append(tranche)
    spending = _spending(fund_ids, ReportStatus.APPROVED)
    management = {
        version: {code for code, c in categories_of(version).items() if c.functional_class == "management"}
        for version in {fund.category_list_version for fund in funds}
    }
    posted = _posting_totals(fund_ids)
    summaries = {}
    for fund in funds:
        currency = fund.currency
        approved = spending[fund.id, ReportStatus.APPROVED]
        totals = posted.get(fund.id, _PostingTotals(0, 0, 0, 0))
        summaries[fund.id] = FundSummary(
            fund=fund,
            awarded=Money(currency, fund.award_minor),
            disbursed=Money(currency, sum(paid[fund.id].values())),
            tranches=[
                TranchePayment(
                    t.number,
                    t.due_date.isoformat(),
                    Money(currency, t.amount_minor),
                    Money(currency, paid[fund.id].get(t.id, 0)),
                )
                for t in schedules[fund.id]
            ],
            spent=Money(currency, sum(approved.values())),
            refunded=Money(currency, totals.refunded),
            unspent_cash=Money(currency, totals.cash),
            admin_costs=Money(
                currency,
                sum(v for k, v in approved.items() if k in management[fund.category_list_version]),
            ),
            restricted_received=Money(currency, totals.restricted_received),
            restricted_released=Money(currency, totals.restricted_released),
        )
    return summaries


def fund_summary(actor: Actor, fund_id: uuid.UUID) -> FundSummary:
    """Awarded, disbursed by tranche, spent, refunded, unspent; admin costs; restricted net assets."""
    fund = get_fund(actor, fund_id)
    return fund_summaries([fund])[fund.id]
