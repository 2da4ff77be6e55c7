"""Posting to the books: balanced journal entries, reversals, periods and the trial balance.

A journal entry is checked here before anything is written (balance per currency, accounts in
the chart, positive amounts, an open period) and problems are returned as values, each naming
its line, so that a client learns everything wrong at once. The database checks the balance
again on commit. Entries are never edited: ``reverse_journal_entry`` posts the mirror image.
"""

from __future__ import annotations

import calendar
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from ledger.business_dates import has_ended
from ledger.cash_flow import CASH_ACCOUNTS, CASH_FLOW_KEYS
from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.models.base import utcnow
from ledger.models.books import (
    AccountingPeriod,
    EntrySource,
    JournalEntry,
    PeriodBalance,
    PeriodStatus,
    Posting,
    Side,
)
from ledger.models.fund import Fund
from ledger.models.organisation import Organisation
from ledger.models.reference import Account
from ledger.money import Money
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event, record_state
from ledger.services.concurrency import check_version
from ledger.services.idempotency import IdempotencyClaim, claim_key, require_same_request
from ledger.services.pagination import Page, PageRequest, fetch_page

BOOKS_CHART_VERSION = "NPO-2005"
MAX_LINES = 200


@dataclass(frozen=True)
class PostingLine:
    """One line of an entry to post."""

    account_code: str
    side: Side
    amount: Money
    fund_id: uuid.UUID | None = None
    restriction: str | None = None

    def as_record(self) -> dict[str, str | None]:
        """The line as the audit trail records it (and as an idempotent request is fingerprinted)."""
        return {
            "account": self.account_code,
            "side": self.side.value,
            "amount": str(self.amount),
            "currency": self.amount.currency,
            "fund_id": str(self.fund_id) if self.fund_id else None,
            "restriction": self.restriction,
        }


@dataclass(frozen=True)
class EntryProblem:
    """Why an entry cannot be posted; ``field`` names the line (``lines.2.amount``) or the entry."""

    field: str
    message: str


def entry_problems(lines: list[PostingLine], accounts: set[str]) -> list[EntryProblem]:
    """Everything wrong with ``lines`` as a balanced entry on a chart with ``accounts``."""
    problems: list[EntryProblem] = []
    if len(lines) < 2:
        problems.append(EntryProblem("lines", "an entry needs at least two lines"))
    if len(lines) > MAX_LINES:
        problems.append(EntryProblem("lines", f"an entry has at most {MAX_LINES} lines"))
    totals: dict[str, dict[Side, int]] = defaultdict(lambda: {Side.DEBIT: 0, Side.CREDIT: 0})
    for number, line in enumerate(lines):
        if line.account_code not in accounts:
            problems.append(
                EntryProblem(f"lines.{number}.account_code", f"{line.account_code!r} is not in the chart")
            )
        if not line.amount.is_positive:
            problems.append(EntryProblem(f"lines.{number}.amount", "must be more than zero"))
        totals[line.amount.currency][line.side] += line.amount.minor
    for currency, sides in sorted(totals.items()):
        if sides[Side.DEBIT] != sides[Side.CREDIT]:
            debit, credit = Money(currency, sides[Side.DEBIT]), Money(currency, sides[Side.CREDIT])
            problems.append(
                EntryProblem("lines", f"debits ({debit} {currency}) and credits ({credit} {currency}) differ")
            )
    return problems


RESTRICTIONS = ("restricted", "unrestricted")


