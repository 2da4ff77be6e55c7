"""Writing the audit trail: ``record`` in the caller's transaction, then the sequencer.

``record`` is the one way in. It validates the entry and queues it with the change it records,
in the same transaction, so both commit or neither does; it takes no lock, so concurrent
requests do not wait for each other. After the request commits, ``sequence_pending`` appends
queued entries to the chained log: it locks the log's head row (before any ``seq`` is assigned),
gives each queued entry the next ``seq`` and the previous leaf hash as ``prev``, stores the exact
canonical bytes and the Merkle tree's newly completed perfect nodes, and signs a checkpoint when
one is due. One sequencer transaction serves every entry queued so far, so under load many
entries share one lock acquisition and one durable commit.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, event, insert, select, text, tuple_, update
from sqlalchemy.orm import Session, SessionTransaction

from ledger.audit.canonical import (
    build_entry,
    canonical_bytes,
    encode_tree,
    format_timestamp,
    leaf_hash,
    parse_timestamp,
)
from ledger.audit.checkpoint import Checkpoint, sign_checkpoint
from ledger.audit.keys import load_signer
from ledger.audit.merkle import NodeKey, nodes_completed_from_nodes, root_from_nodes, root_keys
from ledger.config import current_settings
from ledger.extensions import db
from ledger.models.audit import AuditCheckpoint, AuditEntry, AuditHead, AuditQueueItem, MerkleNode

log = logging.getLogger(__name__)

PENDING = "ledger.audit_pending"

_head = cast(Table, AuditHead.__table__)
_queue = cast(Table, AuditQueueItem.__table__)
_entries = cast(Table, AuditEntry.__table__)
_nodes = cast(Table, MerkleNode.__table__)
_QUEUE_INSERT = insert(_queue)
BATCH_SIZE = 1000


def record(
    actor: Mapping[str, str],
    action: str,
    subject_type: str,
    subject_id: object,
    data: Mapping[str, object],
) -> None:
    """Queue an audit entry in the current transaction (it commits or rolls back with it)."""
    payload = canonical_bytes(data)  # refuses floats, huge integers and other non-JSON values now
    db.session.connection().execute(
        _QUEUE_INSERT,
        {
            "ts": format_timestamp(datetime.now(UTC)),
            "actor_id": actor["id"],
            "actor_role": actor["role"],
            "action": action,
            "subject_type": subject_type,
            "subject_id": str(subject_id),
            "data": payload,
        },
    )
    db.session.info[PENDING] = True


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_records(session: Session, previous_transaction: SessionTransaction) -> None:
    """Entries queued in a transaction that rolled back are gone with it."""
    if not previous_transaction.nested:
        session.info.pop(PENDING, None)


def has_pending_records() -> bool:
    return bool(db.session.info.pop(PENDING, False))


@dataclass(frozen=True)
class Head:
    size: int
    last_leaf_hash: bytes
    frontier: dict[NodeKey, bytes]
    checkpoint_size: int
    checkpoint_signed_at: datetime | None


def _unpack_frontier(size: int, packed: bytes) -> dict[NodeKey, bytes]:
    keys = root_keys(size)
    if len(packed) != 32 * len(keys):
        raise ValueError(f"the audit head's frontier does not fit a tree of {size} leaves")
    return {key: packed[32 * i : 32 * (i + 1)] for i, key in enumerate(keys)}


def _pack_frontier(size: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    return b"".join(nodes[key] for key in root_keys(size))


def _head_from_row(row: Any) -> Head:
    size = int(row.size)
    return Head(
        size=size,
        last_leaf_hash=bytes(row.last_leaf_hash),
        frontier=_unpack_frontier(size, bytes(row.frontier)),
        checkpoint_size=int(row.checkpoint_size),
        checkpoint_signed_at=row.checkpoint_signed_at,
    )


def read_head() -> Head:
    """The head as it is now, without locking (for verification and reports)."""
    return _head_from_row(db.session.execute(select(_head).where(_head.c.id == 1)).one())


def _lock_head(connection: Connection, *, wait: bool = True) -> Head | None:
    """Take the log's one lock, before any ``seq`` is assigned, and read the head under it.

    PostgreSQL: a row lock (``SELECT ... FOR UPDATE``); with ``wait=False`` it gives up at once
    (``SKIP LOCKED``) and returns None when another sequencer holds it. SQLite: an UPDATE of the
    row as the transaction's first statement takes the database's write lock (like ``BEGIN
    IMMEDIATE``); SQLite has one writer at a time anyway, so it always waits.
    """
    if connection.dialect.name == "sqlite":
        connection.execute(update(_head).where(_head.c.id == 1).values(size=_head.c.size))
        statement = select(_head).where(_head.c.id == 1)
    else:
        statement = select(_head).where(_head.c.id == 1).with_for_update(skip_locked=not wait)
    row = connection.execute(statement).one_or_none()
    return _head_from_row(row) if row is not None else None


def load_nodes(keys: list[NodeKey]) -> dict[NodeKey, bytes]:
    """Fetch perfect nodes in one query."""
    if not keys:
        return {}
    rows = db.session.execute(
        select(MerkleNode.level, MerkleNode.index, MerkleNode.hash).where(
            tuple_(MerkleNode.level, MerkleNode.index).in_(sorted(set(keys)))
        )
    )
    return {(int(level), int(index)): bytes(digest) for level, index, digest in rows}


def _take_queued(connection: Connection, batch_size: int) -> list[Any]:
    """Remove up to ``batch_size`` of the oldest queued entries and return them, oldest first."""
    oldest = select(_queue.c.id).order_by(_queue.c.id).limit(batch_size).scalar_subquery()
    rows = connection.execute(delete(_queue).where(_queue.c.id.in_(oldest)).returning(*_queue.c)).all()
    return sorted(rows, key=lambda row: row.id)


def _sequence_batch(batch_size: int, *, wait: bool) -> int | None:
    """Sequence one batch under the lock; None when ``wait`` is False and the lock is taken."""
    connection = db.session.connection()
    head = _lock_head(connection, wait=wait)
    if head is None:
        return None
    queued = _take_queued(connection, batch_size)
    if not queued:
        return 0
    frontier = dict(head.frontier)
    entries: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    size, prev = head.size, head.last_leaf_hash
    for item in queued:
        seq = size + 1
        entry = build_entry(
            seq=seq,
            ts=parse_timestamp(item.ts),
            actor={"id": item.actor_id, "role": item.actor_role},
            action=item.action,
            subject={"type": item.subject_type, "id": item.subject_id},
            data=json.loads(item.data),
            prev=prev,
        )
        canonical = encode_tree(entry)  # build_entry checked and ordered it
        digest = leaf_hash(canonical)
        for level, index, node_hash in nodes_completed_from_nodes(size, digest, frontier):
            frontier[(level, index)] = node_hash
            nodes.append({"level": level, "idx": index, "hash": node_hash})
        entries.append(
            {
                "seq": seq,
                "ts": item.ts,
                "actor_id": item.actor_id,
                "action": item.action,
                "subject_type": item.subject_type,
                "subject_id": item.subject_id,
                "canonical": canonical,
                "leaf_hash": digest,
            }
        )
        size, prev = seq, digest
    connection.execute(insert(_entries), entries)
    connection.execute(insert(_nodes), nodes)
    values: dict[str, Any] = {
        "size": size,
        "last_leaf_hash": prev,
        "frontier": _pack_frontier(size, frontier),
    }
    if _checkpoint_due(head, size):
        signed = _store_checkpoint(size, root_from_nodes(size, frontier))
        if signed is not None:
            values.update(checkpoint_size=size, checkpoint_signed_at=signed.signed_at)
    connection.execute(update(_head).where(_head.c.id == 1).values(**values))
    return len(queued)


def sequence_pending(batch_size: int = BATCH_SIZE, *, wait: bool = True) -> int:
    """Append queued entries to the log, a committed batch at a time, until the queue is empty.

    With ``wait=False`` (after each request's commit) a writer that finds another sequencer at
    work leaves at once: that sequencer looks at the queue again after its own commit, and so
    takes every entry committed before it let go of the lock. Only one writer at a time does the
    work, for everybody, and the others do not queue up behind it. Returns how many it appended.
    """
    return sequence_queue(batch_size, wait=wait).appended


@dataclass(frozen=True)
class SequencerRun:
    appended: int
    lock_was_taken: bool
    """True when another sequencer held the lock (only with ``wait=False``): it will take the rest."""


def sequence_queue(batch_size: int = BATCH_SIZE, *, wait: bool = True, gather: float = 0.0) -> SequencerRun:
    """:func:`sequence_pending`, also saying whether another sequencer was found at work.

    ``gather`` > 0 pauses that long after a batch smaller than ``batch_size`` before looking at
    the queue again, so that under load each batch (one lock, one durable commit) carries more
    entries.
    """
    total = 0
    first = True
    while True:
        if not first and gather > 0:
            time.sleep(gather)
        first = False
        try:
            if db.session.scalar(select(_queue.c.id).limit(1)) is None:
                db.session.rollback()
                return SequencerRun(total, lock_was_taken=False)
            appended = _sequence_batch(batch_size, wait=wait)
            if appended:
                db.session.commit()
            else:
                db.session.rollback()
        except BaseException:
            db.session.rollback()
            raise
        if appended is None:
            return SequencerRun(total, lock_was_taken=True)
        total += appended


def _checkpoint_due(head: Head, size: int) -> bool:
    settings = current_settings()
    if head.checkpoint_signed_at is None:
        return True
    if size - head.checkpoint_size >= settings.checkpoint_every_entries:
        return True
    signed_at = head.checkpoint_signed_at.replace(tzinfo=head.checkpoint_signed_at.tzinfo or UTC)
    return datetime.now(UTC) - signed_at >= timedelta(seconds=settings.checkpoint_every_seconds)


_warned_no_key = False


def _store_checkpoint(size: int, root: bytes) -> AuditCheckpoint | None:
    """Sign and keep a checkpoint of the first ``size`` entries (None without a signing key)."""
    global _warned_no_key
    settings = current_settings()
    signer = load_signer(settings.instance_path, settings.log_origin)
    if signer is None:
        if not _warned_no_key:
            log.warning("no audit signing key in the instance folder, so no checkpoints: run `ledger init`")
            _warned_no_key = True
        return None
    note = sign_checkpoint(Checkpoint(settings.log_origin, size, root), signer)
    checkpoint = AuditCheckpoint(
        size=size, root=root, key_id=signer.key_id, note=note, signed_at=datetime.now(UTC)
    )
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def seconds_until_checkpoint_due() -> float | None:
    """How long until the entries no checkpoint covers yet are due one (None: every entry is covered).

    The background sequencer sleeps no longer than this, so that no entry stays uncovered for
    more than ``LEDGER_CHECKPOINT_EVERY_SECONDS`` after it was appended.
    """
    head = read_head()
    db.session.rollback()
    if head.size == head.checkpoint_size:
        return None
    if head.checkpoint_signed_at is None:
        return 0.0
    signed_at = head.checkpoint_signed_at.replace(tzinfo=head.checkpoint_signed_at.tzinfo or UTC)
    due = signed_at + timedelta(seconds=current_settings().checkpoint_every_seconds)
    return max(0.0, (due - datetime.now(UTC)).total_seconds())


def sign_checkpoint_if_due() -> AuditCheckpoint | None:
    """Sign a checkpoint if entries have been appended since the last one and one is due by time.

    Used by idle sequencer wake-ups, so that the last entries before a quiet spell do not wait
    for the next append to be covered by a signed checkpoint. Never waits for the lock.
    """
    head = read_head()
    db.session.rollback()
    if head.size == head.checkpoint_size or not _checkpoint_due(head, head.size):
        return None
    locked = _lock_head(db.session.connection(), wait=False)
    if locked is None or locked.size == locked.checkpoint_size or not _checkpoint_due(locked, locked.size):
        db.session.rollback()
        return None
    checkpoint = _store_checkpoint(locked.size, root_from_nodes(locked.size, locked.frontier))
    if checkpoint is None:
        db.session.rollback()
        return None
    db.session.execute(
        update(_head)
        .where(_head.c.id == 1)
        .values(checkpoint_size=locked.size, checkpoint_signed_at=checkpoint.signed_at)
    )
    db.session.commit()
    return checkpoint


def sign_checkpoint_now() -> AuditCheckpoint | None:
    """Sign a checkpoint of the whole log as it is now (on demand); None when the log is empty.

    Returns the existing checkpoint when one of this size is already signed. It commits its own
    work, so it refuses to run in a transaction that has changed anything: that change would be
    committed or rolled back with it, behind its caller's back.
    """
    session = db.session
    if session.new or session.dirty or session.deleted or session.info.get(PENDING):
        raise RuntimeError(
            "sign_checkpoint_now commits its own transaction: call it before changing anything"
        )
    sequence_pending()
    settings = current_settings()
    if load_signer(settings.instance_path, settings.log_origin) is None:
        raise LookupError("no audit signing key in the instance folder: run `ledger init`")
    head = _lock_head(db.session.connection())
    assert head is not None  # a waiting lock always returns the head
    existing = db.session.get(AuditCheckpoint, head.size) if head.size else None
    if head.size == 0 or existing is not None:
        db.session.rollback()
        return existing
    checkpoint = _store_checkpoint(head.size, root_from_nodes(head.size, head.frontier))
    assert checkpoint is not None
    db.session.execute(
        update(_head)
        .where(_head.c.id == 1)
        .values(checkpoint_size=head.size, checkpoint_signed_at=checkpoint.signed_at)
    )
    db.session.commit()
    return checkpoint


def log_size() -> int:
    return int(db.session.scalar(text("SELECT size FROM audit_head WHERE id = 1")) or 0)
