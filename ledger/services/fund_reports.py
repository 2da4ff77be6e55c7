"""Reports on a fund, derived from the budget entries, reports, disbursements and postings.

Nothing here is stored: every figure is summed from the rows that record what happened, so the
reports always agree with the books and the audit trail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import case, func, select

from ledger.extensions import db
from ledger.models.books import Posting
from ledger.models.disbursement import Disbursement, DisbursementStatus, Tranche
from ledger.models.expense_report import ExpenseLine, ExpenseReport, ReportStatus
from ledger.models.fund import BudgetEntry, Fund
from ledger.models.reference import ExpenseCategory
from ledger.money import Money, percent
from ledger.services.access import Actor
from ledger.services.funds import budget_of, categories_of, get_fund, unspent_cash


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


def _spending(fund: Fund, status: ReportStatus) -> dict[str, int]:
    rows = db.session.execute(
        select(ExpenseLine.category_code, func.sum(ExpenseLine.amount_minor))
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .where(ExpenseReport.fund_id == fund.id, ExpenseReport.status == status.value)
        .group_by(ExpenseLine.category_code)
    )
    return {code: int(total) for code, total in rows}


def budget_vs_actual(actor: Actor, fund_id: uuid.UUID) -> tuple[Fund, list[CategoryExecution]]:
    fund = get_fund(actor, fund_id)
    original = {
        code: int(total)
        for code, total in db.session.execute(
            select(BudgetEntry.category_code, func.sum(BudgetEntry.amount_delta_minor))
            .where(BudgetEntry.fund_id == fund.id, BudgetEntry.source == "draft")
            .group_by(BudgetEntry.category_code)
        )
    }
    revised = {code: money.minor for code, money in budget_of(fund).items()}
    approved, pending = _spending(fund, ReportStatus.APPROVED), _spending(fund, ReportStatus.SUBMITTED)
    names = categories_of(fund.category_list_version)
    rows = []
    for code in sorted(set(original) | set(revised) | set(approved) | set(pending)):
        category = names.get(code)
        rows.append(
            CategoryExecution(
                code,
                category.name_zh if category else code,
                category.name_en if category else code,
                Money(fund.currency, original.get(code, 0)),
                Money(fund.currency, revised.get(code, 0)),
                Money(fund.currency, approved.get(code, 0)),
                Money(fund.currency, pending.get(code, 0)),
            )
        )
    return fund, rows


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


def fund_summary(actor: Actor, fund_id: uuid.UUID) -> FundSummary:
    """Awarded, disbursed by tranche, spent, refunded, unspent; admin costs; restricted net assets."""
    fund = get_fund(actor, fund_id)
    currency = fund.currency
    paid = DisbursementStatus.PAID.value
    tranches = [
        TranchePayment(
            t.number,
            t.due_date.isoformat(),
            Money(currency, t.amount_minor),
            Money(
                currency,
                int(
                    db.session.scalar(
                        select(func.coalesce(func.sum(Disbursement.amount_minor), 0)).where(
                            Disbursement.tranche_id == t.id, Disbursement.status == paid
                        )
                    )
                    or 0
                ),
            ),
        )
        for t in db.session.scalars(
            select(Tranche).where(Tranche.fund_id == fund.id).order_by(Tranche.number)
        )
    ]
    disbursed = int(
        db.session.scalar(
            select(func.coalesce(func.sum(Disbursement.amount_minor), 0)).where(
                Disbursement.fund_id == fund.id, Disbursement.status == paid
            )
        )
        or 0
    )
    approved = _spending(fund, ReportStatus.APPROVED)
    management = set(
        db.session.scalars(
            select(ExpenseCategory.code).where(
                ExpenseCategory.list_version == fund.category_list_version,
                ExpenseCategory.functional_class == "management",
            )
        )
    )
    signed = case((Posting.side == "credit", Posting.amount_minor), else_=-Posting.amount_minor)
    restricted_received = int(
        db.session.scalar(
            select(func.coalesce(func.sum(signed), 0)).where(
                Posting.fund_id == fund.id,
                Posting.account_code.in_(("4101", "4301", "4401")),
                Posting.restriction == "restricted",
            )
        )
        or 0
    )
    released = int(
        db.session.scalar(
            select(func.coalesce(func.sum(-signed), 0)).where(
                Posting.fund_id == fund.id, Posting.account_code == "3102"
            )
        )
        or 0
    )
    refunded = int(
        db.session.scalar(
            select(func.coalesce(func.sum(Posting.amount_minor), 0)).where(
                Posting.fund_id == fund.id,
                Posting.account_code.in_(("4101", "4301", "4401")),
                Posting.side == "debit",
            )
        )
        or 0
    )
    return FundSummary(
        fund=fund,
        awarded=Money(currency, fund.award_minor),
        disbursed=Money(currency, disbursed),
        tranches=tranches,
        spent=Money(currency, sum(approved.values())),
        refunded=Money(currency, refunded),
        unspent_cash=unspent_cash(fund),
        admin_costs=Money(currency, sum(v for k, v in approved.items() if k in management)),
        restricted_received=Money(currency, restricted_received),
        restricted_released=Money(currency, released),
    )