def _fund_problems(organisation_id: uuid.UUID, lines: list[PostingLine]) -> list[EntryProblem]:
    """A posting's fund must be one of the organisation's funds, and its restriction the fund's.

    Only a restricted fund's money is restricted: a line marked restricted needs a restricted
    fund. (A restricted fund's line may be unrestricted: that is how a restriction is released.)
    """
    problems: list[EntryProblem] = []
    wanted = {line.fund_id for line in lines if line.fund_id is not None}
    restricted_funds = {
        fund_id: restricted
        for fund_id, restricted in db.session.execute(
            select(Fund.id, Fund.restricted).where(
                Fund.id.in_(wanted), Fund.organisation_id == organisation_id
            )
        )
    }
    for number, line in enumerate(lines):
        if line.fund_id is not None and line.fund_id not in restricted_funds:
            problems.append(EntryProblem(f"lines.{number}.fund_id", "is not a fund of this organisation"))
        elif line.restriction is not None and line.restriction not in RESTRICTIONS:
            problems.append(EntryProblem(f"lines.{number}.restriction", "must be restricted or unrestricted"))
        elif line.restriction == "restricted" and not restricted_funds.get(line.fund_id):  # type: ignore[arg-type]
            problems.append(
                EntryProblem(f"lines.{number}.restriction", "only a restricted fund's money is restricted")
            )
        elif (
            line.restriction is None
            and line.account_code.startswith("4")
            and restricted_funds.get(line.fund_id)  # type: ignore[arg-type]
        ):
            problems.append(
                EntryProblem(
                    f"lines.{number}.restriction",
                    "a restricted fund's revenue line says whether it is restricted or unrestricted",
                )
            )
    return problems


def _cash_flow_problems(lines: list[PostingLine], cash_flow_line: str | None) -> list[EntryProblem]:
    """An adjustment that moves cash names its line of the cash-flow statement; others do not."""
    moves_cash = any(line.account_code in CASH_ACCOUNTS for line in lines)
    if moves_cash and cash_flow_line is None:
        return [
            EntryProblem(
                "cash_flow_line", "an entry that moves cash names its line of the cash-flow statement"
            )
        ]
    if cash_flow_line is not None and not moves_cash:
        return [EntryProblem("cash_flow_line", "only an entry that moves cash has a cash-flow line")]
    if cash_flow_line is not None and cash_flow_line not in CASH_FLOW_KEYS:
        return [
            EntryProblem("cash_flow_line", f"{cash_flow_line!r} is not a line of the cash-flow statement")
        ]
    return []


def _chart_accounts() -> set[str]:
    return set(db.session.scalars(select(Account.code).where(Account.chart_version == BOOKS_CHART_VERSION)))


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound.thing("organisation", organisation_id)
    return organisation


def _find_period(organisation_id: uuid.UUID, year: int, month: int, *, lock: bool) -> AccountingPeriod | None:
    statement = select(AccountingPeriod).where(
        AccountingPeriod.organisation_id == organisation_id,
        AccountingPeriod.year == year,
        AccountingPeriod.month == month,
    )
    if lock:
        # A share lock: posting waits while the month is being closed, and closing waits for
        # postings in flight, so nothing lands in a month after its balances were taken.
        statement = statement.with_for_update(read=True)
    return db.session.scalar(statement)


def _period(actor: Actor, organisation_id: uuid.UUID, year: int, month: int) -> AccountingPeriod:
    """The month's period, opened (and recorded) on first use."""
    period = _find_period(organisation_id, year, month, lock=True)
    if period is not None:
        return period
    period = AccountingPeriod(
        organisation_id=organisation_id, year=year, month=month, status=PeriodStatus.OPEN.value
    )
    try:
        with db.session.begin_nested():
            db.session.add(period)
            db.session.flush()
            record_state(actor, "period.opened", "accounting_period", period)
    except IntegrityError:
        # Another request opened the same month at the same moment; use theirs.
        found = _find_period(organisation_id, year, month, lock=True)
        if found is None:
            raise
        return found
    return period


def _require_open_period(actor: Actor, organisation_id: uuid.UUID, on: date, field: str) -> None:
    period = _period(actor, organisation_id, on.year, on.month)
    if period.status == PeriodStatus.CLOSED.value:
        raise ValidationFailed.field(field, f"the period {on.year}-{on.month:02d} is closed")


