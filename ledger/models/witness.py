"""Witness cosignatures of the log's checkpoints (C2SP tlog-cosignature).

After a checkpoint is signed and committed the log sends it to each witness configured in
``LEDGER_WITNESSES`` (:mod:`ledger.services.witnessing`); a witness that finds it consistent with
what it cosigned before answers with a cosignature line, kept here exactly as received, one row
per checkpoint and witness key. The API and export bundles serve each checkpoint with its
cosignature lines appended. Append-only like ``audit_checkpoint``: the migration adds triggers
that refuse UPDATE, DELETE and TRUNCATE.

This module is imported by :mod:`ledger.services.witnessing` (so the table is on the metadata
whenever the app is built).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, UTCDateTime, utcnow


class WitnessCosignature(Base):
    """A witness's cosignature (``— name base64(key id || timestamp || signature)``) of a checkpoint."""

    __tablename__ = "witness_cosignature"

    # The checkpoint's size. No foreign key: TRUNCATE audit_checkpoint must meet that table's own
    # append-only trigger, not a foreign-key error (and cosignatures are only ever added after it).
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    """The witness's time of cosigning, POSIX seconds (inside the signed line too)."""
    line: Mapped[str] = mapped_column(Text)
    """The signature line as the witness sent it, without its newline."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
