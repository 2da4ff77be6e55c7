"""The Idempotency-Keys that created communities, organisations, users, funds and budget revisions.

Reports, disbursements and journal entries keep their key on their own row. The things here have
no "who created it" column to scope a key by, so the key lives beside them: one row per key a
person used, naming what it created. The primary key (``created_by``, ``idempotency_key``) is
what makes two concurrent creates with one key end in one thing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, UTCDateTime, utcnow

SUBJECT_TYPES = ("community", "organisation", "user", "fund", "budget_revision")


class IdempotentCreate(Base):
    __tablename__ = "idempotent_create"
    __table_args__ = (
        CheckConstraint(
            "subject_type IN ('community', 'organisation', 'user', 'fund', 'budget_revision')",
            name="subject_type",
        ),
    )

    # The creator's audit identity (Actor.audit_identity["id"]): keys are per person.
    created_by: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # SHA-256 of the first request's meaningful fields (services/idempotency.py).
    request_hash: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
