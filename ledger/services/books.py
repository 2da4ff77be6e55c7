"""Posting to the books: balanced journal entries, reversals, periods and the trial balance.

A journal entry is checked here before anything is written (balance per currency, accounts in
the chart, positive amounts, an open period) and problems are returned as values, each naming
its line, so that a client learns everything wrong at once. The database checks the balance
again on commit. Entries are never edited: ``reverse_journal_entry`` posts the mirror image.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.models.base import utcnow
from ledger.models.books import AccountingPeriod, EntrySource, JournalEntry, PeriodStatus, Posting, Side
from ledger.models.fund import Fund
from ledger.models.organisation import Organisation
from ledger.models.reference import Account
from ledger.money import Money
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event, record_state
from ledger.services.concurrency import check_version
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


def _fund_problems(organisation_id: uuid.UUID, lines: list[PostingLine]) -> list[EntryProblem]:
    """A posting's fund must be one of the organisation's funds."""
    wanted = {line.fund_id for line in lines if line.fund_id is not None}
    if not wanted:
        return []
    own = set(
        db.session.scalars(
            select(Fund.id).where(Fund.id.in_(wanted), Fund.organisation_id == organisation_id)
        )
    )
    return [
        EntryProblem(f"lines.{number}.fund_id", "is not a fund of this organisation")
        for number, line in enumerate(lines)
        if line.fund_id is not None and line.fund_id not in own
    ]


def _chart_accounts() -> set[str]:
    return set(db.session.scalars(select(Account.code).where(Account.chart_version == BOOKS_CHART_VERSION)))


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound.thing("organisation", organisation_id)
    return organisation


def _period(
    actor: Actor, organisation_id: uuid.UUID, year: int, month: int, *, create: bool
) -> AccountingPeriod | None:
    period = db.session.scalar(
        select(AccountingPeriod).where(
            AccountingPeriod.organisation_id == organisation_id,
            AccountingPeriod.year == year,
            AccountingPeriod.month == month,
        )
    )
    if period is None and create:
        period = AccountingPeriod(
            organisation_id=organisation_id, year=year, month=month, status=PeriodStatus.OPEN.value
        )
        db.session.add(period)
        db.session.flush()
        record_state(actor, "period.opened", "accounting_period", period)
    return period


def _require_open_period(actor: Actor, organisation_id: uuid.UUID, on: date, field: str) -> None:
    period = _period(actor, organisation_id, on.year, on.month, create=True)
    assert period is not None
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
) -> JournalEntry:
    """Post a balanced entry; a finance officer's adjustment, or an event's booking."""
    if source is EntrySource.ADJUSTMENT:
        authorize(actor, Permission.POST_ADJUSTMENTS, organisation_id)
    _organisation(organisation_id)
    problems = entry_problems(lines, _chart_accounts()) + _fund_problems(organisation_id, lines)
    if problems:
        errors: dict[str, list[str]] = defaultdict(list)
        for problem in problems:
            errors[problem.field].append(problem.message)
        raise ValidationFailed(
            "The entry cannot be posted: " + "; ".join(p.message for p in problems), errors=errors
        )
    if not description.strip():
        raise ValidationFailed.field("description", "must not be blank")
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
            "postings": [
                {
                    "account": line.account_code,
                    "side": line.side.value,
                    "amount": str(line.amount),
                    "currency": line.amount.currency,
                    "fund_id": str(line.fund_id) if line.fund_id else None,
                    "restriction": line.restriction,
                }
                for line in lines
            ],
        },
    )
    return entry


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


def reverse_journal_entry(
    actor: Actor, entry_id: uuid.UUID, reversal_date: date, reason: str
) -> JournalEntry:
    """Post the mirror image of an entry: the correction that leaves history intact."""
    entry = get_journal_entry(actor, entry_id)
    authorize(actor, Permission.POST_ADJUSTMENTS, entry.organisation_id)
    if not reason.strip():
        raise ValidationFailed.field("reason", "say why the entry is reversed")
    if reversal_date < entry.entry_date:
        raise ValidationFailed.field("date", "a reversal cannot be dated before the entry it reverses")
    if entry.source == EntrySource.REVERSAL.value:
        raise Conflict("A reversal is not reversed; post a new entry instead.")
    if db.session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id)) is not None:
        raise Conflict("This entry has already been reversed.")
    mirrored = [
        PostingLine(
            account_code=p.account_code,
            side=Side.CREDIT if p.side == Side.DEBIT.value else Side.DEBIT,
            amount=Money(p.currency, p.amount_minor),
            fund_id=p.fund_id,
            restriction=p.restriction,
        )
        for p in entry.postings
    ]
    return post_journal_entry(
        actor,
        entry.organisation_id,
        reversal_date,
        f"Reversal: {reason.strip()}",
        mirrored,
        source=EntrySource.REVERSAL,
        source_id=str(entry.id),
        reverses=entry,
    )


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
) -> AccountingPeriod:
    """Close a month, or reopen it with a recorded reason."""
    authorize(actor, Permission.CLOSE_PERIODS, organisation_id)
    _organisation(organisation_id)
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValidationFailed.field("period", "must be a month between 2000-01 and 2100-12")
    period = _period(actor, organisation_id, year, month, create=True)
    assert period is not None
    check_version(period, expected_version)
    if period.status == status.value:
        raise Conflict(f"The period {year}-{month:02d} is already {status.value}.")
    if status is PeriodStatus.OPEN and not (reason or "").strip():
        raise ValidationFailed.field("reason", "say why a closed period is reopened")
    period.status = status.value
    period.changed_at = utcnow()
    db.session.flush()
    record_state(
        actor,
        f"period.{'closed' if status is PeriodStatus.CLOSED else 'reopened'}",
        "accounting_period",
        period,
    )
    if reason:
        record_event(actor, "period.reason", "accounting_period", period.id, {"reason": reason.strip()})
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


def trial_balance(actor: Actor, organisation_id: uuid.UUID, as_of: date) -> TrialBalance:
    """Debit and credit totals per account up to ``as_of``, derived from the postings alone."""
    authorize(actor, Permission.READ_BOOKS, organisation_id)
    _organisation(organisation_id)
    debit = func.sum(case((Posting.side == Side.DEBIT.value, Posting.amount_minor), else_=0))
    credit = func.sum(case((Posting.side == Side.CREDIT.value, Posting.amount_minor), else_=0))
    rows = db.session.execute(
        select(Posting.account_code, Posting.currency, debit, credit)
        .where(Posting.organisation_id == organisation_id, Posting.entry_date <= as_of)
        .group_by(Posting.account_code, Posting.currency)
        .order_by(Posting.account_code, Posting.currency)
    ).all()
    names = {
        a.code: a
        for a in db.session.scalars(select(Account).where(Account.chart_version == BOOKS_CHART_VERSION))
    }
    return TrialBalance(
        organisation_id,
        as_of,
        [
            TrialBalanceRow(
                code,
                names[code].name_zh,
                names[code].name_en,
                currency,
                Money(currency, int(d or 0)),
                Money(currency, int(c or 0)),
            )
            for code, currency, d, c in rows
        ],
    )
