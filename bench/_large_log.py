"""A large audit log built straight into PostgreSQL, for the benchmarks that need size.

Going through ``record()`` would take hours for a million entries; the benchmarks measure
reading, verifying and proving, so the log is generated here exactly as the sequencer would
write it (canonical bytes, chain, perfect Merkle nodes, head frontier, signed checkpoints) and
bulk-loaded with COPY. ``ledger audit verify`` must accept it, which the benchmarks check.

Entry 1 is the signing key's registration, recorded by the service itself (``fresh_app``): it
carries the key's row, which the replay must find in the trail like every other row. The
generated entries continue the chain from it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import text

from bench._support import fresh_app, say
from ledger.audit.checkpoint import Checkpoint, sign_checkpoint
from ledger.audit.keys import load_signer
from ledger.audit.merkle import MemoryTree, root_keys
from ledger.config import current_settings
from ledger.extensions import db

ENTRIES = int(os.environ.get("BENCH_AUDIT_ENTRIES", "1000000"))
CHECKPOINT_EVERY = 100_000

_built: dict[int, Flask] = {}
_stack = ExitStack()
atexit.register(_stack.close)


def _entries(first: int, count: int, prev: str) -> Iterator[tuple[int, str, bytes, bytes]]:
    """Entries ``first`` .. ``count``, chained after the leaf hash ``prev`` (hex)."""
    for seq in range(first, count + 1):
        receipt = hashlib.sha256(seq.to_bytes(8, "big")).hexdigest()
        # Receipt uploads: events, not replayed states, so the generated log needs no table rows
        # to match while verification still does all of its per-entry work.
        entry = {
            "v": 1,
            "seq": seq,
            "ts": "2026-11-27T10:00:00.000000Z",
            "actor": {"id": "bench", "role": "org_member"},
            "action": "receipt.uploaded",
            "subject": {"type": "receipt", "id": receipt},
            "data": {
                "media_type": "application/pdf",
                "organisation_id": "0b6f1c1e-5d7a-4c39-9a51-0f3a2b9d8e11",
                "size": 48_213 + seq % 1000,
            },
            "prev": prev,
        }
        # All keys are ASCII and there are no numbers but small integers, so sorted-key compact
        # JSON is exactly RFC 8785 here (the verifier checks that it is).
        raw = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.sha256(b"\x00" + raw).digest()
        yield seq, receipt, raw, digest
        prev = digest.hex()


def large_log(count: int = ENTRIES) -> Flask:
    """An app whose database holds a verified log of ``count`` entries (built once per run)."""
    if count in _built:
        return _built[count]
    app = _stack.enter_context(fresh_app())
    _fill(app, count)
    _built[count] = app
    return app


@contextmanager
def fresh_large_log(count: int) -> Iterator[Flask]:
    """Like ``large_log``, but not kept for the run: the database is dropped when the block ends."""
    with fresh_app() as app:
        _fill(app, count)
        yield app


def _fill(app: Flask, count: int) -> None:
    """Grow ``app``'s log (the service's first entries) to ``count`` entries."""
    began = time.perf_counter()
    tree = MemoryTree()
    with app.app_context():
        recorded = [
            bytes(leaf)
            for (leaf,) in db.session.execute(text("SELECT leaf_hash FROM audit_entry ORDER BY seq"))
        ]
        for leaf in recorded:
            tree.append(leaf)
        prev = recorded[-1].hex() if recorded else "0" * 64
        stored = {tuple(key) for key in db.session.execute(text("SELECT level, idx FROM merkle_node"))}
        raw_connection = db.session.connection().connection.driver_connection
        with raw_connection.cursor() as cursor:
            with cursor.copy(
                "COPY audit_entry (seq, ts, actor_id, action, subject_type, subject_id, canonical, leaf_hash) FROM STDIN"
            ) as copy:
                for seq, receipt, raw, digest in _entries(len(recorded) + 1, count, prev):
                    tree.append(digest)
                    copy.write_row(
                        (
                            seq,
                            "2026-11-27T10:00:00.000000Z",
                            "bench",
                            "receipt.uploaded",
                            "receipt",
                            receipt,
                            raw,
                            digest,
                        )
                    )
                    if seq % 100_000 == 0:
                        say(
                            f"generated {seq:,} of {count:,} entries ({seq / (time.perf_counter() - began):,.0f}/s)"
                        )
            with cursor.copy("COPY merkle_node (level, idx, hash) FROM STDIN") as copy:
                for level in range(count.bit_length()):
                    for index in range(count >> level):
                        if (level, index) in stored:
                            continue  # the sequencer stored it with the recorded entries
                        copy.write_row((level, index, tree.perfect_node(level, index)))
        settings = current_settings()
        signer = load_signer(settings.instance_path, settings.log_origin)
        assert signer is not None
        for size in [*range(CHECKPOINT_EVERY, count, CHECKPOINT_EVERY), count]:
            if size <= len(recorded):
                continue  # the service signed its own
            note = sign_checkpoint(Checkpoint(settings.log_origin, size, tree.root(size)), signer)
            db.session.execute(
                text(
                    "INSERT INTO audit_checkpoint (size, root, key_id, note, signed_at) VALUES (:s, :r, :k, :n, :t)"
                ),
                {"s": size, "r": tree.root(size), "k": signer.key_id, "n": note, "t": datetime.now(UTC)},
            )
        frontier = b"".join(tree.perfect_node(level, index) for level, index in root_keys(count))
        db.session.execute(
            text("UPDATE audit_head SET size = :s, last_leaf_hash = :h, frontier = :f, checkpoint_size = :s"),
            {"s": count, "h": tree.perfect_node(0, count - 1), "f": frontier},
        )
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    say(f"built a log of {count:,} entries in {time.perf_counter() - began:.0f}s")
