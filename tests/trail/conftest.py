"""Helpers for the audit-trail tests: reading the log, and tampering as a superuser would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import text

from ledger.extensions import db
from tests.conftest import is_postgres

APPEND_ONLY = (
    "audit_entry",
    "merkle_node",
    "audit_checkpoint",
    "journal_entry",
    "posting",
    "budget_entry",
    "period_balance",
)


@contextmanager
def triggers_bypassed(app: Flask) -> Iterator[None]:
    """Run the block with the append-only triggers out of the way, as a database superuser could."""
    with app.app_context():
        if is_postgres():
            for table in APPEND_ONLY:
                db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))
            yield
            for table in APPEND_ONLY:
                db.session.execute(text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only"))
                db.session.execute(text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate"))
        else:
            rows = db.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in rows:
                db.session.execute(text(f"DROP TRIGGER {name}"))
            yield
            for _name, sql in rows:
                db.session.execute(text(sql))
        db.session.commit()


def tamper(app: Flask, *statements: str) -> None:
    with triggers_bypassed(app):
        for statement in statements:
            db.session.execute(text(statement))
