"""The rules an expense report is checked against at submission and again at approval.

Every problem names its line:

- the fund is active and the category is in its budget and not banned;
- each category stays within its available budget (budget - approved - pending);
- administrative costs stay within the fund's cap (a share of the award);
- the date incurred is within the fund's period and its accounting period is open;
- a receipt (the same SHA-256) is never claimed twice.

What the rules read from the database is read in one query.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Subquery,
    cast,
    func,
    literal,
    select,
    union_all,
)

from ledger.errors import ValidationFailed, listed
from ledger.extensions import db
from ledger.messages import Message, translatable
from ledger.models.books import AccountingPeriod, PeriodStatus
from ledger.models.expense_report import ExpenseLine, ExpenseReport, ReportStatus
from ledger.models.fund import Fund, FundStatus
from ledger.money import Money
from ledger.services.fund_figures import (
    admin_cost_cap,
    admin_cost_cap_percent,
    approved_spending_from,
    spending_from,
    spending_statement,
    within_admin_cap,
)
from ledger.services.funds import budget_from, budget_statement, categories_of

OVER_BUDGET = translatable(
    "%(category)s: %(amount)s is more than the %(left)s left in the budget (budget - approved - pending)"
)
"""A line's category would spend more than its budget has left (the code ``expense_report.over_budget``)."""


def _category_totals(report: ExpenseReport) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for line in report.lines:
        totals[line.category_code] += line.amount_minor
    return totals


@dataclass(frozen=True)
class _CheckFigures:
    """What the checks of a report read from the database, read in one round trip."""

    budget: dict[str, Money]
    approved: dict[str, int]
    admin_costs: int
    pending: dict[str, int]
    """Other submitted reports' lines per category: budget they will take if approved."""
    closed_months: set[tuple[int, int]]
    """The (year, month) of the report's lines whose accounting period is closed."""
    claimed_receipts: set[str]
    """The receipts of the report's lines that a line of another report still counting claims."""


def _figures_for_checks(report: ExpenseReport, fund: Fund) -> _CheckFigures:
    """The budget, approved and pending spending, closed months and claimed receipts, in one query.

    Each part is its own query (the budget and approved spending are the ones ``budget_of`` and
    ``approved_spending`` read), sent together as one UNION ALL of (part, key, first, second) rows:
    a submission or approval then waits for the database once, not five times.
    """
    parts: list[Select[str, str, int, int]] = [
        _part("budget", budget_statement(fund), lambda q: (q.c[0], q.c[1], literal(0))),
        _part("spent", spending_statement([fund.id], None), lambda q: (q.c[1], q.c[2], q.c[3])),
        _part("pending", _pending_statement(fund, report.id), lambda q: (q.c[0], q.c[1], literal(0))),
    ]
    months = {(line.incurred_on.year, line.incurred_on.month) for line in report.lines}
    if months:
        closed = select(AccountingPeriod.year, AccountingPeriod.month).where(
            AccountingPeriod.organisation_id == report.organisation_id,
            AccountingPeriod.year.in_({year for year, _ in months}),
            AccountingPeriod.status == PeriodStatus.CLOSED.value,
        )
        parts.append(_part("closed", closed, lambda q: (literal(""), q.c[0], q.c[1])))
    receipts = {line.receipt_sha256 for line in report.lines if line.receipt_sha256 is not None}
    if receipts:
        claimed = (
            select(ExpenseLine.receipt_sha256)
            .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
            .where(
                ExpenseLine.receipt_sha256.in_(receipts),
                ExpenseReport.id != report.id,
                ExpenseReport.status.not_in([ReportStatus.REJECTED.value, ReportStatus.VOIDED.value]),
            )
            .distinct()
        )
        parts.append(_part("claimed", claimed, lambda q: (q.c[0], literal(0), literal(0))))
    rows: dict[str, list[tuple[str, int | None, int | None]]] = defaultdict(list)
    for part, key, first, second in db.session.execute(union_all(*parts)):
        rows[part].append((key, first, second))
    approved, admin_costs = approved_spending_from(
        fund, spending_from((fund.id, key, first, second) for key, first, second in rows["spent"])
    )
    return _CheckFigures(
        budget=budget_from(fund, sorted((key, int(first or 0)) for key, first, _ in rows["budget"])),
        approved=approved,
        admin_costs=admin_costs,
        pending={key: int(first or 0) for key, first, _ in rows["pending"]},
        closed_months={(int(year or 0), int(month or 0)) for _, year, month in rows["closed"]} & months,
        claimed_receipts={key for key, _, _ in rows["claimed"]},
    )


def _part(
    name: str,
    statement: Select[*tuple[Any, ...]],
    columns: Callable[[Subquery], tuple[ColumnElement[Any], ...]],
) -> Select[str, str, int, int]:
    """One query of :func:`_figures_for_checks` as (part, key, first, second) rows."""
    inner = statement.subquery()
    key, first, second = columns(inner)
    return select(
        literal(name).label("part"),
        cast(key, String).label("key"),
        cast(first, BigInteger).label("first"),
        cast(second, BigInteger).label("second"),
    ).select_from(inner)


def _pending_statement(fund: Fund, excluding: uuid.UUID) -> Select[str, int]:
    """Other submitted reports' lines per category."""
    return (
        select(ExpenseLine.category_code, func.sum(ExpenseLine.amount_minor))
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .where(
            ExpenseReport.fund_id == fund.id,
            ExpenseReport.status == ReportStatus.SUBMITTED.value,
            ExpenseReport.id != excluding,
        )
        .group_by(ExpenseLine.category_code)
    )


def report_problems(report: ExpenseReport, fund: Fund) -> dict[str, list[str]]:
    """Every rule the report breaks, by line."""
    errors: dict[str, list[str]] = defaultdict(list)
    if fund.status != FundStatus.ACTIVE.value:
        errors["fund"].append(translatable("the fund is not active"))
    if not report.lines:
        errors["lines"].append(translatable("a report needs at least one line"))
    categories = categories_of(fund.category_list_version)
    figures = _figures_for_checks(report, fund)
    budget, approved, admin_costs, pending = (
        figures.budget,
        figures.approved,
        figures.admin_costs,
        figures.pending,
    )
    closed, claimed = figures.closed_months, figures.claimed_receipts
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
        elif (line.incurred_on.year, line.incurred_on.month) in closed:
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
        elif line.receipt_sha256 in claimed:
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


def problems_refusal(report: ExpenseReport, fund: Fund, what: str) -> ValidationFailed | None:
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
