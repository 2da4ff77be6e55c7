"""The books: journal entries of double-entry postings, kept per organisation, by month.

Every organisation keeps its own books on the standard chart (NPO-2005), with the fund as a
dimension on every posting. A journal entry is a set of postings whose debits equal its credits
in each currency; amounts are positive integers of minor units with a side. Entries and postings
are never changed or removed (the database refuses it); a mistake is corrected by a reversing
entry. Months are accounting periods that finance officers close; nothing posts into a closed
period.
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
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.models.audit import BigId
from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow


class Side(enum.StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class EntrySource(enum.StrEnum):
    """What made an entry: an event of the funding cycle, or a finance officer's adjustment."""

    DISBURSEMENT_PAID = "disbursement_paid"
    EXPENSE_APPROVED = "expense_approved"
    RESTRICTED_RELEASE = "restricted_release"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    YEAR_END_CLOSE = "year_end_close"


class PeriodStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AccountingPeriod(UUIDPrimaryKey, Versioned, Base):
    """One month of one organisation's books."""

    __tablename__ = "accounting_period"
    __table_args__ = (
        UniqueConstraint("organisation_id", "year", "month"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(8), default=PeriodStatus.OPEN.value)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JournalEntry(UUIDPrimaryKey, Base):
    """A balanced set of postings, dated, in one organisation's books."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        CheckConstraint("posting_count >= 2", name="posting_count"),
        CheckConstraint(
            "source IN ('disbursement_paid', 'expense_approved', 'restricted_release', 'refund', "
            "'adjustment', 'reversal', 'year_end_close')",
            name="source",
        ),
        Index("ix_journal_entry_organisation_date", "organisation_id", "entry_date"),
        # A retried money-moving request finds the entry its first attempt posted.
        UniqueConstraint("created_by", "idempotency_key"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    entry_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"), unique=True)
    chart_version: Mapped[str] = mapped_column(ForeignKey("chart_of_accounts.version"))
    posting_count: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # The cash-flow statement's line for an adjustment that moves cash (events are classified by
    # their event; see ledger/services/statement_figures/cash_flow.py).
    cash_flow_line: Mapped[str | None] = mapped_column(String(48))

    postings: Mapped[list[Posting]] = relationship(
        back_populates="journal_entry", order_by="Posting.line", lazy="selectin"
    )


class Posting(Base):
    """One side of a journal entry: an amount on an account, optionally for a fund."""

    __tablename__ = "posting"
    __table_args__ = (
        UniqueConstraint("journal_entry_id", "line"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("side IN ('debit', 'credit')", name="side"),
        CheckConstraint(
            "restriction IS NULL OR restriction IN ('restricted', 'unrestricted')", name="restriction"
        ),
        # Trial balances and fund reports read postings by organisation and date.
        Index("ix_posting_organisation_date_account", "organisation_id", "entry_date", "account_code"),
        Index("ix_posting_fund_account", "fund_id", "account_code"),
        # A posting's fund belongs to the same organisation. (On SQLite, which cannot add a foreign
        # key to an existing table, migration 0007 enforces this with a trigger instead.)
        ForeignKeyConstraint(
            ["fund_id", "organisation_id"], ["fund.id", "fund.organisation_id"], ondelete="RESTRICT"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    journal_entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal_entry.id", ondelete="RESTRICT"))
    line: Mapped[int] = mapped_column(SmallInteger)
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    entry_date: Mapped[date] = mapped_column(Date)
    account_code: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(6))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    fund_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    restriction: Mapped[str | None] = mapped_column(String(12))

    journal_entry: Mapped[JournalEntry] = relationship(back_populates="postings")


class PeriodBalance(Base):
    """One account's movement in a closed month, taken when the month was closed.

    Trial balances add these up instead of re-reading every posting of the closed months. A row
    counts only while its month stays closed at the version it was taken at: reopening the month
    makes it stale, and closing it again takes a new set. Rows are never changed or removed.
    """

    __tablename__ = "period_balance"
    __table_args__ = (
        UniqueConstraint(
            "period_id", "period_version", "account_code", "currency", name="uq_period_balance_account"
        ),
        CheckConstraint("debit_minor >= 0 AND credit_minor >= 0", name="amounts"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounting_period.id", ondelete="RESTRICT"))
    period_version: Mapped[int] = mapped_column(Integer)
    account_code: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    debit_minor: Mapped[int] = mapped_column(BigInteger)
    credit_minor: Mapped[int] = mapped_column(BigInteger)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
