"""Expense reports: what an organisation spent from a fund, line by line, with receipts.

A report is filed as a draft, submitted, and then approved, returned with a comment (the
organisation fixes it and submits again) or rejected. Each line names a standard expense
category, an amount, the date it was incurred, the payee and a receipt; the same receipt (same
SHA-256) is never claimed on two lines that still count.

Each line also records its receipt's kind and, for an invoice, its identity (kind, code,
number); ``invoice_claim`` holds one row per identity claimed by a report that still counts, so
that the database itself refuses a second claim (see docs/invoices.md).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow

if TYPE_CHECKING:
    from ledger.models.fund import Fund


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    VOIDED = "voided"


EDITABLE = (ReportStatus.DRAFT.value, ReportStatus.RETURNED.value)


class ReceiptKind(enum.StrEnum):
    """What a line's receipt is: three kinds carry a national number, a plain receipt none."""

    DIGITAL_INVOICE = "digital_invoice"  # 数电发票: a 20-digit number, no code
    VAT_INVOICE = "vat_invoice"  # 增值税发票: a 10- or 12-digit code and an 8-digit number
    FISCAL_RECEIPT = "fiscal_receipt"  # 财政票据: an 8-digit code and a 10-digit number
    PLAIN_RECEIPT = "plain_receipt"  # 收据 and other vouchers: no number


NUMBERED_KINDS = (
    ReceiptKind.DIGITAL_INVOICE.value,
    ReceiptKind.VAT_INVOICE.value,
    ReceiptKind.FISCAL_RECEIPT.value,
)


class Receipt(Base):
    """An uploaded receipt's facts; its bytes are in the encrypted receipt store."""

    __tablename__ = "receipt"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 of the encrypted file as stored, recorded (also in the trail) when it was written, so
    # that ``ledger audit verify`` finds a stored file changed on disk. None for receipts stored
    # before this was recorded.
    stored_sha256: Mapped[str | None] = mapped_column(String(64))


class ExpenseReport(UUIDPrimaryKey, Versioned, Base):
    __tablename__ = "expense_report"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'returned', 'rejected', 'voided')", name="status"
        ),
        Index("ix_expense_report_fund_status", "fund_id", "status"),
        Index("ix_expense_report_status_submitted", "status", "submitted_at"),
        # The report list, newest first, by fund or by organisation: read one page, sort nothing.
        Index("ix_expense_report_fund_created", "fund_id", "created_at", "id"),
        Index("ix_expense_report_organisation_created", "organisation_id", "created_at", "id"),
        # A retried create returns the first report: one report per person and key.
        Index("ix_expense_report_idempotency", "filed_by", "idempotency_key", unique=True),
    )

    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id", ondelete="RESTRICT"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    interim: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.DRAFT.value)
    filed_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    journal_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))
    voided_by: Mapped[str | None] = mapped_column(String(64))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The Idempotency-Key it was created with and the fingerprint of that request (NULL for
    # reports created before keys were taken).
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    lines: Mapped[list[ExpenseLine]] = relationship(
        back_populates="report", order_by="ExpenseLine.number", lazy="selectin", cascade="all, delete-orphan"
    )
    # Read only: a report loaded with its fund keeps that fund in the session for the rest of
    # the request, so that looking the fund up again costs no query.
    fund: Mapped[Fund] = relationship(viewonly=True)


class ExpenseLine(UUIDPrimaryKey, Base):
    __tablename__ = "expense_line"
    __table_args__ = (
        UniqueConstraint("report_id", "number"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index("ix_expense_line_receipt", "receipt_sha256"),
        CheckConstraint(
            "receipt_kind IN ('digital_invoice', 'vat_invoice', 'fiscal_receipt', 'plain_receipt')",
            name="receipt_kind",
        ),
        # Near-duplicates are looked up by the invoice's date and amount.
        Index("ix_expense_line_invoice_date_amount", "invoice_date", "invoice_amount_minor"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("expense_report.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)
    category_code: Mapped[str] = mapped_column(String(32))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    incurred_on: Mapped[date] = mapped_column(Date)
    payee: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))
    receipt_sha256: Mapped[str | None] = mapped_column(ForeignKey("receipt.sha256"))
    # The receipt's kind and, for an invoice, what is printed on it (docs/invoices.md).
    receipt_kind: Mapped[str] = mapped_column(
        String(16), default=ReceiptKind.PLAIN_RECEIPT.value, server_default=ReceiptKind.PLAIN_RECEIPT.value
    )
    invoice_code: Mapped[str | None] = mapped_column(String(12))
    invoice_number: Mapped[str | None] = mapped_column(String(20))
    invoice_date: Mapped[date | None] = mapped_column(Date)
    invoice_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    seller_name: Mapped[str | None] = mapped_column(String(200))
    seller_taxpayer_id: Mapped[str | None] = mapped_column(String(20))
    # A finance officer (not the filer) checked the invoice against the tax administration's record.
    invoice_verified_by: Mapped[str | None] = mapped_column(String(64))
    invoice_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report: Mapped[ExpenseReport] = relationship(back_populates="lines")


class InvoiceClaim(UUIDPrimaryKey, Base):
    """An invoice's identity claimed by a line of a report that still counts: at most one in the deployment.

    Written by the expense-report service when lines are set; removed when the line goes or its
    report is rejected or voided. The unique constraint decides a race between two requests.
    """

    __tablename__ = "invoice_claim"
    __table_args__ = (
        UniqueConstraint("receipt_kind", "invoice_code", "invoice_number"),
        CheckConstraint(
            "receipt_kind IN ('digital_invoice', 'vat_invoice', 'fiscal_receipt')", name="receipt_kind"
        ),
        Index("ix_invoice_claim_report", "report_id"),
    )

    receipt_kind: Mapped[str] = mapped_column(String(16))
    invoice_code: Mapped[str] = mapped_column(String(12))  # '' for a digital invoice
    invoice_number: Mapped[str] = mapped_column(String(20))
    line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("expense_line.id", ondelete="RESTRICT"))
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("expense_report.id", ondelete="RESTRICT"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