def post_journal_entry(
    actor: Actor,
    organisation_id: uuid.UUID,
    entry_date: date,
    description: str,
    lines: list[PostingLine],
    *,
    source: EntrySource = EntrySource.ADJUSTMENT,
    source_id: str | None = None,
    reverses: JournalEntry | None = None,
    idempotency: IdempotencyClaim | None = None,
    cash_flow_line: str | None = None,
    into_closed_period: bool = False,
) -> JournalEntry:
    """Post a balanced entry; a finance officer's adjustment, or an event's booking.

    ``cash_flow_line`` classifies an adjustment that moves cash (required for one). Only the
    year-end closing posts ``into_closed_period``: its entries are dated on the last day of a
    year whose months are all closed, and it takes December's balances again itself.
    """
    if source is EntrySource.ADJUSTMENT:
        authorize(actor, Permission.POST_ADJUSTMENTS, organisation_id)
    _organisation(organisation_id)
    problems = entry_problems(lines, _chart_accounts()) + _fund_problems(organisation_id, lines)
    if source is EntrySource.ADJUSTMENT:
        problems += _cash_flow_problems(lines, cash_flow_line)
    if problems:
        errors: dict[str, list[str]] = defaultdict(list)
        for problem in problems:
            errors[problem.field].append(problem.message)
        raise ValidationFailed(
            "The entry cannot be posted: " + "; ".join(p.message for p in problems), errors=errors
        )
    if not description.strip():
        raise ValidationFailed.field("description", "must not be blank")
    if into_closed_period:
        _period(actor, organisation_id, entry_date.year, entry_date.month)
    else:
        _require_open_period(actor, organisation_id, entry_date, "date")
    entry = JournalEntry(
        organisation_id=organisation_id,
        entry_date=entry_date,
        description=description.strip(),
        source=source.value,
        source_id=source_id,
        reverses_id=reverses.id if reverses is not None else None,
        chart_version=BOOKS_CHART_VERSION,
        posting_count=len(lines),
        created_by=actor.audit_identity["id"],
        idempotency_key=idempotency.key if idempotency else None,
        request_hash=idempotency.fingerprint if idempotency else None,
        cash_flow_line=cash_flow_line,
    )
    db.session.add(entry)
    db.session.flush()
    for number, line in enumerate(lines, start=1):
        db.session.add(
            Posting(
                journal_entry_id=entry.id,
                line=number,
                organisation_id=organisation_id,
                entry_date=entry_date,
                account_code=line.account_code,
                side=line.side.value,
                amount_minor=line.amount.minor,
                currency=line.amount.currency,
                fund_id=line.fund_id,
                restriction=line.restriction,
            )
        )
    db.session.flush()
    record_event(
        actor,
        "journal_entry.posted",
        "journal_entry",
        entry.id,
        {
            "organisation_id": str(organisation_id),
            "date": entry_date.isoformat(),
            "description": entry.description,
            "source": source.value,
            "source_id": source_id,
            "reverses": str(reverses.id) if reverses is not None else None,
            "postings": [line.as_record() for line in lines],
            # Only when there is one, so that entries recorded before the field existed keep their form.
            **({"cash_flow_line": cash_flow_line} if cash_flow_line else {}),
        },
    )
    return entry


def _entry_for_key(actor: Actor, claim: IdempotencyClaim) -> JournalEntry | None:
    entry = db.session.scalar(
        select(JournalEntry).where(
            JournalEntry.created_by == actor.audit_identity["id"], JournalEntry.idempotency_key == claim.key
        )
    )
    if entry is not None:
        require_same_request(entry.request_hash, claim, "request")
    return entry


def post_journal_entry_once(
    actor: Actor, claim: IdempotencyClaim, post: Callable[[], JournalEntry]
) -> tuple[JournalEntry, bool]:
    """Run ``post`` unless ``claim``'s key already posted an entry; (entry, whether it is new).

    ``post`` must pass ``claim`` on to :func:`post_journal_entry`. When two attempts with one key
    race, the loser's insert fails on the unique key after the winner commits; its work is rolled
    back to the savepoint (audit entry included) and it answers with the winner's entry.
    """
    existing = _entry_for_key(actor, claim)
    if existing is not None:
        return existing, False
    try:
        with db.session.begin_nested():
            entry = post()
    except IntegrityError:
        existing = _entry_for_key(actor, claim)
        if existing is None:
            raise
        return existing, False
    return entry, True


