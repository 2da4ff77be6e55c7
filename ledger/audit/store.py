"""Reading the audit trail back: entries, checkpoints, verifier keys and proofs.

Proofs fetch only the O(log n) perfect nodes they need, in one query, so their cost does not
grow with the log beyond the index lookups.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select

from ledger.audit.log_verifier import LogRecord
from ledger.audit.merkle import (
    consistency_proof_from_nodes,
    consistency_proof_keys,
    inclusion_proof_from_nodes,
    inclusion_proof_keys,
)
from ledger.audit.trail import load_nodes, log_size
from ledger.extensions import db
from ledger.models.audit import AuditCheckpoint, AuditEntry, AuditSigningKey

_entries = cast(Table, AuditEntry.__table__)


class ProofRequestError(ValueError):
    """A proof was asked for sizes or positions the log cannot give; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    size1: int
    size2: int
    hashes: list[bytes]


def entries_after(after: int, limit: int) -> list[AuditEntry]:
    statement = select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
    return list(db.session.scalars(statement))


def iter_entries(batch: int = 10_000) -> Iterator[LogRecord]:
    """Every entry in seq order as (seq, canonical bytes, stored leaf hash), read in batches.

    Plain rows, not ORM objects: export and verification stream millions of them.
    """
    after = 0
    statement = select(_entries.c.seq, _entries.c.canonical, _entries.c.leaf_hash).order_by(_entries.c.seq)
    while True:
        page = db.session.execute(statement.where(_entries.c.seq > after).limit(batch)).all()
        if not page:
            return
        for seq, canonical, stored in page:
            yield LogRecord(seq, bytes(canonical), bytes(stored))
        after = page[-1][0]


def parsed_entries() -> Iterator[dict[str, Any]]:
    """Every entry in seq order, parsed (for a second pass after the log itself was verified)."""
    for record in iter_entries():
        yield json.loads(record.canonical)


def entry_at(seq: int) -> dict[str, Any] | None:
    canonical = db.session.scalar(select(_entries.c.canonical).where(_entries.c.seq == seq))
    return json.loads(bytes(canonical)) if canonical is not None else None


def latest_checkpoint() -> AuditCheckpoint | None:
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1))


def checkpoint_of_size(size: int) -> AuditCheckpoint | None:
    if not 0 < size < 2**53:
        return None  # no log grows that long; and the database's integers would overflow
    return db.session.get(AuditCheckpoint, size)


def checkpoint_notes() -> dict[int, str]:
    rows = db.session.execute(
        select(AuditCheckpoint.size, AuditCheckpoint.note).order_by(AuditCheckpoint.size)
    )
    return {int(r.size): r.note for r in rows}


def signing_keys() -> list[AuditSigningKey]:
    return list(db.session.scalars(select(AuditSigningKey).order_by(AuditSigningKey.created_at)))


def _require_tree_size(tree_size: int, field: str) -> None:
    size = log_size()
    if tree_size < 1 or tree_size > size:
        raise ProofRequestError(field, f"must be between 1 and the log's size, {size}")


def inclusion_proof(seq: int, tree_size: int) -> InclusionProof:
    _require_tree_size(tree_size, "tree_size")
    if seq < 1 or seq > tree_size:
        raise ProofRequestError("seq", f"must be between 1 and tree_size ({tree_size})")
    leaf_index = seq - 1
    nodes = load_nodes([*inclusion_proof_keys(leaf_index, tree_size), (0, leaf_index)])
    hashes = inclusion_proof_from_nodes(leaf_index, tree_size, nodes)
    return InclusionProof(leaf_index, tree_size, nodes[(0, leaf_index)], hashes)


def consistency_proof(size1: int, size2: int) -> ConsistencyProof:
    _require_tree_size(size2, "to")
    if size1 < 1 or size1 > size2:
        raise ProofRequestError("from", f"must be between 1 and to ({size2})")
    nodes = load_nodes(consistency_proof_keys(size1, size2))
    return ConsistencyProof(size1, size2, consistency_proof_from_nodes(size1, size2, nodes))
