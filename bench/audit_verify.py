"""audit_verify: full verification of a large log, offline and from PostgreSQL, against plain SHA-256.

Two figures, each against the same baseline, SHA-256 of the same bytes as RFC 6962 leaves in
memory in one process, measured in the same run (before and after the verifications; the faster
of the two is used, which can only lower the ratios):

- offline: ``python -m ledger.audit.verify``'s own work on an export bundle of the log
  (``verify_bundle``: every line's canonical form and shape, seq, chain, every checkpoint's
  signature and root, the manifest and the consistency proofs);
- from PostgreSQL: ``ledger audit verify``'s own work (``verify_database``: stream every entry,
  the same checks plus stored hashes, the head and stored nodes, the month-close balances and the
  replay against the tables).

Each is measured before and after, in the same run: the exact parser in one process (how every
entry was checked before the fast path), the fast path in one process (since 2026-11-29 its ranges
checked as blocks one after the other), and the fast path with ranges verified by one process per
core. Target: >= 0.3 x the baseline, after.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from bench.__main__ import Result
from bench._large_log import ENTRIES, large_log
from bench._support import say
from ledger.audit import fast_entry
from ledger.audit.parallel_verifier import Parallelism
from ledger.audit.verify import verify_bundle
from ledger.extensions import db
from ledger.models import AuditEntry
from ledger.services.access import Actor
from ledger.services.audit_export import export_bundle
from ledger.services.audit_verification import verify_database

TARGET = 0.3


@contextmanager
def exact_parser_only() -> Iterator[None]:
    """Every entry through the exact parser, as before the fast path (this process only)."""
    fast_entry.ENABLED = False
    try:
        yield
    finally:
        fast_entry.ENABLED = True


def _sha256_rate() -> float:
    lines = [bytes(raw) for raw in db.session.scalars(select(AuditEntry.canonical).order_by(AuditEntry.seq))]
    best = 0.0
    for _ in range(3):
        began = time.perf_counter()
        for raw in lines:
            hashlib.sha256(b"\x00" + raw).digest()
        best = max(best, len(lines) / (time.perf_counter() - began))
    return best


def _rate(what: str, verify: Callable[[], bool]) -> float:
    began = time.perf_counter()
    if not verify():
        raise RuntimeError(f"the generated log does not verify ({what})")
    elapsed = time.perf_counter() - began
    rate = ENTRIES / elapsed
    say(f"{what}: {ENTRIES:,} entries in {elapsed:.1f}s, {rate:,.0f}/s")
    return rate


def run() -> list[Result]:
    workers = Parallelism.from_environment().workers
    app = large_log(ENTRIES)
    rates: dict[str, float] = {}
    with app.app_context(), tempfile.TemporaryDirectory(prefix="ledger-bench-bundle-") as folder:
        say("measuring the baseline: SHA-256 of every leaf in memory ...")
        first_baseline = _sha256_rate()
        say(f"baseline: SHA-256 of {ENTRIES:,} leaves in memory at {first_baseline:,.0f}/s")
        bundle = Path(folder) / "bundle"
        say("exporting the bundle ...")
        export_bundle(Actor.operator(), bundle)
        db.session.rollback()

        def offline(count: int) -> Callable[[], bool]:
            return lambda: verify_bundle(bundle, workers=count).ok

        def database(count: int) -> Callable[[], bool]:
            def verify() -> bool:
                result = verify_database(workers=count)
                db.session.rollback()
                return result.ok

            return verify

        for where, verify in (("offline", offline), ("PostgreSQL", database)):
            with exact_parser_only():
                rates[f"{where} before"] = _rate(f"{where}, exact parser, 1 process", verify(1))
            rates[f"{where} fast"] = _rate(f"{where}, fast path, 1 process", verify(1))
            rates[f"{where} after"] = _rate(f"{where}, fast path, {workers} processes", verify(workers))
        second_baseline = _sha256_rate()
        say(f"baseline again: {second_baseline:,.0f}/s")
    baseline = max(first_baseline, second_baseline)
    results = [Result("audit_verify", "SHA-256 of the leaves in memory /s", baseline, "/s", "baseline")]
    for where, label in (("offline", "offline (bundle)"), ("PostgreSQL", "from PostgreSQL")):
        for stage, how, target in (
            ("before", "exact parser, 1 process", "-"),
            ("fast", "fast path, 1 process", "-"),
            ("after", f"fast path, {workers} processes", f">= {TARGET} x"),
        ):
            rate = rates[f"{where} {stage}"]
            ratio = rate / baseline
            met = ratio >= TARGET if stage == "after" else None
            results.append(
                Result("audit_verify", f"{label}, {how} /s ({ENTRIES:,})", rate, "/s", target, ratio, met)
            )
    return results
