"""Concurrent writers through the service layer: one gapless chain, no fork, a verifiable tree."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select

from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import AuditEntry, CommunityKind
from ledger.services import communities
from ledger.services.access import Actor
from ledger.services.audit_verification import verify_database
from tests.conftest import is_postgres


def _run_writers(app: Flask, writers: int, appends: int) -> None:
    start = threading.Barrier(writers)

    def writer(number: int) -> None:
        with app.app_context():
            start.wait()
            for i in range(appends):
                with unit_of_work():
                    communities.create_community(
                        Actor.operator(),
                        communities.CommunityFields(f"W{number}-{i}", "并发社区", CommunityKind.URBAN, "d"),
                    )
            db.session.remove()

    with ThreadPoolExecutor(max_workers=writers) as pool:
        for future in [pool.submit(writer, n) for n in range(writers)]:
            future.result()


def _check_log(app: Flask, expected_new: int, before: int) -> None:
    with app.app_context():
        seqs = list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert seqs == list(range(1, before + expected_new + 1))
        actions = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "community.created")
        )
        assert actions == expected_new
        result = verify_database()
        assert result.ok, result.lines()


def _size(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@pytest.mark.skipif(not is_postgres(), reason="16 concurrent writers need PostgreSQL")
def test_sixteen_writers_on_postgresql(app: Flask) -> None:
    before = _size(app)
    _run_writers(app, writers=16, appends=250)
    _check_log(app, 16 * 250, before)


@pytest.mark.skipif(is_postgres(), reason="the SQLite variant of the test above")
def test_four_writers_on_sqlite(app: Flask) -> None:
    before = _size(app)
    _run_writers(app, writers=4, appends=100)
    _check_log(app, 4 * 100, before)
