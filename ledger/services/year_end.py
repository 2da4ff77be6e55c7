"""Year-end closing (年末结转): a year's revenue and expenses closed into net assets.

Per the 民间非营利组织会计制度 (the 科目使用说明 of 3101 and 3102; reference/domain.md §1.3), at
the end of a year every revenue and expense account is emptied into net assets, in up to three
journal entries dated 31 December:

1. Dr each revenue account's unrestricted part / Cr 3101 非限定性净资产;
2. Dr 3101 / Cr each expense account (every expense closes to unrestricted net assets);
3. Dr each revenue account's restricted part / Cr 3102 限定性净资产.

Balances are taken per (account, fund, restriction, currency), over every posting dated up to
31 December, so each fund's revenue closes with its own ``fund_id`` and the 3101/3102 lines carry
the same fund (one line per fund and currency, restriction ``unrestricted`` on 3101 and
``restricted`` on 3102). A balance on the unusual side (a revenue account with more debits than
credits, an expense account with more credits) closes the other way round.

A year is *closed* while it has closing entries (source ``year_end_close``, ``source_id`` the
year) that are not reversed. Closing needs all twelve months closed, the year ended and every
earlier year that still has revenue or expense balances closed first; it posts into the closed
December (only the closing may) and then takes December's stored balances again, so that trial
balances and ``ledger audit verify`` agree with the postings. The closing is undone only by
:func:`reopen_year`, which reverses the closing entries (and refuses while a later year is
closed); a month of a closed year cannot be reopened (``periods.set_period_status``).
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, extract, or_, select
from sqlalchemy.orm import aliased

from ledger.business_dates import has_ended
from ledger.errors import Conflict, LedgerError, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.books import AccountingPeriod, EntrySource, JournalEntry, PeriodStatus, Posting, Side
from ledger.models.organisation import Organisation
from ledger.money import Money
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.audit_subjects import record_event, record_state
from ledger.services.books import (
    BOOKS_CHART_VERSION,
    MAX_LINES,
    RESTRICTED_NET_ASSETS,
    UNRESTRICTED_NET_ASSETS,
    PostingLine,
    post_journal_entry,
    post_reversal,
)
from ledger.services.periods import CREDITS, DEBITS, existing_organisation, take_period_balances

RESTRICTED = "restricted"
UNRESTRICTED = "unrestricted"
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

# (account, fund, restriction, currency): one balance that the closing empties.
BalanceKey = tuple[str, uuid.UUID | None, str | None, str]


class YearStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ClosingStep(enum.Enum):
    """The three closing entries, in the order they are posted."""

    UNRESTRICTED_REVENUE = 1
    EXPENSES = 2
    RESTRICTED_REVENUE = 3

    def description(self, year: int) -> str:
        return {
            ClosingStep.UNRESTRICTED_REVENUE: (
                f"年末结转 {year}：非限定性收入转入非限定性净资产 "
                f"Year-end close {year}: unrestricted revenue to unrestricted net assets"
            ),
            ClosingStep.EXPENSES: (
                f"年末结转 {year}：费用转入非限定性净资产 "
                f"Year-end close {year}: expenses to unrestricted net assets"
            ),
            ClosingStep.RESTRICTED_REVENUE: (
                f"年末结转 {year}：限定性收入转入限定性净资产 "
                f"Year-end close {year}: restricted revenue to restricted net assets"
            ),
        }[self]

    @property
    def net_assets(self) -> tuple[str, str]:
        """The net-asset account this step closes into, and the restriction of its lines."""
        if self is ClosingStep.RESTRICTED_REVENUE:
            return RESTRICTED_NET_ASSETS, RESTRICTED
        return UNRESTRICTED_NET_ASSETS, UNRESTRICTED


@dataclass(frozen=True)
class PlannedEntry:
    """A closing entry before it is posted (shown on the confirmation page)."""

    step: ClosingStep
    description: str
    lines: list[PostingLine]


@dataclass(frozen=True)
class YearState:
    """Where one year of one organisation's books stands."""

    organisation_id: uuid.UUID
    year: int
    status: YearStatus
    months_closed: int
    open_months: list[str]
    has_ended: bool
    closing_entry_ids: list[uuid.UUID]
    closed_at: datetime | None
    closed_by: str | None
    # Why the year cannot be closed (or reopened) now; None when it can.
    blocked_by: str | None

    @property
    def can_close(self) -> bool:
        return self.status is YearStatus.OPEN and self.blocked_by is None

    @property
    def can_reopen(self) -> bool:
        return self.status is YearStatus.CLOSED and self.blocked_by is None


