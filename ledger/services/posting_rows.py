"""Writing a checked journal entry: its row and its postings' rows, one statement each.

The ORM would flush the entry, then each posting on its own (SQLite cannot batch rows whose
ids it must hand back), and an idempotent post used to look for its key first and write under a
savepoint. Here the entry goes in with ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on its
(person, key) unique constraint: no row back means the key was used, by a request that has
committed (PostgreSQL makes the second writer wait for the first at the unique index, and goes
on when the first rolled back). The postings go in as one multi-row ``INSERT ... RETURNING``.

The rows written are then the session's objects as if it had loaded them (callers read
``entry.postings`` and the ids), and they are held for the next audit entry
(``ledger.replay.capture.note_rows``), as the ORM's own inserts would have been. A savepoint
rolled back takes them out of the session again, as the ORM does with what it inserted there:
the rows are gone, and SQLite may give a later posting the same id.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ledger.extensions import db
from ledger.models.base import utcnow
from ledger.models.books import JournalEntry, Posting
from ledger.replay.capture import note_rows

_entries = cast(Table, JournalEntry.__table__)
_postings = cast(Table, Posting.__table__)
# Built once: constructing a statement costs more than the database takes to run it.
_INSERT_ENTRY = insert(_entries)
_INSERT_POSTINGS = insert(_postings).returning(_postings.c.line, _postings.c.id)
_INSERT_ENTRY_ONCE = {
    dialect: insert_of(_entries)
    .on_conflict_do_nothing(index_elements=["created_by", "idempotency_key"])
    .returning(_entries.c.id)
    for dialect, insert_of in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


# The objects ``insert_entry`` put in the session, in order, and where each open savepoint began.
_ATTACHED = "ledger.posting_rows.attached"
_MARKS = "ledger.posting_rows.marks"


@event.listens_for(Session, "after_transaction_create")
def _savepoint_began(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[id(transaction)] = len(session.info.get(_ATTACHED, []))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    marks = session.info.get(_MARKS, {})
    if previous_transaction.nested and id(previous_transaction) not in marks:
        return
    mark = marks.pop(id(previous_transaction)) if previous_transaction.nested else 0
    attached = session.info.get(_ATTACHED, [])
    for thing in attached[mark:]:
        if thing in session:
            session.expunge(thing)
    del attached[mark:]


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_ATTACHED, None)
    session.info.pop(_MARKS, None)


def insert_entry(entry_values: dict[str, Any], lines: list[dict[str, Any]]) -> JournalEntry | None:
    """Write the entry and its postings; None (nothing written) when its idempotency key was used.

    ``entry_values`` are the entry's columns but its id and creation time; ``lines`` each
    posting's columns but the entry's, its line number and its id.
    """
    connection = db.session.connection()
    values = {**entry_values, "id": uuid.uuid4(), "created_at": utcnow()}
    if values.get("idempotency_key") is not None:
        statement = _INSERT_ENTRY_ONCE[connection.dialect.name]
        if connection.execute(statement, values).first() is None:
            return None
    else:
        connection.execute(_INSERT_ENTRY, values)
    entry = JournalEntry(**values)
    shared = {
        "journal_entry_id": values["id"],
        "organisation_id": values["organisation_id"],
        "entry_date": values["entry_date"],
    }
    rows = [{**shared, **line, "line": number} for number, line in enumerate(lines, start=1)]
    # Many rows with RETURNING go as one multi-row INSERT (SQLAlchemy's "insertmanyvalues").
    ids = {int(line): int(posting_id) for line, posting_id in connection.execute(_INSERT_POSTINGS, rows)}
    postings = [Posting(**row, id=ids[row["line"]]) for row in rows]
    for thing in (entry, *postings):
        make_transient_to_detached(thing)
        db.session.add(thing)  # persistent as written: no flush writes it again
    db.session.info.setdefault(_ATTACHED, []).extend((entry, *postings))
    set_committed_value(entry, "postings", postings)
    for posting in postings:
        set_committed_value(posting, "journal_entry", entry)
    note_rows(db.session, entry, *postings)
    return entry