def post_adjustment(
    actor: Actor,
    organisation_id: uuid.UUID,
    entry_date: date,
    description: str,
    lines: list[PostingLine],
    key: str | None,
    cash_flow_line: str | None = None,
) -> tuple[JournalEntry, bool]:
    """A finance officer's balanced adjustment, idempotent by ``key``; (entry, whether it is new)."""
    authorize(actor, Permission.POST_ADJUSTMENTS, organisation_id)
    claim = claim_key(
        key,
        {
            "organisation_id": str(organisation_id),
            "entry_date": entry_date.isoformat(),
            "description": description.strip(),
            "lines": [line.as_record() for line in lines],
            **({"cash_flow_line": cash_flow_line} if cash_flow_line else {}),
        },
        "adjustment",
    )
    return post_journal_entry_once(
        actor,
        claim,
        lambda: post_journal_entry(
            actor,
            organisation_id,
            entry_date,
            description,
            lines,
            idempotency=claim,
            cash_flow_line=cash_flow_line,
        ),
    )


def get_journal_entry(actor: Actor, entry_id: uuid.UUID) -> JournalEntry:
    entry = db.session.get(JournalEntry, entry_id)
    if entry is None:
        authorize(actor, Permission.READ_BOOKS)
        raise NotFound.thing("journal entry", entry_id)
    authorize(actor, Permission.READ_BOOKS, entry.organisation_id)
    return entry


def list_journal_entries(
    actor: Actor, organisation_id: uuid.UUID, request: PageRequest
) -> Page[JournalEntry]:
    authorize(actor, Permission.READ_BOOKS, organisation_id)
    _organisation(organisation_id)
    statement = (
        select(JournalEntry)
        .where(JournalEntry.organisation_id == organisation_id)
        .order_by(JournalEntry.entry_date.desc(), JournalEntry.created_at.desc(), JournalEntry.id)
    )
    return fetch_page(statement, request)


# What undoes an entry that a business event booked: the event's own action, which changes the
# business state with the books. The generic reversal is for finance officers' adjustments.
UNDO_ACTIONS = {
    EntrySource.EXPENSE_APPROVED.value: "void the expense report (POST /api/v1/expense-reports/{id}/void)",
    EntrySource.RESTRICTED_RELEASE.value: "void the expense report (POST /api/v1/expense-reports/{id}/void)",
    EntrySource.DISBURSEMENT_PAID.value: "reverse the payment (POST /api/v1/disbursements/{id}/reversal)",
    EntrySource.REFUND.value: "reverse the refund (POST /api/v1/funds/{fund_id}/refunds/{entry_id}/reversal)",
    EntrySource.YEAR_END_CLOSE.value: "reopen the year (POST /api/v1/organisations/{id}/years/{year}/reopen)",
}


def reverse_journal_entry(
    actor: Actor, entry_id: uuid.UUID, reversal_date: date, reason: str
) -> JournalEntry:
    """Post the mirror image of an adjustment: the correction that leaves history intact.

    An entry that a business event booked (an approved report, a payment, a refund, a year-end
    closing) is refused with the action that undoes the event, so that the books and the
    business state never disagree.
    """
    entry = get_journal_entry(actor, entry_id)
    authorize(actor, Permission.POST_ADJUSTMENTS, entry.organisation_id)
    if entry.source in UNDO_ACTIONS:
        raise Conflict(
            f"This entry was booked by a business event ({entry.source}); to undo it, "
            f"{UNDO_ACTIONS[entry.source]}.",
            errors={"entry": [UNDO_ACTIONS[entry.source]]},
        )
    return post_reversal(actor, entry, reversal_date, reason)