@dataclass(frozen=True)
class YearClose:
    """What closing (or reopening) a year posted, and the year's state afterwards."""

    organisation_id: uuid.UUID
    year: int
    entries: list[JournalEntry]
    state: YearState


@dataclass(frozen=True)
class SkippedOrganisation:
    organisation_id: uuid.UUID
    name: str
    reason: str


@dataclass(frozen=True)
class AllYearsClosed:
    year: int
    closed: list[YearClose] = field(default_factory=list)
    skipped: list[SkippedOrganisation] = field(default_factory=list)


# -- reading the books --------------------------------------------------------------------------


def _check_year(year: int) -> None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValidationFailed.field(
            "year",
            translatable(
                "must be a year between %(first)s and %(last)s", first=EARLIEST_YEAR, last=LATEST_YEAR
            ),
        )


def _is_revenue_or_expense() -> ColumnElement[bool]:
    return or_(Posting.account_code.like("4%"), Posting.account_code.like("5%"))


def _closing_entries(organisation_id: uuid.UUID, year: int) -> list[JournalEntry]:
    """The year's closing entries that are not reversed, in the order they were posted."""
    reversal = aliased(JournalEntry)
    return list(
        db.session.scalars(
            select(JournalEntry)
            .outerjoin(reversal, reversal.reverses_id == JournalEntry.id)
            .where(
                JournalEntry.organisation_id == organisation_id,
                JournalEntry.source == EntrySource.YEAR_END_CLOSE.value,
                JournalEntry.source_id == str(year),
                reversal.id.is_(None),
            )
            .order_by(JournalEntry.created_at, JournalEntry.id)
        )
    )


def closed_years_of(organisation_id: uuid.UUID) -> set[int]:
    """Every closed year of the organisation: those with closing entries not reversed.

    ``periods.set_period_status`` asks this before it reopens a month.
    """
    reversal = aliased(JournalEntry)
    return {
        int(source_id)
        for source_id in db.session.scalars(
            select(JournalEntry.source_id)
            .outerjoin(reversal, reversal.reverses_id == JournalEntry.id)
            .where(
                JournalEntry.organisation_id == organisation_id,
                JournalEntry.source == EntrySource.YEAR_END_CLOSE.value,
                reversal.id.is_(None),
            )
            .distinct()
        )
        if source_id is not None and source_id.isdecimal()
    }


def _balances(organisation_id: uuid.UUID, year: int) -> dict[BalanceKey, int]:
    """Revenue and expense balances (debits minus credits) at 31 December of ``year``, nonzero only."""
    rows = db.session.execute(
        select(Posting.account_code, Posting.fund_id, Posting.restriction, Posting.currency, DEBITS, CREDITS)
        .where(
            Posting.organisation_id == organisation_id,
            Posting.entry_date <= date(year, 12, 31),
            _is_revenue_or_expense(),
        )
        .group_by(Posting.account_code, Posting.fund_id, Posting.restriction, Posting.currency)
    ).all()
    balances = {
        (code, fund_id, restriction, currency): int(debits or 0) - int(credits or 0)
        for code, fund_id, restriction, currency, debits, credits in rows
    }
    return {key: net for key, net in balances.items() if net}


def _years_with_balances(organisation_id: uuid.UUID, before: int | None = None) -> set[int]:
    """Years whose own revenue and expense postings do not net to zero (they need closing).

    A closed year's own postings net to zero (its closing entries empty what the year booked),
    and so does a year whose entries were all reversed within it: neither needs closing.
    """
    year_of = extract("year", Posting.entry_date)
    statement = (
        select(
            year_of,
            Posting.account_code,
            Posting.fund_id,
            Posting.restriction,
            Posting.currency,
            DEBITS,
            CREDITS,
        )
        .where(Posting.organisation_id == organisation_id, _is_revenue_or_expense())
        .group_by(year_of, Posting.account_code, Posting.fund_id, Posting.restriction, Posting.currency)
    )
    if before is not None:
        statement = statement.where(Posting.entry_date < date(before, 1, 1))
    return {
        int(year)
        for year, _code, _fund, _restriction, _currency, debits, credits in db.session.execute(statement)
        if int(debits or 0) != int(credits or 0)
    }


