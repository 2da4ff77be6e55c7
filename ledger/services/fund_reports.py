"""Reports on a fund, derived from the budget entries, reports, disbursements and postings.

Nothing here is stored, and nothing here defines a figure: the money comes from
``ledger.services.fund_figures`` (the one definition of each), the budget from its entries.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from ledger.extensions import db
from ledger.models.disbursement import Disbursement, DisbursementStatus, Tranche
from ledger.models.expense_report import ExpenseLine, ExpenseReport, ReportStatus
from ledger.models.fund import BudgetEntry, Fund
from ledger.money import Money, percent
from ledger.services.access import Actor
from ledger.services.fund_figures import (
    FundFigures,
    admin_cost_cap_percent,
    admin_cost_percent,
    fund_figures,
    within_admin_cap,
)
from ledger.services.funds import categories_of, get_fund


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
    def executed_percent(self) -> str:
        return percent(self.approved.minor, self.revised_budget.minor)


def pending_spending(fund_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """Lines of submitted reports (waiting for a decision) per fund and category, in one query."""
    totals: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for fund_id, code, total in db.session.execute(
        select(ExpenseReport.fund_id, ExpenseLine.category_code, func.sum(ExpenseLine.amount_minor))
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .where(ExpenseReport.fund_id.in_(fund_ids), ExpenseReport.status == ReportStatus.SUBMITTED.value)
        .group_by(ExpenseReport.fund_id, ExpenseLine.category_code)
    ):
        totals[fund_id][code] = int(total)
    return totals


@dataclass(frozen=True)
class _Spending:
    """What both reports read: the funds' figures and their pending spending per category."""

    figures: dict[uuid.UUID, FundFigures]
    pending: dict[uuid.UUID, dict[str, int]]

    @classmethod
    def of(cls, funds: Sequence[Fund]) -> _Spending:
        return cls(fund_figures(funds), pending_spending([fund.id for fund in funds]))


def budget_executions(
    funds: Sequence[Fund], spending: _Spending | None = None
) -> dict[uuid.UUID, list[CategoryExecution]]:
    """Budget vs actual for each of ``funds`` (already authorised), in four queries however many."""
    if not funds:
        return {}
    spending = spending or _Spending.of(funds)
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
    names = {version: categories_of(version) for version in {fund.category_list_version for fund in funds}}
    executions: dict[uuid.UUID, list[CategoryExecution]] = {}
    for fund in funds:
        drafted = original[fund.id]
        budget = {code: total for code, total in revised[fund.id].items() if total}
        approved = spending.figures[fund.id].spent_by_category
        pending = spending.pending[fund.id]
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
    """What the API, the pages and the dashboard say about a fund: ``FundFigures`` as money."""

    fund: Fund
    figures: FundFigures
    tranches: list[TranchePayment]
    pending: Money

    def _money(self, minor: int) -> Money:
        return Money(self.fund.currency, minor)

    @property
    def awarded(self) -> Money:
        return self._money(self.fund.award_minor)

    @property
    def disbursed(self) -> Money:
        return self._money(self.figures.received)

    @property
    def spent(self) -> Money:
        return self._money(self.figures.spent)

    @property
    def refunded(self) -> Money:
        return self._money(self.figures.refunded)

    @property
    def unspent(self) -> Money:
        return self._money(self.figures.unspent)

    @property
    def unspent_cash(self) -> Money:
        return self._money(self.figures.held_in_bank)

    @property
    def admin_costs(self) -> Money:
        return self._money(self.figures.admin_costs)

    @property
    def admin_cost_percent(self) -> str:
        return admin_cost_percent(self.figures.admin_costs, self.fund.award_minor)

    @property
    def admin_cost_cap_percent(self) -> str | None:
        return admin_cost_cap_percent(self.fund)

    @property
    def admin_cost_within_cap(self) -> bool:
        return within_admin_cap(self.fund, self.figures.admin_costs)

    @property
    def restricted_received(self) -> Money:
        return self._money(self.figures.restricted_received)

    @property
    def restricted_released(self) -> Money:
        return self._money(self.figures.restricted_released)

    @property
    def restricted_net_assets(self) -> Money:
        return self._money(self.figures.restricted_net_assets)


def fund_summaries(funds: Sequence[Fund], spending: _Spending | None = None) -> dict[uuid.UUID, FundSummary]:
    """The summary of each of ``funds`` (already authorised), in a fixed number of queries."""
    if not funds:
        return {}
    spending = spending or _Spending.of(funds)
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
    return {
        fund.id: FundSummary(
            fund=fund,
            figures=spending.figures[fund.id],
            tranches=[
                TranchePayment(
                    t.number,
                    t.due_date.isoformat(),
                    Money(fund.currency, t.amount_minor),
                    Money(fund.currency, paid[fund.id].get(t.id, 0)),
                )
                for t in schedules[fund.id]
            ],
            pending=Money(fund.currency, sum(spending.pending[fund.id].values())),
        )
        for fund in funds
    }


def fund_cards(
    funds: Sequence[Fund],
) -> tuple[dict[uuid.UUID, FundSummary], dict[uuid.UUID, list[CategoryExecution]]]:
    """Both reports of each of ``funds`` (the dashboard's cards), reading the money once."""
    spending = _Spending.of(funds)
    return fund_summaries(funds, spending), budget_executions(funds, spending)


def fund_summary(actor: Actor, fund_id: uuid.UUID) -> FundSummary:
    """Awarded, disbursed by tranche, spent, refunded, unspent; admin costs; restricted net assets."""
    fund = get_fund(actor, fund_id)
    return fund_summaries([fund])[fund.id]
