"""Accounting periods: the months of an organisation's books, opened on use, closed in order.

Nothing posts into a closed month. A month closes once it has ended (its last day has passed in
China), months close in order (an admin may force one with a reason), and reopening needs a
reason; a month of a closed year reopens only with the year (``ledger.services.year_end``).
Closing a month stores each account's movement in it (``period_balance``), which the trial
balance adds up instead of re-reading the month's postings; ``ledger audit verify`` checks the
stored balances against the postings (``period_balance_problems``).
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date

from sqlalchemy import and_, case, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from ledger.business_dates import has_ended
from ledger.errors import Conflict, LedgerError, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.books import AccountingPeriod, PeriodBalance, PeriodStatus, Posting, Side
from ledger.models.organisation import Organisation
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event, record_state
from ledger.services.concurrency import check_version
from ledger.services.pagination import Page, PageRequest, fetch_page


def _already(status: PeriodStatus, year: int, month: int) -> Conflict:
    """The period is already as asked: one message per status, so that each reads well translated."""
    period = f"{year}-{month:02d}"
    if status is PeriodStatus.OPEN:
        return Conflict(
            translatable("The period %(period)s is already open.", period=period), code="period.unchanged"
        )
    return Conflict(
        translatable("The period %(period)s is already closed.", period=period), code="period.unchanged"
    )


def existing_organisation(organisation_id: uuid.UUID) -> Organisation:
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


def open_period(actor: Actor, organisation_id: uuid.UUID, year: int, month: int) -> AccountingPeriod:
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


def require_open_period(actor: Actor, organisation_id: uuid.UUID, on: date, field: str) -> None:
    period = open_period(actor, organisation_id, on.year, on.month)
    if period.status == PeriodStatus.CLOSED.value:
        raise ValidationFailed.field(
            field,
            translatable("the period %(period)s is closed", period=f"{on.year}-{on.month:02d}"),
            code="period.closed",
        )


def list_periods(actor: Actor, organisation_id: uuid.UUID, request: PageRequest) -> Page[AccountingPeriod]:
    authorize(actor, Permission.READ_BOOKS, organisation_id)
    existing_organisation(organisation_id)
    statement = (
        select(AccountingPeriod)
        .where(AccountingPeriod.organisation_id == organisation_id)
        .order_by(AccountingPeriod.year.desc(), AccountingPeriod.month.desc())
    )
    return fetch_page(statement, request)


# The months this transaction holds share-locked and open, with the funds read with them
# (``books._period_and_funds``): {(organisation_id, year, month): {fund_id: restricted}}. The lock
# lasts until the transaction ends and keeps the month open, so a second posting into the month
# (an approval books the expense, then releases the restriction) needs neither again.
_OPEN_MONTHS = "ledger.periods.open_months"


def months_held_open() -> dict[tuple[uuid.UUID, int, int], dict[uuid.UUID, bool]]:
    held: dict[tuple[uuid.UUID, int, int], dict[uuid.UUID, bool]] = db.session.info.setdefault(
        _OPEN_MONTHS, {}
    )
    return held


@event.listens_for(Session, "after_transaction_end")
def _forget_open_months(session: Session, transaction: SessionTransaction) -> None:
    """Every transaction's end, a savepoint's included, forgets them: a savepoint rolled back
    releases the locks taken inside it."""
    session.info.pop(_OPEN_MONTHS, None)


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
    authorize(actor, Permission.FORCE_PERIOD_CLOSE if force else Permission.CLOSE_PERIODS, organisation_id)
    existing_organisation(organisation_id)
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValidationFailed.field("period", translatable("must be a month between 2000-01 and 2100-12"))
    if force and status is not PeriodStatus.CLOSED:
        raise ValidationFailed.field("force", translatable("only closing a month can be forced"))
    if force and not (reason or "").strip():
        raise ValidationFailed.field(
            "reason", translatable("say why the month is closed before the earlier ones")
        )
    if status is PeriodStatus.CLOSED and (not_ended := _not_ended_refusal(year, month)) is not None:
        raise not_ended  # before the month's row is opened for it
    period = open_period(actor, organisation_id, year, month)
    check_version(period, expected_version)
    if period.status == status.value:
        raise _already(status, year, month)
    if status is PeriodStatus.OPEN and not (reason or "").strip():
        raise ValidationFailed.field("reason", translatable("say why a closed period is reopened"))
    if (refusal := period_change_refusal(period, status, force=force)) is not None:
        raise refusal
    open_before = _open_before(period) if force else []
    period.status = status.value
    db.session.info.pop(_OPEN_MONTHS, None)
    period.changed_at = utcnow()
    db.session.flush()
    if status is PeriodStatus.CLOSED:
        take_period_balances(period)
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


def _not_ended_refusal(year: int, month: int) -> ValidationFailed | None:
    if not has_ended(month_range(year, month)[1]):
        return ValidationFailed.field(
            "period",
            translatable(
                "the month %(month)s has not ended; it can be closed from its next day on",
                month=f"{year}-{month:02d}",
            ),
        )
    return None


def _open_before(period: AccountingPeriod) -> list[str]:
    """The organisation's open months before ``period``'s, oldest first ("2026-01")."""
    year, month = period.year, period.month
    return [
        f"{p.year}-{p.month:02d}"
        for p in db.session.scalars(
            select(AccountingPeriod)
            .where(
                AccountingPeriod.organisation_id == period.organisation_id,
                AccountingPeriod.status == PeriodStatus.OPEN.value,
                or_(
                    AccountingPeriod.year < year,
                    and_(AccountingPeriod.year == year, AccountingPeriod.month < month),
                ),
            )
            .order_by(AccountingPeriod.year, AccountingPeriod.month)
        )
    ]


def period_change_refusal(
    period: AccountingPeriod, status: PeriodStatus, *, force: bool = False
) -> LedgerError | None:
    """Why ``period`` cannot be closed (or reopened) now, or None when it can (a reason aside).

    A month closes once it has ended and after every earlier month (unless ``force``d); a month
    of a closed year reopens only with the year.
    """
    from ledger.services import year_end  # it builds on this module

    year, month = period.year, period.month
    if period.status == status.value:
        return _already(status, year, month)
    if status is PeriodStatus.OPEN:
        closed_years = sorted(y for y in year_end.closed_years_of(period.organisation_id) if y >= year)
        if closed_years:
            return Conflict(
                translatable(
                    "The year %(year)s is closed: reopen the year first to reopen %(month)s.",
                    year=closed_years[0],
                    month=f"{year}-{month:02d}",
                ),
                code="period.year_closed",
            )
        return None
    if (refusal := _not_ended_refusal(year, month)) is not None:
        return refusal
    open_before = _open_before(period)
    if open_before and not force:
        return Conflict(
            translatable(
                "Months close in order: close %(first)s first (open before %(month)s: %(open)s).",
                first=open_before[0],
                month=f"{year}-{month:02d}",
                open=", ".join(open_before),
            ),
            code="period.out_of_order",
        )
    return None


def month_range(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


DEBITS = func.sum(case((Posting.side == Side.DEBIT.value, Posting.amount_minor), else_=0))


CREDITS = func.sum(case((Posting.side == Side.CREDIT.value, Posting.amount_minor), else_=0))


def take_period_balances(period: AccountingPeriod) -> None:
    """Store each account's movement in a month being closed (nothing posts into it any more)."""
    first, last = month_range(period.year, period.month)
    movements = db.session.execute(
        select(Posting.account_code, Posting.currency, DEBITS, CREDITS)
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
                select(Posting.account_code, Posting.currency, DEBITS, CREDITS)
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
