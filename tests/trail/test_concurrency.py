"""Concurrent writers through the service layer: one gapless chain, no fork, a verifiable tree.

Run in both sequencing modes: ``inline`` (each request appends before it answers) and
``background`` (requests only queue; a sequencer thread appends in batches).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from ledger import create_app
from ledger.audit.sequencer import stop_sequencer
from ledger.audit.trail import sequence_pending
from ledger.database import commit, unit_of_work
from ledger.extensions import db
from ledger.models import AuditEntry, AuditQueueItem, CommunityKind
from ledger.services import communities
from ledger.services.access import Actor
from ledger.services.audit_verification import verify_database
from tests.builders import leaf
from tests.conftest import is_postgres, settings_for_tests

WRITERS, APPENDS = (16, 250) if is_postgres() else (4, 100)


@pytest.fixture(params=["inline", "background"])
def writers_app(request: pytest.FixtureRequest, app: Flask, database_url: str) -> Iterator[Flask]:
    settings = settings_for_tests(database_url, Path(app.instance_path))
    concurrent = create_app({**settings, "LEDGER_AUDIT_SEQUENCING": request.param})
    yield concurrent
    stop_sequencer(concurrent)
    with concurrent.app_context():
        db.session.remove()
        db.engine.dispose()


def _run_writers(app: Flask) -> None:
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        with app.app_context():
            start.wait()
            # As a request does: change, record, commit; the one commit path of the app. Each
            # writer creates its own community, then renames it: every change is one entry.
            community = communities.create_community(
                Actor.operator(),
                communities.CommunityFields(leaf(number + 1), "并发社区", CommunityKind.URBAN),
                f"W{number}",
            ).thing
            commit()
            for i in range(1, APPENDS):
                communities.update_community(Actor.operator(), community.id, {"name": f"并发社区 {i}"}, None)
                commit()
            db.session.remove()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        for future in [pool.submit(writer, n) for n in range(WRITERS)]:
            future.result()


def test_concurrent_writers_make_one_gapless_verifiable_chain(writers_app: Flask) -> None:
    with writers_app.app_context():
        before = int(db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    _run_writers(writers_app)
    stop_sequencer(writers_app)
    with writers_app.app_context():
        sequence_pending()
        assert db.session.scalar(select(func.count()).select_from(AuditQueueItem)) == 0
        seqs = list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert seqs == list(range(1, before + WRITERS * APPENDS + 1))
        actions = dict(
            db.session.execute(
                select(AuditEntry.action, func.count())
                .where(AuditEntry.action.like("community.%"))
                .group_by(AuditEntry.action)
            ).all()
        )
        assert actions == {"community.created": WRITERS, "community.updated": WRITERS * (APPENDS - 1)}
        result = verify_database()
        assert result.ok, result.lines()


def test_an_idle_background_sequencer_signs_a_checkpoint_due_by_time(app: Flask, database_url: str) -> None:
    """The last entries before a quiet spell get a signed checkpoint without a further append."""
    import time

    from ledger.audit.trail import sign_checkpoint_now
    from ledger.models import AuditCheckpoint

    settings = settings_for_tests(database_url, Path(app.instance_path))
    background = create_app(
        {**settings, "LEDGER_AUDIT_SEQUENCING": "background", "LEDGER_CHECKPOINT_EVERY_SECONDS": "1"}
    )
    try:
        with background.app_context():
            with unit_of_work():  # an entry no checkpoint covers yet, so the next one is signed now
                communities.create_community(
                    Actor.operator(),
                    communities.CommunityFields(leaf(998), "安静社区", CommunityKind.RURAL),
                    "IDLE-0",
                )
            latest = sign_checkpoint_now().size  # type: ignore[union-attr]
            signed = time.monotonic()
            communities.create_community(
                Actor.operator(),
                communities.CommunityFields(leaf(999), "安静社区", CommunityKind.RURAL),
                "IDLE-1",
            )
            commit()
            # Poll until the background sequencer has appended the entry (no fixed sleep).
            appended = 0
            while time.monotonic() < signed + 5 and appended <= latest:
                appended = db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
                checkpointed = db.session.scalar(select(func.max(AuditCheckpoint.size)))
                db.session.rollback()  # end the read: on SQLite a transaction holds the write lock
                time.sleep(0.02)
            assert appended == latest + 1
            if time.monotonic() - signed < 0.9:  # appended, and the last checkpoint is under 1 s old
                assert checkpointed == latest
            started = time.monotonic()
            size = latest
            while time.monotonic() < started + 10 and size <= latest:
                time.sleep(0.05)
                size = db.session.scalar(select(func.max(AuditCheckpoint.size))) or 0
                db.session.rollback()
            waited = time.monotonic() - started
            total = db.session.scalar(select(func.count()).select_from(AuditEntry))
            assert size == total
            # Due 1 s after the last checkpoint, which was signed 0.3 s before the wait began: the
            # sequencer sleeps until then, not a whole idle second more (slack for a busy machine).
            assert waited < 2.5, waited
    finally:
        stop_sequencer(background)
        with background.app_context():
            db.session.remove()
            db.engine.dispose()
