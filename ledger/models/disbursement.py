"""Paying money out: the tranche schedule of a fund, and disbursements to the organisation.

A disbursement is prepared by one finance officer, approved by another, then marked paid with
the bank's reference (which books it) or cancelled. Each is created with an idempotency key, so a
client that retries after a timeout gets the first result instead of paying twice.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow


class TrancheCondition(enum.StrEnum):
    NONE = "none"
    APPROVED_INTERIM_REPORT = "approved_interim_report"


class DisbursementKind(enum.StrEnum):
    TRANCHE_ADVANCE = "tranche_advance"
    REIMBURSEMENT = "reimbursement"


class DisbursementStatus(enum.StrEnum):
    PREPARED = "prepared"
    APPROVED = "approved"
    PAID = "paid"
    CANCELLED = "cancelled"
    REVERSED = "reversed"


class Tranche(UUIDPrimaryKey, Base):
    """One payment of a fund's schedule."""

    __tablename__ = "tranche"
    __table_args__ = (
        UniqueConstraint("fund_id", "number"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("condition IN ('none', 'approved_interim_report')", name="condition"),
    )

    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(SmallInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    condition: Mapped[str] = mapped_column(String(32), default=TrancheCondition.NONE.value)


class Disbursement(UUIDPrimaryKey, Versioned, Base):
    __tablename__ = "disbursement"
    __table_args__ = (
        UniqueConstraint("prepared_by", "idempotency_key"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("kind IN ('tranche_advance', 'reimbursement')", name="kind"),
        CheckConstraint("status IN ('prepared', 'approved', 'paid', 'cancelled', 'reversed')", name="status"),
        Index("ix_disbursement_fund_status", "fund_id", "status"),
    )

    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id", ondelete="RESTRICT"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32))
    tranche_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tranche.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=DisbursementStatus.PREPARED.value)
    memo: Mapped[str] = mapped_column(String(500))
    prepared_by: Mapped[str] = mapped_column(String(64))
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    paid_by: Mapped[str | None] = mapped_column(String(64))
    paid_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    journal_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    reversed_on: Mapped[date | None] = mapped_column(Date)
    reversal_reason: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
