"""One definition of each figure of a fund, summed from the books as of a date.

Everything that shows a fund's money (the fund summary and budget vs actual of the API and the
pages, the fund-use statement, the lottery disclosure, the open-data exports) calls
:func:`fund_figures` and reads the figure it needs; nothing else sums postings or report lines
into these figures. (Beancount keeps the same discipline with ``realize()``.)

Each figure is defined by the event that booked it, read from the journal entry's ``source``; a
reversal counts against the event it reverses, on the reversal's own date:

* **received**: cash in from paid disbursements (Dr cash, ``disbursement_paid``), less payments
  the bank returned;
* **spent**: approved spending, the lines of approved expense reports counted on the date their
  approval was booked, less voided reports on the date the void was booked (so
  ``spent_by_category`` adds up to ``spent``, and both match the expense postings);
* **refunded**: cash returned to the funder (Cr cash, ``refund``), less refunds the bank
  returned;
* **held_in_bank**: the fund's balance on the cash accounts, whatever booked it; it equals
  received − spent − refunded unless a finance officer adjusted the fund's cash by hand, which
  ``other_cash`` shows;
* **admin_costs**: spending on categories of the management class;
* **restricted_received**: restricted revenue booked on payment;
* **restricted_released**: restrictions met by spending (``restricted_release``: Dr revenue
  restricted / Cr revenue unrestricted in the year the revenue was recognised, Dr 3102 / Cr 3101
  for net assets carried from an earlier year);
* **restricted_net_assets**: what is still restricted: restricted revenue and 3102, credit
  minus debit, over every posting of the fund (year-end closing moves it from one to the other
  without changing the sum).

Figures for a period are the difference of the figures at its end and the day before it starts
(:meth:`FundFigures.minus`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import aliased

from ledger.cash_flow import CASH_ACCOUNTS
from ledger.extensions import db
from ledger.models.books import EntrySource, JournalEntry, Posting, Side
from ledger.models.expense_report import ExpenseLine, ExpenseReport
from ledger.models.fund import Fund
from ledger.money import percent
from ledger.services.books import RESTRICTED_NET_ASSETS
from ledger.services.funds import categories_of
from ledger.services.posting_events import POSTING_EVENT, with_events


@dataclass(frozen=True)
class FundFigures:
    """A fund's figures in minor units of its currency, as of a date (or over a period)."""

    received: int = 0
    spent: int = 0
    refunded: int = 0
    held_in_bank: int = 0
    admin_costs: int = 0
    restricted_received: int = 0
    restricted_released: int = 0
    restricted_net_assets: int = 0
    spent_by_category: Mapping[str, int] = field(default_factory=dict)

    @property
    def unspent(self) -> int:
        """What the fund received and has neither spent nor refunded."""
        return self.received - self.spent - self.refunded

    @property
    def other_cash(self) -> int:
        """The fund's cash moved by a finance officer's adjustments, not by its events."""
        return self.held_in_bank - self.unspent

    def minus(self, earlier: FundFigures) -> FundFigures:
        """The movement between ``earlier`` and these figures: a period's figures."""
        codes = set(self.spent_by_category) | set(earlier.spent_by_category)
        return FundFigures(
            received=self.received - earlier.received,
            spent=self.spent - earlier.spent,
            refunded=self.refunded - earlier.refunded,
            held_in_bank=self.held_in_bank - earlier.held_in_bank,
            admin_costs=self.admin_costs - earlier.admin_costs,
            restricted_received=self.restricted_received - earlier.restricted_received,
            restricted_released=self.restricted_released - earlier.restricted_released,
            restricted_net_assets=self.restricted_net_assets - earlier.restricted_net_assets,
            spent_by_category={
                code: self.spent_by_category.get(code, 0) - earlier.spent_by_category.get(code, 0)
                for code in sorted(codes)
            },
        )


def admin_cost_percent(admin_costs: int, award: int) -> str:
    """Administrative costs as a share of the award: the base the fund's cap is set on."""
    return percent(admin_costs, award)


def admin_cost_cap(fund: Fund) -> int | None:
    """The most a fund may spend on administration, in minor units (None: no cap)."""
    if fund.admin_cost_cap_bp is None:
        return None
    return int((Decimal(fund.award_minor) * fund.admin_cost_cap_bp / 10000).to_integral_value())


def admin_cost_cap_percent(fund: Fund) -> str | None:
    return None if fund.admin_cost_cap_bp is None else f"{fund.admin_cost_cap_bp / 100:.2f}"


def within_admin_cap(fund: Fund, admin_costs: int) -> bool:
    cap = admin_cost_cap(fund)
    return cap is None or admin_costs <= cap


def fund_figures(funds: Sequence[Fund], as_of: date | None = None) -> dict[uuid.UUID, FundFigures]:
    """The figures of each of ``funds`` (already authorised) as of the end of ``as_of`` (None: all).

    Two grouped queries however many funds: the postings by event, and the report lines.
    """
    if not funds:
        return {}
    fund_ids = [fund.id for fund in funds]
    postings = _posting_totals(fund_ids, as_of)
    spending = _spending_by_category(fund_ids, as_of)
    management = {version: _management(version) for version in {fund.category_list_version for fund in funds}}
    figures = {}
    for fund in funds:
        totals = postings.get(fund.id, {})
        by_category = _counted(spending.get(fund.id, {}))
        figures[fund.id] = FundFigures(
            received=totals.get("received", 0),
            spent=sum(by_category.values()),
            refunded=totals.get("refunded", 0),
            held_in_bank=totals.get("held_in_bank", 0),
            admin_costs=_admin_costs(by_category, management[fund.category_list_version]),
            restricted_received=totals.get("restricted_received", 0),
            restricted_released=totals.get("restricted_released", 0),
            restricted_net_assets=totals.get("restricted_net_assets", 0),
            spent_by_category=by_category,
        )
    return figures


