"""Posting to the books: balanced journal entries and their reversals.

A journal entry is checked here before anything is written (balance per currency, accounts in
the chart, positive amounts, an open period) and problems are returned as values, each naming
its line, so that a client learns everything wrong at once. The database checks the balance
again on commit. Entries are never edited: ``reverse_journal_entry`` posts the mirror image.
Months are in ``ledger.services.periods``, the trial balance in ``ledger.services.trial_balance``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Set
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, bindparam, select

from ledger.cash_flow import CASH_ACCOUNTS, CASH_FLOW_KEYS
from ledger.errors import Conflict, LedgerError, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.books import (
    AccountingPeriod,
    EntrySource,
    JournalEntry,
    PeriodStatus,
    Side,
)
from ledger.models.fund import Fund
from ledger.money import Money
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event
from ledger.services.idempotency import IdempotencyClaim, claim_key, require_same_request
from ledger.services.pagination import Page, PageRequest, fetch_page
from ledger.services.periods import (
    existing_organisation,
    months_held_open,
    open_period,
    require_open_period,
)
from ledger.services.posting_rows import insert_entry
from ledger.services.reference_data import chart_account_codes

BOOKS_CHART_VERSION = "NPO-2005"
# The two net-asset accounts of the chart: 非限定性净资产 and 限定性净资产.
UNRESTRICTED_NET_ASSETS = "3101"
RESTRICTED_NET_ASSETS = "3102"
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


def entry_problems(lines: list[PostingLine], accounts: Set[str]) -> list[EntryProblem]:
    """Everything wrong with ``lines`` as a balanced entry on a chart with ``accounts``."""
    problems: list[EntryProblem] = []
    if len(lines) < 2:
        problems.append(EntryProblem("lines", translatable("an entry needs at least two lines")))
    if len(lines) > MAX_LINES:
        problems.append(
            EntryProblem("lines", translatable("an entry has at most %(limit)s lines", limit=MAX_LINES))
        )
    totals: dict[str, dict[Side, int]] = defaultdict(lambda: {Side.DEBIT: 0, Side.CREDIT: 0})
    for number, line in enumerate(lines):
        if line.account_code not in accounts:
            problems.append(
                EntryProblem(
                    f"lines.{number}.account_code",
                    translatable("'%(account)s' is not in the chart", account=line.account_code),
                )
            )
        if not line.amount.is_positive:
            problems.append(EntryProblem(f"lines.{number}.amount", translatable("must be more than zero")))
        totals[line.amount.currency][line.side] += line.amount.minor
    for currency, sides in sorted(totals.items()):
        if sides[Side.DEBIT] != sides[Side.CREDIT]:
            debit, credit = Money(currency, sides[Side.DEBIT]), Money(currency, sides[Side.CREDIT])
            problems.append(
                EntryProblem(
                    "lines",
                    translatable(
                        "debits (%(debit)s) and credits (%(credit)s) differ",
                        debit=debit.shown(),
                        credit=credit.shown(),
                    ),
                )
            )
    return problems


RESTRICTIONS = ("restricted", "unrestricted")


def _funds_of(organisation_id: uuid.UUID, lines: list[PostingLine]) -> dict[uuid.UUID, bool]:
    """Whether each of the lines' funds that is the organisation's is restricted (no query without one)."""
    wanted = {line.fund_id for line in lines if line.fund_id is not None}
    if not wanted:
        return {}
    statement = select(Fund.id, Fund.restricted).where(
        Fund.id.in_(wanted), Fund.organisation_id == organisation_id
    )
    return {fund_id: restricted for fund_id, restricted in db.session.execute(statement)}


def _fund_problems(
    restricted_funds: dict[uuid.UUID, bool], lines: list[PostingLine], *, by_hand: bool
) -> list[EntryProblem]:
    """A posting's fund must be one of the organisation's funds, and its restriction the fund's.

    ``restricted_funds`` are the lines' funds that are the organisation's, each with whether it
    is restricted. Only a restricted fund's money is restricted: a line marked restricted needs
    a restricted fund. (A restricted fund's line may be unrestricted: that is how a restriction
    is released.) A finance officer's line on a restricted fund's revenue (``by_hand``) must say
    which it is; the events always do, and what they reverse or close carries what was booked.
    """
    problems: list[EntryProblem] = []
    for number, line in enumerate(lines):
        if line.fund_id is not None and line.fund_id not in restricted_funds:
            problems.append(
                EntryProblem(f"lines.{number}.fund_id", translatable("is not a fund of this organisation"))
            )
        elif line.restriction is not None and line.restriction not in RESTRICTIONS:
            problems.append(
                EntryProblem(
                    f"lines.{number}.restriction", translatable("must be restricted or unrestricted")
                )
            )
        elif line.restriction == "restricted" and not restricted_funds.get(line.fund_id):  # type: ignore[arg-type]
            problems.append(
                EntryProblem(
                    f"lines.{number}.restriction",
                    translatable("only a restricted fund's money is restricted"),
                )
            )
        elif (
            by_hand
            and line.restriction is None
            and line.account_code.startswith("4")
            and restricted_funds.get(line.fund_id)  # type: ignore[arg-type]
        ):
            problems.append(
                EntryProblem(
                    f"lines.{number}.restriction",
                    translatable(
                        "a restricted fund's revenue line says whether it is restricted or unrestricted"
                    ),
                )
            )
    return problems


def _cash_flow_problems(lines: list[PostingLine], cash_flow_line: str | None) -> list[EntryProblem]:
    """An adjustment that moves cash names its line of the cash-flow statement; others do not."""
    moves_cash = any(line.account_code in CASH_ACCOUNTS for line in lines)
    if moves_cash and cash_flow_line is None:
        return [
            EntryProblem(
                "cash_flow_line",
                translatable("an entry that moves cash names its line of the cash-flow statement"),
            )
        ]
    if cash_flow_line is not None and not moves_cash:
        return [
            EntryProblem("cash_flow_line", translatable("only an entry that moves cash has a cash-flow line"))
        ]
    if cash_flow_line is not None and cash_flow_line not in CASH_FLOW_KEYS:
        return [
            EntryProblem(
                "cash_flow_line",
                translatable("'%(line)s' is not a line of the cash-flow statement", line=cash_flow_line),
            )
        ]
    return []


_THE_MONTH = (
    AccountingPeriod.organisation_id == bindparam("organisation_id"),
    AccountingPeriod.year == bindparam("year"),
    AccountingPeriod.month == bindparam("month"),
)
# Built once: constructing a statement costs more than the database takes to run it.
_MONTH_STATUS = select(AccountingPeriod.status).where(*_THE_MONTH).with_for_update(read=True)
_MONTH_STATUS_AND_FUNDS = (
    select(AccountingPeriod.status, Fund.id, Fund.restricted)
    .outerjoin(
        Fund,
        and_(
            Fund.organisation_id == AccountingPeriod.organisation_id,
            Fund.id.in_(bindparam("funds", expanding=True)),
        ),
    )
    .where(*_THE_MONTH)
    .with_for_update(read=True, of=AccountingPeriod)
)


def _period_and_funds(
    organisation_id: uuid.UUID, on: date, lines: list[PostingLine]
) -> tuple[str | None, dict[uuid.UUID, bool]]:
    """The status of ``on``'s month (None: not opened yet), share-locked, and the lines' funds.

    One statement: the month's row ``FOR SHARE`` (posting waits while the month is being
    closed, and closing waits for postings in flight, see ``periods._find_period``), joined to
    the lines' funds of the organisation. The row's foreign key also shows that the organisation
    exists, so it is not loaded. Without the row (the month's first posting), the funds are
    read on their own. A month this transaction already holds open, with these funds read, is
    not asked again.
    """
    wanted = {line.fund_id for line in lines if line.fund_id is not None}
    key = (organisation_id, on.year, on.month)
    held = months_held_open()
    known = held.get(key)
    if known is not None and wanted <= known.keys():
        return PeriodStatus.OPEN.value, {fund_id: known[fund_id] for fund_id in wanted}
    month = {"organisation_id": organisation_id, "year": on.year, "month": on.month}
    connection = db.session.connection()
    if not wanted:
        status = connection.execute(_MONTH_STATUS, month).scalar()
        funds: dict[uuid.UUID, bool] = {}
    else:
        rows = connection.execute(_MONTH_STATUS_AND_FUNDS, {**month, "funds": sorted(wanted)}).all()
        if not rows:
            return None, {}
        status = rows[0][0]
        funds = {fund_id: restricted for _, fund_id, restricted in rows if fund_id is not None}
    if status == PeriodStatus.OPEN.value:
        held[key] = {**(known or {}), **funds}
    return status, funds


class KeyAlreadyUsed(Exception):
    """The entry's idempotency key posted ``entry`` already, for the same request."""

    def __init__(self, entry: JournalEntry) -> None:
        super().__init__(entry.id)
        self.entry = entry


# The keys that posted an entry in the current call of ``post_journal_entry_once``.
_POSTED_KEYS = "ledger.books.posted_keys"


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
    # What the caller changed goes first (the statements below run on the connection, which
    # does not flush the session): a fund it created is then there to be checked and referred to.
    db.session.flush()
    status, funds = _period_and_funds(organisation_id, entry_date, lines)
    if status is None:  # the month's first posting: the slow way, which opens the month
        existing_organisation(organisation_id)
        funds = _funds_of(organisation_id, lines)
    by_hand = source is EntrySource.ADJUSTMENT
    problems = entry_problems(lines, chart_account_codes(BOOKS_CHART_VERSION)) + _fund_problems(
        funds, lines, by_hand=by_hand
    )
    if by_hand:
        problems += _cash_flow_problems(lines, cash_flow_line)
    if problems:
        existing_organisation(organisation_id)  # an unknown organisation is a 404 first
        errors: dict[str, list[str]] = defaultdict(list)
        for problem in problems:
            errors[problem.field].append(problem.message)
        raise ValidationFailed(
            "The entry cannot be posted: " + "; ".join(p.message for p in problems), errors=errors
        )
    if not description.strip():
        raise ValidationFailed.field("description", translatable("must not be blank"))
    if status is None and into_closed_period:
        open_period(actor, organisation_id, entry_date.year, entry_date.month)
    elif status is None or (status == PeriodStatus.CLOSED.value and not into_closed_period):
        require_open_period(actor, organisation_id, entry_date, "date")
    entry = insert_entry(
        {
            "organisation_id": organisation_id,
            "entry_date": entry_date,
            "description": description.strip(),
            "source": source.value,
            "source_id": source_id,
            "reverses_id": reverses.id if reverses is not None else None,
            "chart_version": BOOKS_CHART_VERSION,
            "posting_count": len(lines),
            "created_by": actor.audit_identity["id"],
            "idempotency_key": idempotency.key if idempotency else None,
            "request_hash": idempotency.fingerprint if idempotency else None,
            "cash_flow_line": cash_flow_line,
        },
        [
            {
                "account_code": line.account_code,
                "side": line.side.value,
                "amount_minor": line.amount.minor,
                "currency": line.amount.currency,
                "fund_id": line.fund_id,
                "restriction": line.restriction,
            }
            for line in lines
        ],
    )
    if entry is None:
        assert idempotency is not None  # only a keyed entry is written "once"
        existing = _entry_for_key(actor, idempotency)
        if existing is None:  # the key's entry vanished between the two statements: entries are never removed
            raise RuntimeError("an idempotency key conflicted but names no entry")
        raise KeyAlreadyUsed(existing)
    if idempotency is not None:
        db.session.info.setdefault(_POSTED_KEYS, set()).add(idempotency.key)
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

    ``post`` must pass ``claim`` on to :func:`post_journal_entry` and write nothing before it.
    The key is not looked up first: the entry's insert finds it (``KeyAlreadyUsed``), and when
    two attempts with one key race, the second waits at the key for the first to commit. A
    retry whose checks fail now because the first attempt went through (a refund of what is no
    longer unspent) is answered with the first attempt's entry, and a different request with
    the key is refused, as before the checks.
    """
    posted: set[str] = db.session.info.setdefault(_POSTED_KEYS, set())
    posted.discard(claim.key)
    try:
        return post(), True
    except KeyAlreadyUsed as used:
        return used.entry, False
    except LedgerError:
        if claim.key in posted:
            raise  # this call posted the key's entry: the refusal is about what came after
        existing = _entry_for_key(actor, claim)
        if existing is None:
            raise
        return existing, False
    finally:
        posted.discard(claim.key)


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
    existing_organisation(organisation_id)
    statement = (
        select(JournalEntry)
        .where(JournalEntry.organisation_id == organisation_id)
        .order_by(JournalEntry.entry_date.desc(), JournalEntry.created_at.desc(), JournalEntry.id)
    )
    return fetch_page(statement, request)


# What undoes an entry that a business event booked: the event's own action, which changes the
# business state with the books. The generic reversal is for finance officers' adjustments.
_VOID_REPORT = translatable("void the expense report (POST /api/v1/expense-reports/{id}/void)")
UNDO_ACTIONS = {
    EntrySource.EXPENSE_APPROVED.value: _VOID_REPORT,
    EntrySource.RESTRICTED_RELEASE.value: _VOID_REPORT,
    EntrySource.DISBURSEMENT_PAID.value: translatable(
        "reverse the payment (POST /api/v1/disbursements/{id}/reversal)"
    ),
    EntrySource.REFUND.value: translatable(
        "reverse the refund (POST /api/v1/funds/{fund_id}/refunds/{entry_id}/reversal)"
    ),
    EntrySource.YEAR_END_CLOSE.value: translatable(
        "reopen the year (POST /api/v1/organisations/{id}/years/{year}/reopen)"
    ),
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
            translatable(
                "This entry was booked by a business event (%(source)s); to undo it, %(undo)s.",
                source=entry.source,
                undo=UNDO_ACTIONS[entry.source],
            ),
            errors={"entry": [UNDO_ACTIONS[entry.source]]},
            code="journal_entry.booked_by_event",
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
        raise ValidationFailed.field("reason", translatable("say why the entry is reversed"))
    if reversal_date < entry.entry_date:
        raise ValidationFailed.field(
            "date", translatable("a reversal cannot be dated before the entry it reverses")
        )
    if entry.source == EntrySource.REVERSAL.value:
        raise Conflict(
            translatable("A reversal is not reversed; post a new entry instead."),
            code="journal_entry.is_reversal",
        )
    if db.session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id)) is not None:
        raise Conflict(
            translatable("This entry has already been reversed."), code="journal_entry.already_reversed"
        )
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
