"""audit_append: chained audit appends per second against the physical limit, same run.

The baseline is plain psycopg: each writer process has its own connection and inserts the same
payload as one row into a plain table, committing (durably) after each row; nothing of the
application runs. A chained append is ``record()`` plus the commit, through the application
stack, with the production sequencing mode (``background``: one leader process appends what
every process queued, with its Merkle nodes and head); the clock stops only when every entry is
chained into the log. Both on PostgreSQL, with 1 and 16 concurrent writers, rounds alternating.
Target: chained >= 0.5 x plain inserts with 16 writers.
"""

from __future__ import annotations

import json
import os
from multiprocessing.synchronize import Barrier

import psycopg
from sqlalchemy import text

from bench.__main__ import Result
from bench._support import fresh_app, median, run_writers, say, timed_processes
from ledger.audit.sequencer import stop_sequencer
from ledger.audit.trail import record, sequence_pending
from ledger.database import commit
from ledger.extensions import db
from ledger.services.audit_verification import verify_database

ACTOR = {"id": "bench-writer", "role": "admin"}
TARGET = 0.5
RAW_INSERT = (
    "INSERT INTO bench_raw (ts, actor_id, action, subject_type, subject_id, data) "
    "VALUES ('2026-11-27T10:00:00.000000Z', %s, 'bench.append', 'bench', %s, %s)"
)


def _payload(writer: int, i: int) -> dict[str, object]:
    return {"state": {"name": f"writer {writer} operation {i}", "amount": "1250.00", "version": 1}}


def _plain_inserts(url: str, writers: int, operations: int) -> float:
    """Durable single-row inserts through psycopg, one connection per writer process; rows/s."""

    def writer(number: int, start: Barrier) -> None:
        with psycopg.connect(url) as connection:
            start.wait()
            for i in range(operations):
                payload = json.dumps(_payload(number, i)).encode()
                connection.execute(RAW_INSERT, (ACTOR["id"], f"{number}-{i}", payload))
                connection.commit()

    return writers * operations / timed_processes(writers, writer, what="plain-insert writer")


def run() -> list[Result]:
    per_writer = {
        1: int(os.environ.get("BENCH_APPEND_OPS_1", "600")),
        16: int(os.environ.get("BENCH_APPEND_OPS_16", "200")),
    }
    rounds = int(os.environ.get("BENCH_APPEND_ROUNDS", "3"))
    results: list[Result] = []
    with fresh_app(LEDGER_AUDIT_SEQUENCING=os.environ.get("BENCH_AUDIT_SEQUENCING", "background")) as app:
        with app.app_context():
            db.session.execute(
                text(
                    "CREATE TABLE bench_raw (id BIGSERIAL PRIMARY KEY, ts VARCHAR(27), actor_id VARCHAR(64), "
                    "action VARCHAR(100), subject_type VARCHAR(50), subject_id VARCHAR(64), data BYTEA)"
                )
            )
            db.session.commit()
            url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

        def chained_append(writer: int, i: int) -> None:
            record(ACTOR, "bench.append", "bench", f"{writer}-{i}", _payload(writer, i))
            commit()

        def all_in_the_log() -> None:
            # The clock stops only when every entry is chained into the log, not merely queued.
            stop_sequencer(app)
            with app.app_context():
                sequence_pending()

        for writers, operations in per_writer.items():
            raw_runs: list[float] = []
            chained_runs: list[float] = []
            for number in range(rounds):
                raw_runs.append(_plain_inserts(url, writers, operations))
                chained_runs.append(run_writers(app, writers, operations, chained_append, all_in_the_log))
                say(
                    f"{writers} writer(s) x {operations}, round {number + 1}: plain inserts "
                    f"{raw_runs[-1]:,.0f}/s, chained appends {chained_runs[-1]:,.0f}/s"
                )
            raw, chained = median(raw_runs), median(chained_runs)
            ratio = chained / raw
            say(
                f"{writers} writer(s): plain inserts {raw:,.0f}/s, chained {chained:,.0f}/s, ratio {ratio:.2f}"
            )
            results.append(
                Result("audit_append", f"plain psycopg inserts/s, {writers} writer(s)", raw, "/s", "baseline")
            )
            results.append(
                Result(
                    "audit_append",
                    f"chained appends/s, {writers} writer(s)",
                    chained,
                    "/s",
                    f">= {TARGET} x plain" if writers == 16 else "-",
                    ratio,
                    ratio >= TARGET if writers == 16 else None,
                )
            )
        with app.app_context():
            result = verify_database()
            say(
                "the log verifies after the run"
                if result.ok
                else "THE LOG DOES NOT VERIFY: " + " ".join(result.lines())
            )
    return results
