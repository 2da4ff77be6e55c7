"""Funds: one funding agreement each, and its budget.

A fund is an incubation fund, a welfare-lottery grant or a government procurement-of-services
contract given to one organisation: an award in a currency for a period, restricted to a
purpose or not, booked to a revenue account, with an optional cap on administrative costs and
categories it may not be spent on. It moves draft -> active -> suspended/closed.

The budget is never stored as a figure that is overwritten: it is the sum of append-only
``budget_entry`` rows per category (the initial budget, then each approved revision's changes),
so the budget on any past date is the sum of the rows effective by then.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.audit import BigId
from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow


class FundKind(enum.StrEnum):
    INCUBATION_FUND = "incubation_fund"
    LOTTERY_GRANT = "lottery_grant"
    PROCUREMENT_CONTRACT = "procurement_contract"


class FundStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class RevisionStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


# Revenue accounts a fund may book to: government grant, service (exchange) or donation revenue.
REVENUE_ACCOUNTS = ("4401", "4301", "4101")


class Fund(UUIDPrimaryKey, Versioned, Base):
    __tablename__ = "fund"
    __table_args__ = (
        CheckConstraint("kind IN ('incubation_fund', 'lottery_grant', 'procurement_contract')", name="kind"),
        CheckConstraint("status IN ('draft', 'active', 'suspended', 'closed')", name="status"),
        CheckConstraint("award_minor > 0", name="award_positive"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint(
            "admin_cost_cap_bp IS NULL OR admin_cost_cap_bp BETWEEN 0 AND 10000", name="admin_cap"
        ),
        CheckConstraint("revenue_account IN ('4401', '4301', '4101')", name="revenue_account"),
        # The target of the postings' (fund, organisation) foreign key.
        UniqueConstraint("id", "organisation_id"),
        Index("ix_fund_organisation_status", "organisation_id", "status"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    funder_name: Mapped[str] = mapped_column(String(200))
    funder_credit_code: Mapped[str | None] = mapped_column(String(18))
    # The node of the administrative tree whose funding body gives the fund (a district's
    # lottery fund, a street's procurement budget): the fund goes only to organisations of its
    # subtree. NULL: the whole deployment (funds entered before the tree).
    funding_division_code: Mapped[str | None] = mapped_column(String(12))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    award_minor: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    restricted: Mapped[bool] = mapped_column(Boolean)
    restriction_purpose: Mapped[str | None] = mapped_column(String(500))
    revenue_account: Mapped[str] = mapped_column(String(16))
    admin_cost_cap_bp: Mapped[int | None] = mapped_column(Integer)
    banned_categories: Mapped[list[str]] = mapped_column(JSON)
    category_list_version: Mapped[str] = mapped_column(ForeignKey("expense_category_list.version"))
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    disclosure_deadline: Mapped[date | None] = mapped_column(Date)
    label_required: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=FundStatus.DRAFT.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Business dates the open data publishes (the day the award was decided and the contract
    # signed; the moment the fund was closed). NULL for the award and signing: the period's start.
    awarded_on: Mapped[date | None] = mapped_column(Date)
    signed_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BudgetEntry(Base):
    """A change to one category of a fund's budget; the budget is the sum of these."""

    __tablename__ = "budget_entry"
    __table_args__ = (
        CheckConstraint("source IN ('draft', 'revision')", name="source"),
        Index("ix_budget_entry_fund_category", "fund_id", "category_code", "effective_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id", ondelete="RESTRICT"))
    category_code: Mapped[str] = mapped_column(String(32))
    amount_delta_minor: Mapped[int] = mapped_column(BigInteger)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(16))
    revision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("budget_revision.id"))


class BudgetRevision(UUIDPrimaryKey, Versioned, Base):
    """A proposed reallocation between categories of an active fund's budget."""

    __tablename__ = "budget_revision"
    __table_args__ = (CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status"),)

    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id", ondelete="RESTRICT"), index=True)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=RevisionStatus.PROPOSED.value)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
