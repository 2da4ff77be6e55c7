"""What one posting costs the database, counted in statements (never timed: speed is in bench/).

A two-leg entry with its audit entry sends at most five statements in its transaction, on both
databases: the month's row (share-locked; on SQLite the transaction's ``BEGIN IMMEDIATE``
instead stands in the count), the entry with its idempotency key, its postings, and its queued
audit entry. Appending the entry to the log is the sequencer's work, after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import event, select

from ledger.audit.trail import has_pending_records, sequence_pending
from ledger.errors import ValidationFailed
from ledger.extensions import db
from ledger.models import User
from ledger.models.books import JournalEntry, PeriodStatus, Posting, Side
from ledger.money import Money
from ledger.services.access import Actor
from ledger.services.audit_verification import verify_database
from ledger.services.books import PostingLine, post_adjustment
from ledger.services.periods import set_period_status
from tests.conftest import DemoWorld

LIMIT = 5


@contextmanager
def _statements() -> Iterator[list[str]]:
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


LINES = [
    PostingLine("1002", Side.DEBIT, Money("CNY", 125000)),
    PostingLine("4401", Side.CREDIT, Money("CNY", 125000)),
]


def _adjust(actor: Actor, organisation_id: uuid.UUID, key: str) -> tuple[JournalEntry, bool]:
    """The grant received, posted in March 2026 under ``key`` (not committed)."""
    return post_adjustment(
        actor,
        organisation_id,
        date(2026, 3, 15),
        "政府补助到账 Grant received",
        LINES,
        key,
        "grants_received",
    )


def _post(actor: Actor, organisation_id: uuid.UUID, key: str) -> tuple[JournalEntry, bool]:
    """Post and commit the transaction (its queued entry is appended to the log afterwards)."""
    posted = _adjust(actor, organisation_id, key)
    db.session.commit()
    return posted


def test_a_two_leg_posting_with_its_audit_entry_sends_at_most_five_statements(
    app: Flask, world: DemoWorld
) -> None:
    organisation_id = uuid.UUID(world.member_organisation["member01"])
    with app.app_context():
        actor = Actor.of(db.session.scalars(select(User).where(User.username == "finance1")).one())
        db.session.rollback()
        _post(actor, organisation_id, "opens-the-month")  # the month's first posting opens it
        has_pending_records()
        sequence_pending()
        with _statements() as sent:
            entry, created = _post(actor, organisation_id, "counted")
        assert created
        assert len(sent) <= LIMIT, "\n".join(sent)
        assert [(p.line, p.account_code, p.amount_minor) for p in entry.postings] == [
            (1, "1002", 125000),
            (2, "4401", 125000),
        ]
        assert has_pending_records()
        assert sequence_pending() == 1

        # The same key and request: the first entry, and nothing written.
        again, created = _post(actor, organisation_id, "counted")
        assert (again.id, created) == (entry.id, False)
        assert not has_pending_records()
        result = verify_database(receipts=False)
        assert result.ok, result.lines()


@contextmanager
def _month_opened(app: Flask, world: DemoWorld) -> Iterator[tuple[Actor, uuid.UUID]]:
    """A finance officer and a member organisation whose March 2026 has had its first posting."""
    organisation_id = uuid.UUID(world.member_organisation["member01"])
    with app.app_context():
        actor = Actor.of(db.session.scalars(select(User).where(User.username == "finance1")).one())
        db.session.rollback()
        _post(actor, organisation_id, "opens-the-month")
        yield actor, organisation_id


def _post_uncommitted(actor: Actor, organisation_id: uuid.UUID, key: str) -> list[str]:
    """Post without committing; the statements the posting sent."""
    with _statements() as sent:
        _adjust(actor, organisation_id, key)
    return sent


def _asks_for_the_month(sent: list[str]) -> bool:
    return any("FROM accounting_period" in statement for statement in sent)


def test_a_second_posting_into_a_month_the_transaction_holds_open_does_not_lock_it_again(
    app: Flask, world: DemoWorld
) -> None:
    with _month_opened(app, world) as (actor, organisation_id):
        assert _asks_for_the_month(_post_uncommitted(actor, organisation_id, "first"))
        assert not _asks_for_the_month(_post_uncommitted(actor, organisation_id, "second"))
        db.session.commit()
        # A new transaction holds no lock: it asks again.
        assert _asks_for_the_month(_post_uncommitted(actor, organisation_id, "third"))
        # A savepoint rolled back releases the locks taken inside it: the month is asked again.
        db.session.commit()
        with db.session.begin_nested() as savepoint:
            _post_uncommitted(actor, organisation_id, "in-a-savepoint")
            savepoint.rollback()
        assert _asks_for_the_month(_post_uncommitted(actor, organisation_id, "after-the-savepoint"))
        db.session.rollback()


def test_a_month_closed_in_the_same_transaction_refuses_the_next_posting(
    app: Flask, world: DemoWorld
) -> None:
    with _month_opened(app, world) as (actor, organisation_id):
        _post_uncommitted(actor, organisation_id, "before-the-close")
        set_period_status(actor, organisation_id, 2026, 3, PeriodStatus.CLOSED, None, None)
        with pytest.raises(ValidationFailed) as refused:
            _post_uncommitted(actor, organisation_id, "after-the-close")
        assert refused.value.code == "period.closed"
        db.session.rollback()


def test_a_posting_rolled_back_leaves_no_object_behind(app: Flask, world: DemoWorld) -> None:
    """Postings are written around the ORM: a rollback must still take them out of the session,
    or SQLite, which gives a rolled-back row's id again, makes the next posting collide."""
    with _month_opened(app, world) as (actor, organisation_id):
        with db.session.begin_nested() as savepoint:
            _post_uncommitted(actor, organisation_id, "rolled-back-savepoint")
            savepoint.rollback()
        assert not any(isinstance(thing, Posting) for thing in db.session)
        _post_uncommitted(actor, organisation_id, "after-the-savepoint")
        db.session.rollback()
        assert not any(isinstance(thing, Posting) for thing in db.session)
        entry, created = _post(actor, organisation_id, "after-the-rollback")
        assert created
        assert [p.line for p in entry.postings] == [1, 2]
        sequence_pending()
        result = verify_database(receipts=False)
        assert result.ok, result.lines()
