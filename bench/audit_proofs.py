"""audit_proofs: inclusion and consistency proof latency on a large log, server-side.

Measured through the same service functions the API calls (database reads included), with the
median over many random requests. The baseline is the latency of reading one entry by its
primary key in the same run. Target: median <= 5 ms for each kind of proof.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from sqlalchemy import select

from bench.__main__ import Result
from bench._large_log import ENTRIES, large_log
from bench._support import median, say
from ledger.audit import store
from ledger.audit.merkle import root_from_nodes, root_keys, verify_consistency, verify_inclusion
from ledger.audit.trail import load_nodes
from ledger.extensions import db
from ledger.models import AuditCheckpoint, AuditEntry

TARGET_MS = 5.0
SAMPLES = 300


def _median_ms(operation: Callable[[], object]) -> float:
    timings = []
    for _ in range(SAMPLES):
        began = time.perf_counter()
        operation()
        timings.append((time.perf_counter() - began) * 1000)
    return median(timings)


def run() -> list[Result]:
    app = large_log(ENTRIES)
    rng = random.Random(2026)
    with app.app_context():
        size = ENTRIES
        root = bytes(
            db.session.scalar(select(AuditCheckpoint.root).where(AuditCheckpoint.size == size)) or b""
        )
        older = [1, 2, 3, size // 3, size - 1, *rng.sample(range(1, size), 5)]
        old_root = {s: root_from_nodes(s, load_nodes(root_keys(s))) for s in older}
        # Correctness first: a sample of proofs must verify against the signed roots.
        for _ in range(20):
            proof = store.inclusion_proof(rng.randint(1, size), size)
            verify_inclusion(proof.leaf_index, size, proof.leaf_hash, proof.hashes, root)
        for old in older:
            consistency = store.consistency_proof(old, size)
            verify_consistency(old, size, consistency.hashes, old_root[old], root)
        lookup = _median_ms(
            lambda: db.session.get(AuditEntry, rng.randint(1, size)) and db.session.expunge_all()
        )
        inclusion = _median_ms(lambda: store.inclusion_proof(rng.randint(1, size), size))
        consistency = _median_ms(lambda: store.consistency_proof(rng.randint(1, size - 1), size))
        db.session.rollback()
    say(
        f"median: entry lookup {lookup:.2f} ms, inclusion proof {inclusion:.2f} ms, consistency proof {consistency:.2f} ms"
    )
    return [
        Result("audit_proofs", "entry lookup by seq, median ms", lookup, "ms", "baseline"),
        Result(
            "audit_proofs",
            f"inclusion proof at {ENTRIES:,}, median ms",
            inclusion,
            "ms",
            f"<= {TARGET_MS} ms",
            inclusion / lookup,
            inclusion <= TARGET_MS,
        ),
        Result(
            "audit_proofs",
            f"consistency proof at {ENTRIES:,}, median ms",
            consistency,
            "ms",
            f"<= {TARGET_MS} ms",
            consistency / lookup,
            consistency <= TARGET_MS,
        ),
    ]
