"""What the benchmarks share: a fresh PostgreSQL database with the schema, and timing helpers."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from ledger import create_app
from ledger.audit.keys import write_new_signer
from ledger.config import current_settings
from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import AuditSigningKey
from ledger.services.access import Actor
from ledger.services.audit_keys import ensure_signing_key

SERVER_URL = os.environ.get("LEDGER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(SERVER_URL).set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@contextmanager
def fresh_app(*, empty_log: bool = False, **settings: str) -> Iterator[Flask]:
    """An app on a new PostgreSQL database migrated to head, with a signing key; dropped afterwards.

    ``empty_log`` registers the key without recording it, so that the log starts empty.
    """
    name = f"cfl_bench_{uuid.uuid4().hex[:8]}"
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
    context = multiprocessing.get_context("fork")
    start = context.Barrier(writers + 1)
    with app.app_context():
        db.engine.dispose()  # children must open their own connections

    def writer(number: int) -> None:
        with app.app_context():
            db.engine.dispose(close=False)
            start.wait()
            for i in range(operations):
                operation(number, i)
            db.session.remove()
        if finish is not None:
            finish()

    children = [context.Process(target=writer, args=(n,)) for n in range(writers)]
    for child in children:
        child.start()
    start.wait()
    began = time.perf_counter()
    for child in children:
        child.join()
    if finish is not None:
        with app.app_context():
            finish()
    elapsed = time.perf_counter() - began
    failed = [c.exitcode for c in children if c.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} writer process(es) failed")
    return writers * operations / elapsed


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