def figures_of(fund: Fund, as_of: date | None = None) -> FundFigures:
    return fund_figures([fund], as_of)[fund.id]


def restricted_net_assets(fund: Fund, as_of: date) -> int:
    """``figures_of(fund, as_of).restricted_net_assets``, from the postings alone (one query)."""
    return _posting_totals([fund.id], as_of).get(fund.id, {}).get("restricted_net_assets", 0)


def approved_spending(fund: Fund) -> tuple[dict[str, int], int]:
    """``fund``'s spending per category now, and its admin costs, as :func:`fund_figures` has them.

    What the checks at submission and approval need, in one query: they read no postings.
    """
    return approved_spending_from(fund, _spending_by_category([fund.id], None))


def _counted(by_category: dict[str, int]) -> dict[str, int]:
    return {code: amount for code, amount in sorted(by_category.items()) if amount}


def _management(category_list_version: str) -> set[str]:
    """The categories whose spending is administrative costs (one query)."""
    return {
        code for code, c in categories_of(category_list_version).items() if c.functional_class == "management"
    }


def _admin_costs(by_category: dict[str, int], management: set[str]) -> int:
    return sum(amount for code, amount in by_category.items() if code in management)


def _is_revenue(account: str) -> bool:
    return account.startswith("4")


def _posting_totals(fund_ids: Collection[uuid.UUID], as_of: date | None) -> dict[uuid.UUID, dict[str, int]]:
    """Per fund, the posting-defined figures; reversals count against the event they reverse."""
    statement = (
        with_events(
            select(
                Posting.fund_id,
                POSTING_EVENT,
                Posting.account_code,
                Posting.side,
                Posting.restriction,
                func.sum(Posting.amount_minor),
            )
        )
        .where(Posting.fund_id.in_(fund_ids))
        .group_by(Posting.fund_id, POSTING_EVENT, Posting.account_code, Posting.side, Posting.restriction)
    )
    if as_of is not None:
        statement = statement.where(Posting.entry_date <= as_of)
    totals: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for fund_id, source, account, side, restriction, amount in db.session.execute(statement):
        debit = int(amount) if side == Side.DEBIT.value else -int(amount)  # debit-positive
        assert fund_id is not None  # the query reads the given funds' postings only
        figures = totals[fund_id]
        is_cash = account in CASH_ACCOUNTS
        restricted = restriction == "restricted"
        if is_cash:
            figures["held_in_bank"] += debit
            if source == EntrySource.DISBURSEMENT_PAID.value:
                figures["received"] += debit
            elif source == EntrySource.REFUND.value:
                figures["refunded"] -= debit
        if source == EntrySource.DISBURSEMENT_PAID.value and _is_revenue(account) and restricted:
            figures["restricted_received"] -= debit
        if source == EntrySource.RESTRICTED_RELEASE.value and restricted:
            figures["restricted_released"] += debit
        if restricted and (_is_revenue(account) or account == RESTRICTED_NET_ASSETS):
            figures["restricted_net_assets"] -= debit
    return totals


def _spending_by_category(
    fund_ids: Collection[uuid.UUID], as_of: date | None
) -> dict[uuid.UUID, dict[str, int]]:
    """Per fund and category: lines of reports approved by ``as_of``, less those voided by then."""
    return spending_from(db.session.execute(spending_statement(fund_ids, as_of)))


def spending_statement(
    fund_ids: Collection[uuid.UUID], as_of: date | None
) -> Select[uuid.UUID, str, Any, Any]:
    """The query of approved spending: (fund, category, approved, voided) rows.

    Read through :func:`spending_from`; apart from this module, only by a caller that sends it
    together with other queries (the checks of a report).
    """
    approval = aliased(JournalEntry)
    void = aliased(JournalEntry)
    counted: ColumnElement[int]
    voided: ColumnElement[int]
    if as_of is None:
        counted = ExpenseLine.amount_minor.expression
        voided = case((void.id.is_not(None), ExpenseLine.amount_minor), else_=0)
    else:
        counted = case((approval.entry_date <= as_of, ExpenseLine.amount_minor), else_=0)
        voided = case(
            (and_(void.id.is_not(None), void.entry_date <= as_of), ExpenseLine.amount_minor), else_=0
        )
    return (
        select(ExpenseReport.fund_id, ExpenseLine.category_code, func.sum(counted), func.sum(voided))
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .join(approval, approval.id == ExpenseReport.journal_entry_id)
        .outerjoin(void, void.reverses_id == approval.id)
        .where(ExpenseReport.fund_id.in_(fund_ids))
        .group_by(ExpenseReport.fund_id, ExpenseLine.category_code)
    )


def spending_from(
    rows: Iterable[tuple[uuid.UUID, str, int | None, int | None]],
) -> dict[uuid.UUID, dict[str, int]]:
    spending: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for fund_id, code, approved, voided_total in rows:
        spending[fund_id][code] = int(approved or 0) - int(voided_total or 0)
    return spending


def approved_spending_from(
    fund: Fund, spending: Mapping[uuid.UUID, dict[str, int]]
) -> tuple[dict[str, int], int]:
    """:func:`approved_spending` from the rows of :func:`spending_statement` read by the caller."""
    by_category = _counted(dict(spending.get(fund.id, {})))
    return by_category, _admin_costs(by_category, _management(fund.category_list_version))