def _years_with_postings(organisation_id: uuid.UUID) -> set[int]:
    year_of = extract("year", Posting.entry_date)
    return {
        int(year)
        for year in db.session.scalars(
            select(year_of).where(Posting.organisation_id == organisation_id).distinct()
        )
    }


def _months(organisation_id: uuid.UUID, year: int, *, lock: bool = False) -> dict[int, AccountingPeriod]:
    """The year's months that have a period row; locked against any change while the year closes."""
    statement = select(AccountingPeriod).where(
        AccountingPeriod.organisation_id == organisation_id, AccountingPeriod.year == year
    )
    if lock:
        # An exclusive lock: a posting (share lock) or a month's close or reopen waits for the
        # closing, and two closings of one year run one after the other.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return {period.month: period for period in db.session.scalars(statement)}


def _open_months(months: dict[int, AccountingPeriod], year: int) -> list[str]:
    """Months not closed, a month without a period row included."""
    return [
        f"{year}-{month:02d}"
        for month in range(1, 13)
        if month not in months or months[month].status != PeriodStatus.CLOSED.value
    ]


# -- the closing entries ------------------------------------------------------------------------


def _step(key: BalanceKey) -> ClosingStep:
    code, _fund, restriction, _currency = key
    if code.startswith("5"):
        return ClosingStep.EXPENSES
    return ClosingStep.RESTRICTED_REVENUE if restriction == RESTRICTED else ClosingStep.UNRESTRICTED_REVENUE


def _fund_order(fund_id: uuid.UUID | None) -> str:
    return "" if fund_id is None else str(fund_id)


def _side(signed: int) -> Side:
    return Side.DEBIT if signed > 0 else Side.CREDIT


def plan_closing(balances: dict[BalanceKey, int], year: int) -> list[PlannedEntry]:
    """The closing entries that empty ``balances`` (debits minus credits), empty steps left out.

    Each balance is closed by a line of the opposite sign; per fund and currency one 3101 (or
    3102) line takes the sum. A step with more lines than an entry may hold is split between
    funds into several entries, each balanced.
    """
    planned: list[PlannedEntry] = []
    for step in ClosingStep:
        account, restriction = step.net_assets
        # fund -> the fund's closing lines, and its net-asset lines per currency
        blocks: dict[uuid.UUID | None, list[PostingLine]] = defaultdict(list)
        counterparts: dict[tuple[uuid.UUID | None, str], int] = defaultdict(int)
        for key in sorted(
            (k for k in balances if _step(k) is step),
            key=lambda k: (k[0], _fund_order(k[1]), k[2] or "", k[3]),
        ):
            code, fund_id, line_restriction, currency = key
            net = balances[key]
            blocks[fund_id].append(
                PostingLine(code, _side(-net), Money(currency, abs(net)), fund_id, line_restriction)
            )
            counterparts[(fund_id, currency)] += net
        entries: list[list[PostingLine]] = []
        for fund_id in sorted(blocks, key=_fund_order):
            net_assets = [
                PostingLine(account, _side(net), Money(currency, abs(net)), fund_id, restriction)
                for (fund, currency), net in sorted(counterparts.items(), key=lambda item: item[0][1])
                if fund == fund_id and net
            ]
            block = blocks[fund_id] + net_assets
            if not entries or len(entries[-1]) + len(block) > MAX_LINES:
                entries.append([])
            entries[-1].extend(block)
        for lines in entries:
            # Debits first: "Dr revenue / Cr 3101", "Dr 3101 / Cr expenses".
            ordered = [line for line in lines if line.side is Side.DEBIT] + [
                line for line in lines if line.side is Side.CREDIT
            ]
            planned.append(PlannedEntry(step, step.description(year), ordered))
    return planned


# -- checks ---------------------------------------------------------------------------------------