def post_reversal(
    actor: Actor,
    entry: JournalEntry,
    reversal_date: date,
    reason: str,
    *,
    lines: list[PostingLine] | None = None,
    into_closed_period: bool = False,
) -> JournalEntry:
    """Reverse ``entry`` (its mirror image, or ``lines`` when a later year needs other accounts).

    For the services that undo a business event; the caller has checked who may.
    """
    if not reason.strip():
        raise ValidationFailed.field("reason", "say why the entry is reversed")
    if reversal_date < entry.entry_date:
        raise ValidationFailed.field("date", "a reversal cannot be dated before the entry it reverses")
    if entry.source == EntrySource.REVERSAL.value:
        raise Conflict("A reversal is not reversed; post a new entry instead.")
    if db.session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id)) is not None:
        raise Conflict("This entry has already been reversed.")
    return post_journal_entry(
        actor,
        entry.organisation_id,
        reversal_date,
        f"Reversal: {reason.strip()}",
        lines if lines is not None else mirrored_lines(entry),
        source=EntrySource.REVERSAL,
        source_id=str(entry.id),
        reverses=entry,
        into_closed_period=into_closed_period,
    )


def mirrored_lines(entry: JournalEntry) -> list[PostingLine]:
    """``entry``'s postings with their sides swapped."""
    return [
        PostingLine(
            account_code=p.account_code,
            side=Side.CREDIT if p.side == Side.DEBIT.value else Side.DEBIT,
            amount=Money(p.currency, p.amount_minor),
            fund_id=p.fund_id,
            restriction=p.restriction,
        )
        for p in entry.postings
    ]


def list_periods(actor: Actor, organisation_id: uuid.UUID, request: PageRequest) -> Page[AccountingPeriod]:
    authorize(actor, Permission.READ_BOOKS, organisation_id)
    _organisation(organisation_id)
    statement = (
        select(AccountingPeriod)
        .where(AccountingPeriod.organisation_id == organisation_id)
        .order_by(AccountingPeriod.year.desc(), AccountingPeriod.month.desc())
    )
    return fetch_page(statement, request)


def set_period_status(
    actor: Actor,
    organisation_id: uuid.UUID,
    year: int,
    month: int,
    status: PeriodStatus,
    reason: str | None,
    expected_version: int | None,
    *,
    force: bool = False,
) -> AccountingPeriod:
    """Close a month, or reopen it with a recorded reason.

    A month closes once it has ended (its last day has passed in China), and months close in
    order: not while an earlier month of the organisation's books is open, unless an admin
    ``force``s it with a reason. A month of a closed year is reopened only by reopening the year
    (``year_end.reopen_year``).
    """
    from ledger.services import year_end  # it builds on this module

    authorize(actor, Permission.FORCE_PERIOD_CLOSE if force else Permission.CLOSE_PERIODS, organisation_id)
    _organisation(organisation_id)
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValidationFailed.field("period", "must be a month between 2000-01 and 2100-12")
    if force and status is not PeriodStatus.CLOSED:
        raise ValidationFailed.field("force", "only closing a month can be forced")
    if force and not (reason or "").strip():
        raise ValidationFailed.field("reason", "say why the month is closed before the earlier ones")
    if status is PeriodStatus.CLOSED and not has_ended(month_range(year, month)[1]):
        raise ValidationFailed.field(
            "period", f"the month {year}-{month:02d} has not ended; it can be closed from its next day on"
        )
    period = _period(actor, organisation_id, year, month)
    check_version(period, expected_version)
    if period.status == status.value:
        raise Conflict(f"The period {year}-{month:02d} is already {status.value}.")
    if status is PeriodStatus.OPEN and not (reason or "").strip():
        raise ValidationFailed.field("reason", "say why a closed period is reopened")
    open_before: list[str] = []
    if status is PeriodStatus.OPEN:
        closed_years = sorted(y for y in year_end.closed_years_of(organisation_id) if y >= year)
        if closed_years:
            raise Conflict(
                f"The year {closed_years[0]} is closed: reopen the year first to reopen {year}-{month:02d}."
            )
    else:
        open_before = [
            f"{p.year}-{p.month:02d}"
            for p in db.session.scalars(
                select(AccountingPeriod)
                .where(
                    AccountingPeriod.organisation_id == organisation_id,
                    AccountingPeriod.status == PeriodStatus.OPEN.value,
                    or_(
                        AccountingPeriod.year < year,
                        and_(AccountingPeriod.year == year, AccountingPeriod.month < month),
                    ),
                )
                .order_by(AccountingPeriod.year, AccountingPeriod.month)
            )
        ]
        if open_before and not force:
            raise Conflict(
                f"Months close in order: close {open_before[0]} first "
                f"(open before {year}-{month:02d}: {', '.join(open_before)})."
            )
    period.status = status.value
    period.changed_at = utcnow()
    db.session.flush()
    if status is PeriodStatus.CLOSED:
        _take_period_balances(period)
    record_state(
        actor,
        f"period.{'closed' if status is PeriodStatus.CLOSED else 'reopened'}",
        "accounting_period",
        period,
    )
    if reason:
        record_event(
            actor,
            "period.reason",
            "accounting_period",
            period.id,
            {"reason": reason.strip(), **({"forced": True, "open_before": open_before} if force else {})},
        )
    return period


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


