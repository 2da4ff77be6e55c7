"""The trial balance: debit and credit totals per account up to a date, from the postings.

Closed months are read from the balances stored when they were closed; only the other days are
summed from the postings, so a trial balance costs about the same however old the books are.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select

from ledger.errors import NotFound
from ledger.extensions import db
from ledger.models.books import AccountingPeriod, PeriodBalance, PeriodStatus, Posting
from ledger.models.reference import Account
from ledger.money import Money
from ledger.services.access import Actor, Permission, authorize
from ledger.services.books import BOOKS_CHART_VERSION
from ledger.services.periods import (
    CREDITS,
    DEBITS,
    existing_organisation,
    month_range,
    period_change_refusal,
)


@dataclass(frozen=True)
class TrialBalanceRow:
    account_code: str
    name_zh: str
    name_en: str
    currency: str
    debit: Money
    credit: Money

    @property
    def balance(self) -> Money:
        return self.debit - self.credit

    @property
    def debit_balance(self) -> Money | None:
        """The balance when it is on the debit side (借方余额), else None."""
        return self.balance if self.balance.is_positive else None

    @property
    def credit_balance(self) -> Money | None:
        """The balance when it is on the credit side (贷方余额), as a positive amount, else None."""
        return -self.balance if (-self.balance).is_positive else None


@dataclass(frozen=True)
class TrialBalance:
    organisation_id: uuid.UUID
    as_of: date
    rows: list[TrialBalanceRow]

    def totals(self) -> dict[str, tuple[Money, Money]]:
        sums: dict[str, tuple[Money, Money]] = {}
        for row in self.rows:
            debit, credit = sums.get(row.currency, (Money.zero(row.currency), Money.zero(row.currency)))
            sums[row.currency] = (debit + row.debit, credit + row.credit)
        return sums

    def balance_totals(self) -> dict[str, tuple[Money, Money]]:
        """Per currency: the debit balances' total and the credit balances' total (equal when balanced)."""
        sums: dict[str, tuple[Money, Money]] = {}
        for row in self.rows:
            debit, credit = sums.get(row.currency, (Money.zero(row.currency), Money.zero(row.currency)))
            sums[row.currency] = (
                debit + (row.debit_balance or Money.zero(row.currency)),
                credit + (row.credit_balance or Money.zero(row.currency)),
            )
        return sums

    def is_balanced(self, currency: str) -> bool:
        """Whether ``currency``'s debits equal its credits, both as movements and as balances:
        the one answer to "do the books balance", which the pages show and never work out."""
        debits, credits = self.totals()[currency]
        debit_balances, credit_balances = self.balance_totals()[currency]
        return debits == credits and debit_balances == credit_balances


def _closed_months(organisation_id: uuid.UUID, as_of: date) -> list[AccountingPeriod]:
    """Closed months that end on or before ``as_of``, oldest first; their balances are final."""
    periods = db.session.scalars(
        select(AccountingPeriod)
        .where(
            AccountingPeriod.organisation_id == organisation_id,
            AccountingPeriod.status == PeriodStatus.CLOSED.value,
        )
        .order_by(AccountingPeriod.year, AccountingPeriod.month)
    )
    return [p for p in periods if month_range(p.year, p.month)[1] <= as_of]


def _open_date_ranges(closed: list[AccountingPeriod], as_of: date) -> list[tuple[date | None, date]]:
    """The dates up to ``as_of`` not covered by ``closed`` months, as (from or None, to) ranges."""
    ranges: list[tuple[date | None, date]] = []
    start: date | None = None
    for period in closed:
        first, last = month_range(period.year, period.month)
        if start is None or start < first:
            ranges.append((start, first - timedelta(days=1)))
        start = last + timedelta(days=1)
    if start is None or start <= as_of:
        ranges.append((start, as_of))
    return ranges


def _date_in(ranges: list[tuple[date | None, date]]) -> ColumnElement[bool]:
    return or_(
        *(
            Posting.entry_date <= last if first is None else Posting.entry_date.between(first, last)
            for first, last in ranges
        )
    )


def account_totals(organisation_id: uuid.UUID, as_of: date) -> dict[tuple[str, str], tuple[int, int]]:
    """(account, currency) -> (debits, credits) in minor units, over every posting up to ``as_of``.

    Closed months are read from the balances taken when they were closed; only the open months
    and the month of ``as_of`` are summed from the postings.
    """
    closed = _closed_months(organisation_id, as_of)
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    if closed:
        stored = db.session.execute(
            select(
                PeriodBalance.account_code,
                PeriodBalance.currency,
                func.sum(PeriodBalance.debit_minor),
                func.sum(PeriodBalance.credit_minor),
            )
            .join(
                AccountingPeriod,
                and_(
                    AccountingPeriod.id == PeriodBalance.period_id,
                    AccountingPeriod.version == PeriodBalance.period_version,
                ),
            )
            .where(AccountingPeriod.id.in_([p.id for p in closed]))
            .group_by(PeriodBalance.account_code, PeriodBalance.currency)
        ).all()
        for code, currency, debits, credits in stored:
            totals[(code, currency)][0] += int(debits or 0)
            totals[(code, currency)][1] += int(credits or 0)
    ranges = _open_date_ranges(closed, as_of)
    if ranges:
        recent = db.session.execute(
            select(Posting.account_code, Posting.currency, DEBITS, CREDITS)
            .where(Posting.organisation_id == organisation_id, _date_in(ranges))
            .group_by(Posting.account_code, Posting.currency)
        ).all()
        for code, currency, debits, credits in recent:
            totals[(code, currency)][0] += int(debits or 0)
            totals[(code, currency)][1] += int(credits or 0)
    return {key: (debits, credits) for key, (debits, credits) in totals.items()}


def trial_balance(actor: Actor, organisation_id: uuid.UUID, as_of: date) -> TrialBalance:
    """Debit and credit totals per account up to ``as_of``, derived from the postings."""
    authorize(actor, Permission.READ_BOOKS, organisation_id)
    existing_organisation(organisation_id)
    names = {
        a.code: a
        for a in db.session.scalars(select(Account).where(Account.chart_version == BOOKS_CHART_VERSION))
    }
    totals = account_totals(organisation_id, as_of)
    return TrialBalance(
        organisation_id,
        as_of,
        [
            TrialBalanceRow(
                code,
                names[code].name_zh,
                names[code].name_en,
                currency,
                Money(currency, debits),
                Money(currency, credits),
            )
            for (code, currency), (debits, credits) in sorted(totals.items())
        ],
    )


@dataclass(frozen=True)
class MonthToClose:
    """What closing a month would close: the month, its movements per account, and the balance after it."""

    year: int
    month: int
    movements: TrialBalance
    at_month_end: TrialBalance


def month_to_close(actor: Actor, organisation_id: uuid.UUID, year: int, month: int) -> MonthToClose:
    """The confirmation before a month is closed; refused as closing it would be (ended, in order).

    Reads only: the month must already be in the books (the books page lists those).
    """
    authorize(actor, Permission.CLOSE_PERIODS, organisation_id)
    existing_organisation(organisation_id)
    period = db.session.scalar(
        select(AccountingPeriod).where(
            AccountingPeriod.organisation_id == organisation_id,
            AccountingPeriod.year == year,
            AccountingPeriod.month == month,
        )
    )
    if period is None:
        raise NotFound.thing("accounting period", f"{year}-{month:02d}")
    if (refusal := period_change_refusal(period, PeriodStatus.CLOSED)) is not None:
        raise refusal
    first, last = month_range(year, month)
    names = {
        a.code: a
        for a in db.session.scalars(select(Account).where(Account.chart_version == BOOKS_CHART_VERSION))
    }
    moved = db.session.execute(
        select(Posting.account_code, Posting.currency, DEBITS, CREDITS)
        .where(
            Posting.organisation_id == organisation_id,
            Posting.entry_date >= first,
            Posting.entry_date <= last,
        )
        .group_by(Posting.account_code, Posting.currency)
        .order_by(Posting.account_code, Posting.currency)
    ).all()
    movements = TrialBalance(
        organisation_id,
        last,
        [
            TrialBalanceRow(
                code,
                names[code].name_zh,
                names[code].name_en,
                currency,
                Money(currency, int(debits or 0)),
                Money(currency, int(credits or 0)),
            )
            for code, currency, debits, credits in moved
        ],
    )
    return MonthToClose(year, month, movements, trial_balance(actor, organisation_id, last))