def _close_refusal(
    organisation_id: uuid.UUID,
    year: int,
    months: dict[int, AccountingPeriod],
    balances: dict[BalanceKey, int],
    closed_years: set[int],
) -> LedgerError | None:
    """Why ``year`` cannot be closed now, or None."""
    if year in closed_years:
        return Conflict(
            translatable("The year %(year)s is already closed.", year=year), code="year_end.already_closed"
        )
    open_months = _open_months(months, year)
    if open_months:
        listed = ", ".join(open_months)
        if len(open_months) == 1:
            return Conflict(
                translatable(
                    "The year %(year)s cannot be closed while %(months)s is not closed: "
                    "close every month of the year first.",
                    year=year,
                    months=listed,
                )
            )
        return Conflict(
            translatable(
                "The year %(year)s cannot be closed while %(months)s are not closed: "
                "close every month of the year first.",
                year=year,
                months=listed,
            )
        )
    if not has_ended(date(year, 12, 31)):
        return ValidationFailed.field("year", translatable("the year %(year)s has not ended", year=year))
    earlier = sorted(_years_with_balances(organisation_id, before=year) - closed_years)
    if earlier:
        return Conflict(
            translatable(
                "The year %(year)s still has revenue and expense balances: close %(year)s first.",
                year=earlier[0],
            )
        )
    if not balances:
        return Conflict(
            translatable("The year %(year)s has no revenue or expense balances to close.", year=year)
        )
    return None


def _reopen_refusal(year: int, closed_years: set[int]) -> LedgerError | None:
    if year not in closed_years:
        return Conflict(translatable("The year %(year)s is not closed.", year=year))
    later = sorted(y for y in closed_years if y > year)
    if later:
        return Conflict(translatable("The year %(year)s is closed: reopen %(year)s first.", year=later[-1]))
    return None


def _state(
    organisation_id: uuid.UUID,
    year: int,
    closed_years: set[int],
    months: dict[int, AccountingPeriod] | None = None,
) -> YearState:
    if months is None:
        months = _months(organisation_id, year)
    open_months = _open_months(months, year)
    entries = _closing_entries(organisation_id, year) if year in closed_years else []
    if year in closed_years:
        refusal = _reopen_refusal(year, closed_years)
    else:
        refusal = _close_refusal(
            organisation_id, year, months, _balances(organisation_id, year), closed_years
        )
    return YearState(
        organisation_id=organisation_id,
        year=year,
        status=YearStatus.CLOSED if year in closed_years else YearStatus.OPEN,
        months_closed=12 - len(open_months),
        open_months=open_months,
        has_ended=has_ended(date(year, 12, 31)),
        closing_entry_ids=[entry.id for entry in entries],
        closed_at=max((entry.created_at for entry in entries), default=None),
        closed_by=entries[-1].created_by if entries else None,
        blocked_by=refusal.detail if refusal is not None else None,
    )


# -- the operations -----------------------------------------------------------------------------


def _retake_december(actor: Actor, december: AccountingPeriod) -> None:
    """December's stored balances no longer match its postings: a new version, balances taken again."""
    december.changed_at = utcnow()
    db.session.flush()  # the version goes up, so the balances taken at the month's close stop counting
    take_period_balances(december)
    record_state(actor, "period.balances_retaken", "accounting_period", december)


def _post(
    actor: Actor, organisation_id: uuid.UUID, year: int, plan: Iterable[PlannedEntry]
) -> list[JournalEntry]:
    return [
        post_journal_entry(
            actor,
            organisation_id,
            date(year, 12, 31),
            planned.description,
            planned.lines,
            source=EntrySource.YEAR_END_CLOSE,
            source_id=str(year),
            into_closed_period=True,
        )
        for planned in plan
    ]


def preview_year_close(actor: Actor, organisation_id: uuid.UUID, year: int) -> list[PlannedEntry]:
    """The entries closing ``year`` would post now, without posting them (the confirmation step)."""
    authorize(actor, Permission.CLOSE_PERIODS, organisation_id)
    existing_organisation(organisation_id)
    _check_year(year)
    return plan_closing(_balances(organisation_id, year), year)


