"""Tables of the audit trail.

``audit_queue`` receives each entry in the same transaction as the change it records; the
sequencer then moves queued entries, in order, into ``audit_entry``, giving each its ``seq``,
its ``prev`` link and its exact canonical bytes, and stores the Merkle tree's perfect nodes in
``merkle_node`` so that proofs read O(log n) rows. ``audit_head`` is the log's current size and
last leaf hash, and its row is the one lock the sequencer takes. ``audit_checkpoint`` keeps every
signed checkpoint; ``audit_signing_key`` every verifier key ever used (private keys stay in the
instance folder). ``audit_entry``, ``merkle_node`` and ``audit_checkpoint`` are append-only:
migrations add triggers that refuse UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, UTCDateTime, utcnow

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits for a long log.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class AuditQueueItem(Base):
    """An entry recorded with its change, waiting for the sequencer to give it a place in the log."""

    __tablename__ = "audit_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ts: Mapped[str] = mapped_column(String(27))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AuditEntry(Base):
    """One entry of the log; ``canonical`` is exactly the bytes that were hashed."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_subject", "subject_type", "subject_id", "seq"),
        Index("ix_audit_entry_action_seq", "action", "seq"),
        Index("ix_audit_entry_actor_seq", "actor_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(27))
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(64))
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class MerkleNode(Base):
    """The hash of the perfect subtree over leaves [index * 2^level, (index + 1) * 2^level)."""

    __tablename__ = "merkle_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """Everything the sequencer needs to append, in one row that is also its lock.

    ``frontier`` is the Merkle tree's right edge: the hashes of the perfect subtrees that make up
    the tree of ``size`` leaves, largest first, concatenated (at most 64 x 32 bytes). Appending
    needs only these, so the sequencer reads no node rows; the tables stay the source of truth
    and ``ledger audit verify`` checks the head against them.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    last_leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    checkpoint_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditCheckpoint(Base):
    """A signed checkpoint (C2SP signed note) of the log at ``size`` entries."""

    __tablename__ = "audit_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditSigningKey(Base):
    """A verifier key of the log; retired keys stay so that old checkpoints still verify."""

    __tablename__ = "audit_signing_key"

    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    vkey: Mapped[str] = mapped_column(String(400), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_current(self) -> bool:
        return self.retired_at is None
