"""How the books treat restricted money, by the 民间非营利组织会计制度 (see docs/books.md).

* **Spending restricted money releases the restriction.** Money recognised as restricted revenue
  in the same year is reclassified within its revenue account (Dr 4401 限定性 / Cr 4401 非限定性),
  so the activity statement shows it as unrestricted revenue of the year; money carried in
  restricted net assets from an earlier year is reclassified Dr 3102 / Cr 3101 (the activity
  statement's line 40). Spending draws on the earlier years' money first.
* **A refund to the funder** of money received in the same year reduces that revenue (Dr revenue,
  with its restriction / Cr bank). Money received in an earlier year is no longer revenue of this
  year: the standard books the obligation to repay as 管理费用 (Dr 5201 / Cr bank), and for a
  restricted fund the restriction ends with the money (Dr 3102 / Cr 3101).

"Earlier year" is by the calendar year of the entry's date, whether or not that year has been
closed yet: a year's closing moves the same amounts from revenue into net assets.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select

from ledger.extensions import db
from ledger.models.books import JournalEntry, Posting, Side
from ledger.models.fund import Fund
from ledger.money import Money
from ledger.services.books import RESTRICTED_NET_ASSETS, UNRESTRICTED_NET_ASSETS, PostingLine
from ledger.services.fund_figures import figures_of, restricted_net_assets
from ledger.services.posting_events import is_year_end_closing, with_events

MANAGEMENT_EXPENSES = "5201"
BANK = "1002"


def _restriction(fund: Fund) -> str:
    return "restricted" if fund.restricted else "unrestricted"


def earlier_years_money(fund: Fund, on: date) -> int:
    """What ``fund`` holds on ``on`` that it received before that year began, in minor units.

    For a restricted fund: its restricted net assets at the end of the previous year, less what
    this year has already drawn from them (3102 debits). For an unrestricted fund: its unspent
    money at the end of the previous year, less this year's spending and refunds.
    """
    year_end = date(on.year - 1, 12, 31)
    if fund.restricted:
        # The postings alone say it: no need for the report lines figures_of also sums.
        held = restricted_net_assets(fund, year_end)
        return max(0, held - _drawn_from_net_assets(fund, date(on.year, 1, 1), on))
    before = figures_of(fund, year_end)
    now = figures_of(fund, on)
    drawn = (now.spent - before.spent) + (now.refunded - before.refunded)
    return max(0, before.unspent - drawn)


def _drawn_from_net_assets(fund: Fund, start: date, end: date) -> int:
    """Net debits to the fund's 3102 between ``start`` and ``end``, other than year-end closing."""
    signed = case((Posting.side == Side.DEBIT.value, Posting.amount_minor), else_=-Posting.amount_minor)
    return int(
        db.session.scalar(
            with_events(select(func.coalesce(func.sum(signed), 0))).where(
                Posting.fund_id == fund.id,
                Posting.account_code == RESTRICTED_NET_ASSETS,
                Posting.entry_date.between(start, end),
                ~is_year_end_closing(),
            )
        )
        or 0
    )


def release_lines(fund: Fund, spent: Money, on: date) -> list[PostingLine]:
    """The lines that release ``spent`` of a restricted fund's money on ``on`` (none if unrestricted)."""
    if not fund.restricted or not spent.is_positive:
        return []
    earlier = min(spent.minor, earlier_years_money(fund, on))
    this_year = spent.minor - earlier
    lines = []
    if earlier:
        amount = Money(fund.currency, earlier)
        lines += [
            PostingLine(RESTRICTED_NET_ASSETS, Side.DEBIT, amount, fund.id, "restricted"),
            PostingLine(UNRESTRICTED_NET_ASSETS, Side.CREDIT, amount, fund.id, "unrestricted"),
        ]
    if this_year:
        amount = Money(fund.currency, this_year)
        lines += [
            PostingLine(fund.revenue_account, Side.DEBIT, amount, fund.id, "restricted"),
            PostingLine(fund.revenue_account, Side.CREDIT, amount, fund.id, "unrestricted"),
        ]
    return lines


def refund_lines(fund: Fund, amount: Money, on: date) -> list[PostingLine]:
    """The lines of a refund of ``amount`` to the funder on ``on``."""
    earlier = min(amount.minor, earlier_years_money(fund, on))
    this_year = amount.minor - earlier
    lines = []
    if this_year:
        lines.append(
            PostingLine(
                fund.revenue_account, Side.DEBIT, Money(fund.currency, this_year), fund.id, _restriction(fund)
            )
        )
    if earlier:
        money = Money(fund.currency, earlier)
        lines.append(PostingLine(MANAGEMENT_EXPENSES, Side.DEBIT, money, fund.id))
        if fund.restricted:
            lines += [
                PostingLine(RESTRICTED_NET_ASSETS, Side.DEBIT, money, fund.id, "restricted"),
                PostingLine(UNRESTRICTED_NET_ASSETS, Side.CREDIT, money, fund.id, "unrestricted"),
            ]
    lines.append(PostingLine(BANK, Side.CREDIT, amount, fund.id))
    return lines


def release_reversal_lines(entry: JournalEntry, on: date) -> list[PostingLine]:
    """The reversal of a release entry on ``on``.

    In the entry's own year it is the mirror image. In a later year the reclassified revenue has
    been closed into net assets (or will be), so the mirror of a within-revenue reclassification
    is booked on net assets instead: Dr 3101 / Cr 3102.
    """
    lines = []
    for posting in entry.postings:
        account = posting.account_code
        if on.year > entry.entry_date.year and account.startswith("4"):
            account = (
                RESTRICTED_NET_ASSETS if posting.restriction == "restricted" else UNRESTRICTED_NET_ASSETS
            )
        lines.append(
            PostingLine(
                account,
                Side.CREDIT if posting.side == Side.DEBIT.value else Side.DEBIT,
                Money(posting.currency, posting.amount_minor),
                posting.fund_id,
                posting.restriction,
            )
        )
    return lines
