"""What the benchmarks share: a fresh PostgreSQL database with the schema, and timing helpers."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from ledger import create_app
from ledger.audit.keys import write_new_signer
from ledger.config import current_settings
from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import AuditSigningKey, User
from ledger.services.access import Actor
from ledger.services.audit_keys import ensure_signing_key
from ledger.services.tokens import issue_token

SERVER_URL = os.environ.get("LEDGER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Benchmarks run side by side on one server name their databases apart.
DATABASE_PREFIX = os.environ.get("LEDGER_BENCH_DATABASE_PREFIX", "cfl_bench")


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(SERVER_URL).set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@contextmanager
def fresh_app(*, empty_log: bool = False, **settings: str) -> Iterator[Flask]:
    """An app on a new PostgreSQL database migrated to head, with a signing key; dropped afterwards.

    ``empty_log`` registers the key without recording it, so that the log starts empty.
    """
    name = f"{DATABASE_PREFIX}_{uuid.uuid4().hex[:8]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as instance:
        app = create_app(
            {
                "LEDGER_ENV": "testing",
                "LEDGER_DATABASE_URL": url,
                "LEDGER_INSTANCE_PATH": instance,
                "LEDGER_SECRET_KEY": "bench-secret-key-long-enough-for-the-check",
                **settings,
            }
        )
        try:
            with app.app_context():
                upgrade()
                if empty_log:
                    signer = write_new_signer(Path(instance), current_settings().log_origin)
                    db.session.add(AuditSigningKey(key_id=signer.key_id, name=signer.name, vkey=signer.vkey))
                    db.session.commit()
                else:
                    with unit_of_work():
                        ensure_signing_key(Actor.operator())
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            with _admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_writers(
    app: Flask,
    writers: int,
    operations: int,
    operation: Callable[[int, int], None],
    finish: Callable[[], None] | None = None,
) -> float:
    """Run ``operation(writer, i)`` ``operations`` times in each of ``writers`` processes; ops/second.

    Processes, not threads: production runs the app as several worker processes (gunicorn), and
    threads in one process would measure the interpreter lock rather than the database.
    """
    with app.app_context():
        db.engine.dispose()  # children must open their own connections

    def writer(number: int, start: Barrier) -> None:
        with app.app_context():
            db.engine.dispose(close=False)
            start.wait()
            for i in range(operations):
                operation(number, i)
            db.session.remove()
        if finish is not None:
            finish()

    def finish_in_parent() -> None:
        if finish is not None:
            with app.app_context():
                finish()

    return writers * operations / timed_processes(writers, writer, before_stop=finish_in_parent)


def timed_processes(
    writers: int,
    writer: Callable[[int, Barrier], None],
    *,
    what: str = "writer",
    before_stop: Callable[[], None] | None = None,
) -> float:
    """Seconds that ``writers`` forked processes running ``writer(number, start)`` take, from the
    moment all of them are ready (each waits at the barrier ``start`` after its own set-up) until
    the last has exited and ``before_stop`` has run; a process that fails is an error."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(writers + 1)
    children = [context.Process(target=writer, args=(n, start)) for n in range(writers)]
    for child in children:
        child.start()
    start.wait()
    began = time.perf_counter()
    for child in children:
        child.join()
    if before_stop is not None:
        before_stop()
    elapsed = time.perf_counter() - began
    failed = [c.exitcode for c in children if c.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} {what} process(es) failed")
    return elapsed


def say(text: str) -> None:
    print(f"  {text}", flush=True)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ledger-bench-"))


def load_demo() -> None:
    """Reference data and the full demo (funds, reports, disbursements) in the current app context."""
    from ledger.database import unit_of_work
    from ledger.demo import create_demo
    from ledger.services.access import Actor
    from ledger.services.reference_data import load_reference_data

    with unit_of_work():
        load_reference_data(Actor.operator())
    with unit_of_work():
        create_demo(with_funds=True)


def generate_postings(entries: int, large_entries: int, large: uuid.UUID, others: list[uuid.UUID]) -> None:
    """``entries`` balanced two-line journal entries, ``large_entries`` of them in ``large`` and the
    rest spread over ``others``, written server-side (each still checked by the balance triggers)."""
    db.session.execute(text("CREATE TEMP TABLE bench_orgs (n int PRIMARY KEY, id uuid)"))
    db.session.execute(
        text("INSERT INTO bench_orgs VALUES (:n, :id)"), [{"n": i, "id": o} for i, o in enumerate(others)]
    )
    db.session.execute(
        text(
            """
            INSERT INTO journal_entry (id, organisation_id, entry_date, description, source, chart_version,
                                       posting_count, created_at, created_by)
            SELECT md5(g::text)::uuid,
                   CASE WHEN g <= :large_entries THEN CAST(:large AS uuid)
                        ELSE (SELECT id FROM bench_orgs WHERE n = g % :orgs) END,
                   DATE '2026-01-01' + (g % 360), 'bench', 'adjustment', 'NPO-2005', 2, now(), 'bench'
            FROM generate_series(1, :entries) AS g
            """
        ),
        {"large_entries": large_entries, "large": str(large), "orgs": len(others), "entries": entries},
    )
    db.session.execute(
        text(
            """
            INSERT INTO posting (journal_entry_id, line, organisation_id, entry_date, account_code, side, amount_minor, currency)
            SELECT e.id, s.line, e.organisation_id, e.entry_date,
                   CASE WHEN s.line = 1 THEN (ARRAY['5101','5201','5301','1002'])[1 + (hashtext(e.id::text) & 3)]
                        ELSE (ARRAY['1002','4401','2202'])[1 + (hashtext(e.id::text) & 1)] END,
                   CASE WHEN s.line = 1 THEN 'debit' ELSE 'credit' END,
                   1000 + (hashtext(e.id::text) & 65535), 'CNY'
            FROM journal_entry e CROSS JOIN (VALUES (1), (2)) AS s(line)
            WHERE e.description = 'bench'
            """
        )
    )
    db.session.execute(text("DROP TABLE bench_orgs"))
    db.session.commit()


def bench_token(username: str) -> str:
    """A day-long bearer token for a demo user, for requests the benchmarks send."""
    with unit_of_work():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None
        return issue_token(Actor.operator(), user, purpose="bench", ttl=timedelta(hours=24)).secret
