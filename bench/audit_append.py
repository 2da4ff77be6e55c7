"""audit_append: chained audit appends per second against raw durable inserts, same run.

The baseline inserts the same payload as one row into a plain table and commits (durably), per
operation. A chained append is ``record()`` plus the commit that appends it to the log
(sequencing, Merkle nodes, head). Both run through the same application stack on PostgreSQL,
with 1 and 16 concurrent writers. Target: chained >= 0.6 x raw with 16 writers.
"""

from __future__ import annotations

import json
import os

from sqlalchemy import text

from bench.__main__ import Result
from bench._support import fresh_app, run_writers, say
from ledger.audit.sequencer import stop_sequencer
from ledger.audit.trail import record, sequence_pending
from ledger.database import commit
from ledger.extensions import db
from ledger.services.audit_verification import verify_database

ACTOR = {"id": "bench-writer", "role": "admin"}
TARGET = 0.6


def _payload(writer: int, i: int) -> dict[str, object]:
    return {"state": {"name": f"writer {writer} operation {i}", "amount": "1250.00", "version": 1}}


def run() -> list[Result]:
    per_writer = {
        1: int(os.environ.get("BENCH_APPEND_OPS_1", "600")),
        16: int(os.environ.get("BENCH_APPEND_OPS_16", "200")),
    }
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

        def raw_insert(writer: int, i: int) -> None:
            db.session.execute(
                text(
                    "INSERT INTO bench_raw (ts, actor_id, action, subject_type, subject_id, data) "
                    "VALUES ('2026-11-27T10:00:00.000000Z', :a, 'bench.append', 'bench', :s, :d)"
                ),
                {"a": ACTOR["id"], "s": f"{writer}-{i}", "d": json.dumps(_payload(writer, i)).encode()},
            )
            db.session.commit()

        def chained_append(writer: int, i: int) -> None:
            record(ACTOR, "bench.append", "bench", f"{writer}-{i}", _payload(writer, i))
            commit()

        def all_in_the_log() -> None:
            # The clock stops only when every entry is chained into the log, not merely queued.
            stop_sequencer(app)
            with app.app_context():
                sequence_pending()

        for writers, operations in per_writer.items():
            say(f"{writers} writer(s) x {operations}: raw inserts ...")
            raw = run_writers(app, writers, operations, raw_insert)
            say(f"{writers} writer(s) x {operations}: chained appends ...")
            chained = run_writers(app, writers, operations, chained_append, all_in_the_log)
            ratio = chained / raw
            say(f"{writers} writer(s): raw {raw:,.0f}/s, chained {chained:,.0f}/s, ratio {ratio:.2f}")
            results.append(
                Result("audit_append", f"raw inserts/s, {writers} writer(s)", raw, "/s", "baseline")
            )
            results.append(
                Result(
                    "audit_append",
                    f"chained appends/s, {writers} writer(s)",
                    chained,
                    "/s",
                    f">= {TARGET} x raw" if writers == 16 else "-",
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
