"""Catching every row a request writes, so that its audit entry carries the rows themselves.

Each row of a replayed table the session inserts, updates or deletes is turned into a row image
and held on the session. The next audit entry the request records takes them (``take_rows``), so
an entry says exactly which rows its action wrote. A transaction that would commit rows no entry
took is refused (``UnrecordedChange``): a change the trail cannot replay is a change an
administrator could have made by hand, and the service never makes one.

Rows written with SQL statements rather than through objects are invisible to the session;
the few places that do that call ``note_rows`` with the objects they changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import Session, SessionTransaction, object_session, scoped_session

from ledger.config import current_settings
from ledger.models import Base
from ledger.replay.tables import Image, row_image, row_key, table_named

_ROWS = "ledger.replay_rows"  # list of {"table": name, "key": [...], "row": image | None}
_MARKS = "ledger.replay_marks"  # savepoint -> how many rows were held when it began


class UnrecordedChange(RuntimeError):
    """Rows of replayed tables were about to be committed without an audit entry carrying them."""


def _held(session: Session | scoped_session[Any]) -> list[dict[str, Any]]:
    held: list[dict[str, Any]] = session.info.setdefault(_ROWS, [])
    return held


def _image_of(obj: Any, *, deleted: bool = False) -> tuple[Table, Image] | None:
    state = inspect(obj)
    table = table_named(getattr(state.mapper.local_table, "name", ""))
    if table is None:
        return None
    values = {}
    for column in table.columns:
        key = state.mapper.get_property_by_column(column).key
        if key in state.dict or deleted:  # a deleted row's expired columns cannot be loaded
            values[column.name] = state.dict.get(key)
        else:
            values[column.name] = getattr(obj, key)
    return table, row_image(table, values, current_settings().secret_key)


def _hold(session: Session | scoped_session[Any], obj: Any, *, deleted: bool = False) -> None:
    found = _image_of(obj, deleted=deleted)
    if found is None:
        return
    table, image = found
    _held(session).append(
        {"table": table.name, "key": list(row_key(table, image)), "row": None if deleted else image}
    )


def note_rows(session: Session | scoped_session[Any], *objects: Any) -> None:
    """Hold the current rows of ``objects``, changed by a SQL statement the session did not see."""
    for obj in objects:
        _hold(session, obj)


def take_rows(session: Session | scoped_session[Any]) -> list[dict[str, Any]]:
    """Flush, and hand over every row written since the last entry took them (for the next entry)."""
    session.flush()
    rows = session.info.pop(_ROWS, [])
    # A row written twice since the last entry is carried once, as it is now.
    latest: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for row in rows:
        latest.pop((row["table"], tuple(row["key"])), None)
        latest[(row["table"], tuple(row["key"]))] = row
    return list(latest.values())


# Mapper events see every row the ORM writes, including orphans and cascaded deletes.
def forget_rows(session: Session | scoped_session[Any]) -> None:
    """Let the transaction commit rows no entry carries: only for a change made behind the
    service's back on purpose (the tests that play a database administrator)."""
    session.flush()
    session.info.pop(_ROWS, None)


@event.listens_for(Base, "after_insert", propagate=True)
def _inserted(mapper: Any, connection: Any, target: Any) -> None:
    session = object_session(target)
    if session is not None:
        _hold(session, target)


@event.listens_for(Base, "after_update", propagate=True)
def _updated(mapper: Any, connection: Any, target: Any) -> None:
    session = object_session(target)
    if session is not None and session.is_modified(target, include_collections=False):
        _hold(session, target)


@event.listens_for(Base, "after_delete", propagate=True)
def _deleted(mapper: Any, connection: Any, target: Any) -> None:
    session = object_session(target)
    if session is not None:
        _hold(session, target, deleted=True)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the entry may come later in the same transaction
    session.flush()
    rows = session.info.get(_ROWS)
    if rows:
        first = rows[0]
        raise UnrecordedChange(
            f"{len(rows)} written rows have no audit entry (first: {first['table']} {first['key']}); "
            "record the action after the change"
        )


@event.listens_for(Session, "after_transaction_create")
def _savepoint_began(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[id(transaction)] = len(session.info.get(_ROWS, []))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    marks = session.info.get(_MARKS, {})
    if previous_transaction.nested and id(previous_transaction) in marks:
        del _held(session)[marks.pop(id(previous_transaction)) :]
    elif not previous_transaction.nested:
        session.info.pop(_ROWS, None)
        session.info.pop(_MARKS, None)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_MARKS, None)
