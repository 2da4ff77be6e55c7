"""audit_verify: full verification of a large log from PostgreSQL, against plain SHA-256.

The figure is ``ledger audit verify``'s own work (stream every entry from the database, check
canonical form, seq, chain, stored hashes, every checkpoint's signature and root, the head, the
stored nodes, and the replay). The baseline hashes the same bytes as leaves, in memory, in the
same process. Target: >= 0.3 x the baseline.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import select

from bench.__main__ import Result
from bench._large_log import ENTRIES, large_log
from bench._support import say
from ledger.extensions import db
from ledger.models import AuditEntry
from ledger.services.audit_verification import verify_database

TARGET = 0.3


def run() -> list[Result]:
    app = large_log(ENTRIES)
    with app.app_context():
        say("loading the entries into memory for the baseline ...")
        lines = [
            bytes(raw) for raw in db.session.scalars(select(AuditEntry.canonical).order_by(AuditEntry.seq))
        ]
        began = time.perf_counter()
        for raw in lines:
            hashlib.sha256(b"\x00" + raw).digest()
        baseline = len(lines) / (time.perf_counter() - began)
        del lines
        say(f"baseline: SHA-256 of {ENTRIES:,} leaves in memory at {baseline:,.0f}/s")

        def progress(done: int) -> None:
            if done % 200_000 == 0:
                say(f"verified {done:,} entries ...")

        began = time.perf_counter()
        result = verify_database(progress=progress)
        elapsed = time.perf_counter() - began
        if not result.ok:
            raise RuntimeError("the generated log does not verify: " + " ".join(result.lines()))
        rate = ENTRIES / elapsed
        say(f"ledger audit verify: {ENTRIES:,} entries in {elapsed:.1f}s, {rate:,.0f}/s")
    ratio = rate / baseline
    return [
        Result("audit_verify", "SHA-256 of the leaves in memory /s", baseline, "/s", "baseline"),
        Result(
            "audit_verify",
            f"full verification from PostgreSQL /s ({ENTRIES:,})",
            rate,
            "/s",
            f">= {TARGET} x",
            ratio,
            ratio >= TARGET,
        ),
    ]