def month_range(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


_DEBITS = func.sum(case((Posting.side == Side.DEBIT.value, Posting.amount_minor), else_=0))
_CREDITS = func.sum(case((Posting.side == Side.CREDIT.value, Posting.amount_minor), else_=0))


def _take_period_balances(period: AccountingPeriod) -> None:
    """Store each account's movement in a month being closed (nothing posts into it any more)."""
    first, last = month_range(period.year, period.month)
    movements = db.session.execute(
        select(Posting.account_code, Posting.currency, _DEBITS, _CREDITS)
        .where(
            Posting.organisation_id == period.organisation_id,
            Posting.entry_date >= first,
            Posting.entry_date <= last,
        )
        .group_by(Posting.account_code, Posting.currency)
    ).all()
    taken_at = utcnow()
    db.session.add_all(
        PeriodBalance(
            period_id=period.id,
            period_version=period.version,
            account_code=code,
            currency=currency,
            debit_minor=int(debits or 0),
            credit_minor=int(credits or 0),
            taken_at=taken_at,
        )
        for code, currency, debits, credits in movements
    )
    db.session.flush()


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
            select(Posting.account_code, Posting.currency, _DEBITS, _CREDITS)
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
    _organisation(organisation_id)
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


def period_balance_problems() -> list[str]:
    """Closed months whose stored balances differ from their postings (for ``ledger audit verify``)."""
    problems = []
    for period in db.session.scalars(
        select(AccountingPeriod).where(AccountingPeriod.status == PeriodStatus.CLOSED.value)
    ):
        first, last = month_range(period.year, period.month)
        postings = {
            (code, currency): (int(d or 0), int(c or 0))
            for code, currency, d, c in db.session.execute(
                select(Posting.account_code, Posting.currency, _DEBITS, _CREDITS)
                .where(
                    Posting.organisation_id == period.organisation_id,
                    Posting.entry_date.between(first, last),
                )
                .group_by(Posting.account_code, Posting.currency)
            )
        }
        stored = {
            (b.account_code, b.currency): (b.debit_minor, b.credit_minor)
            for b in db.session.scalars(
                select(PeriodBalance).where(
                    PeriodBalance.period_id == period.id, PeriodBalance.period_version == period.version
                )
            )
        }
        if stored != postings:
            accounts = sorted(
                {k[0] for k in stored.keys() ^ postings.keys()}
                | {k[0] for k in stored.keys() & postings.keys() if stored[k] != postings[k]}
            )
            problems.append(
                f"period {period.year}-{period.month:02d} of organisation {period.organisation_id}: "
                f"the balances taken at its close differ from its postings in {', '.join(accounts)}"
            )
    return problems
