"""The database session's life: one transaction per request, committed in exactly one place.

Services add, change and flush; they never commit. When a request ends, ``finish_request``
commits if the response is a success and rolls back otherwise, so a failed request writes
nothing. CLI commands use ``unit_of_work`` for the same guarantee.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from ledger.audit.sequencer import entries_committed
from ledger.audit.trail import has_pending_records
from ledger.extensions import db

_COMMIT_ON_ERROR = "ledger.commit_on_error"


def configure_database(app: Flask) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = app.extensions["ledger.settings"].database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _ping_when_idle(db.engine)
    app.after_request(finish_request)


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_size": 10, "max_overflow": 10}


# A pooled connection unused this long is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle (SQLAlchemy's pre-ping
    pings on every checkout: a round trip per request, a sixth of a posting's statements).

    A database restarted while the pool sat idle is found here and the pool refills; one that
    restarts under load fails the requests then in flight (as any outage does), and SQLAlchemy
    then replaces the pool's connections.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle = time.monotonic() - record.info.get("checked_in_at", 0.0)
        if idle < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("the pooled connection is gone") from error
        if not alive:
            raise DisconnectionError("the pooled connection is gone")


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the one writer.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()
    # pysqlite starts transactions itself, lazily and deferred, which breaks SAVEPOINTs and lets a
    # transaction that has read fail at its first write when another writer committed meanwhile.
    # Let SQLAlchemy begin them instead (see _begin_sqlite).
    dbapi_connection.isolation_level = None


READ_ONLY = "read_only"
"""An execution option: this connection only reads (see ``_begin_sqlite``)."""


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection: Any) -> None:
    """SQLite: take the write lock when a transaction starts (waiting for it, up to the busy timeout).

    SQLite has one writer at a time anyway; taking the lock first makes every transaction see
    a stable database and never fail half-way for a writer that committed in between. A
    connection marked ``read_only`` (the verifier's range readers, beside a transaction of the
    service that may hold the lock) begins a plain reading transaction instead.
    """
    if connection.dialect.name == "sqlite":
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def persist_even_if_request_fails() -> None:
    """Keep this request's flushed changes although it answers with an error (e.g. a failed login)."""
    db.session.info[_COMMIT_ON_ERROR] = True


def finish_request(response: Response) -> Response:
    """The one place a request's transaction ends."""
    session = db.session
    if response.status_code < 400 or session.info.pop(_COMMIT_ON_ERROR, False):
        commit()
    else:
        session.rollback()
        has_pending_records()  # forget the flag: the queued entries were rolled back too
    return response


def commit(*, append_now: bool = False) -> None:
    """Commit the change and its queued audit entries, then have those appended to the log.

    The entries are safe once the commit returns: if appending them fails, they stay queued and
    the next sequencer run (any later commit, or ``ledger audit sequence``) takes them.
    ``append_now`` appends before returning whatever the sequencing mode (for short-lived
    processes such as CLI commands, which may exit before a background sequencer runs).
    """
    db.session.commit()
    if has_pending_records():
        entries_committed(current_app._get_current_object(), append_now=append_now)  # type: ignore[attr-defined]


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit what the block did, or roll it all back if it raises (for CLI commands)."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        has_pending_records()
        raise
    commit(append_now=True)
