"""The tables rebuilt from the trail alone, in a fresh database the service's own code can read.

An auditor holding only an export bundle can rebuild every replayed table in an in-memory SQLite
database and run the same functions the service runs (trial balances, fund figures, statements)
against it: figures computed this way owe nothing to the service's database.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import Connection, delete
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.replay.compare import rows_of
from ledger.replay.tables import row_values, table_named


class RebuildError(ValueError):
    """The trail's rows cannot be applied (a row of an unknown table, without a key, ...)."""


def apply_rows(
    connection: Connection,
    entries: Iterable[Mapping[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Apply every row image the entries carry, in order, to ``connection`` (SQLite); return the count."""
    applied = 0
    for number, entry in enumerate(entries, start=1):
        for row in rows_of(entry):
            table = table_named(str(row.get("table")))
            image = row.get("row")
            key = row.get("key")
            if (
                table is None
                or not isinstance(key, list)
                or not (image is None or isinstance(image, Mapping))
            ):
                raise RebuildError(f"seq {entry.get('seq')}: a row of unknown table {row.get('table')!r}")
            key_columns = list(table.primary_key.columns)
            if image is None:
                values = row_values(table, dict(zip((c.name for c in key_columns), key, strict=False)))
                connection.execute(delete(table).where(*(c == values[c.name] for c in key_columns)))
            else:
                values = row_values(table, image)
                statement = sqlite_insert(table).values(values)
                connection.execute(statement.on_conflict_do_update(index_elements=key_columns, set_=values))
            applied += 1
        if progress is not None and number % 1000 == 0:
            progress(number)
    return applied


@contextmanager
def rebuilt_service(
    entries: Iterable[Mapping[str, Any]], progress: Callable[[int], None] | None = None
) -> Iterator[Flask]:
    """A service whose database is a fresh in-memory SQLite holding the tables the trail rebuilds.

    Yields the app with an app context pushed, so ``db.session`` reads the rebuilt tables. The
    service has its own throw-away instance folder and secret key: nothing of the auditor's
    environment or of the original service is used.
    """
    from ledger import create_app
    from ledger.extensions import db
    from ledger.models import Base

    with tempfile.TemporaryDirectory(prefix="ledger-rebuilt-") as instance:
        settings = {
            "LEDGER_ENV": "development",
            "LEDGER_DATABASE_URL": "sqlite://",
            "LEDGER_INSTANCE_PATH": instance,
            "LEDGER_SECRET_KEY": secrets.token_urlsafe(32),
            "LEDGER_WITNESSES": "",
        }
        app = create_app(settings)
        with app.app_context():
            engine = db.engine
            with engine.connect() as connection:
                # Rows arrive in the order the service wrote them; checks would only slow this.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
                Base.metadata.create_all(connection)
                apply_rows(connection, entries, progress)
                connection.commit()
            yield app
            db.session.remove()
            engine.dispose()