def close_year(actor: Actor, organisation_id: uuid.UUID, year: int) -> YearClose:
    """Close ``year`` of an organisation's books into net assets (finance officers)."""
    authorize(actor, Permission.CLOSE_PERIODS, organisation_id)
    existing_organisation(organisation_id)
    _check_year(year)
    months = _months(organisation_id, year, lock=True)
    closed_years = closed_years_of(organisation_id)
    balances = _balances(organisation_id, year)
    refusal = _close_refusal(organisation_id, year, months, balances, closed_years)
    if refusal is not None:
        raise refusal
    plan = plan_closing(balances, year)
    entries = _post(actor, organisation_id, year, plan)
    _retake_december(actor, months[12])
    record_event(
        actor,
        "books.year_closed",
        "organisation",
        organisation_id,
        {
            "year": year,
            "chart_version": BOOKS_CHART_VERSION,
            "entries": [str(entry.id) for entry in entries],
            "december_version": months[12].version,
        },
    )
    return YearClose(
        organisation_id, year, entries, _state(organisation_id, year, closed_years | {year}, months)
    )


def reopen_year(actor: Actor, organisation_id: uuid.UUID, year: int, reason: str) -> YearClose:
    """Undo a year's closing by reversing its entries, with the reason recorded (finance officers)."""
    authorize(actor, Permission.CLOSE_PERIODS, organisation_id)
    existing_organisation(organisation_id)
    _check_year(year)
    if not (reason or "").strip():
        raise ValidationFailed.field("reason", translatable("say why the year is reopened"))
    months = _months(organisation_id, year, lock=True)
    closed_years = closed_years_of(organisation_id)
    refusal = _reopen_refusal(year, closed_years)
    if refusal is not None:
        raise refusal
    reversals = [
        post_reversal(actor, entry, entry.entry_date, reason, into_closed_period=True)
        for entry in _closing_entries(organisation_id, year)
    ]
    _retake_december(actor, months[12])
    record_event(
        actor,
        "books.year_reopened",
        "organisation",
        organisation_id,
        {
            "year": year,
            "reason": reason.strip(),
            "reversals": [str(entry.id) for entry in reversals],
            "december_version": months[12].version,
        },
    )
    return YearClose(
        organisation_id, year, reversals, _state(organisation_id, year, closed_years - {year}, months)
    )


def year_states(actor: Actor, organisation_id: uuid.UUID) -> list[YearState]:
    """Each year with postings (or period rows) and whether it is closed, newest first."""
    authorize(actor, Permission.READ_BOOKS, organisation_id)
    existing_organisation(organisation_id)
    closed_years = closed_years_of(organisation_id)
    years = _years_with_postings(organisation_id) | closed_years
    years |= set(
        db.session.scalars(
            select(AccountingPeriod.year)
            .where(AccountingPeriod.organisation_id == organisation_id)
            .distinct()
        )
    )
    return [_state(organisation_id, year, closed_years) for year in sorted(years, reverse=True)]


def year_state(actor: Actor, organisation_id: uuid.UUID, year: int) -> YearState:
    authorize(actor, Permission.READ_BOOKS, organisation_id)
    existing_organisation(organisation_id)
    _check_year(year)
    return _state(organisation_id, year, closed_years_of(organisation_id))


def close_year_for_all(actor: Actor, year: int) -> AllYearsClosed:
    """Close ``year`` for every organisation of ``actor``'s area that can close it; the others are
    reported, not closed.

    An organisation is skipped when a month of the year is not closed, the year is closed already,
    an earlier year is not, or there is nothing to close. Each organisation is closed in its own
    savepoint, so one that fails leaves the others' closings in place.
    """
    authorize(actor, Permission.CLOSE_PERIODS)
    _check_year(year)
    result = AllYearsClosed(year)
    statement = select(Organisation).order_by(Organisation.name, Organisation.id)
    if (visible := visible_organisation_ids(actor)) is not None:
        statement = statement.where(Organisation.id.in_(visible))
    for organisation in db.session.scalars(statement):
        try:
            with db.session.begin_nested():
                closed = close_year(actor, organisation.id, year)
        except (Conflict, ValidationFailed) as error:
            result.skipped.append(SkippedOrganisation(organisation.id, organisation.name, error.detail))
        else:
            result.closed.append(closed)
    return result
