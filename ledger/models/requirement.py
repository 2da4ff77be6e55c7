"""Requirements: what an organisation or its officers must file for a fund, by when, and who.

A requirement is an interim or final expense report, a welfare-lottery usage disclosure for a
year, a tranche's condition, a procurement contract's deliverable (one per milestone of the
contract, ``milestone_number`` counting from 1; done when an officer confirms its delivery), or an
organisation's annual report (年报, no fund). It is open until
the matching thing is filed (``done_at``, ``done_by``, ``done_by_ref`` naming what fulfilled it)
or an officer withdraws it (``withdrawn_at``): rows are never deleted, so the trail and the pages
show what was asked and what became of it. Whether an open one is upcoming, due or overdue is
not stored; it depends on the day (``services/requirements.state_of``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow


class RequirementKind(enum.StrEnum):
    INTERIM_REPORT = "interim_report"
    FINAL_REPORT = "final_report"
    LOTTERY_DISCLOSURE = "lottery_disclosure"
    TRANCHE_CONDITION = "tranche_condition"
    ANNUAL_REPORT = "annual_report"
    DELIVERABLE = "deliverable"


class ResponsibleRole(enum.StrEnum):
    """Which side acts: the organisation's members, or the finance officers of its area."""

    MEMBER = "member"
    OFFICER = "officer"


class Requirement(UUIDPrimaryKey, Versioned, Base):
    __tablename__ = "requirement"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('interim_report', 'final_report', 'lottery_disclosure', 'tranche_condition', "
            "'annual_report', 'deliverable')",
            name="kind",
        ),
        CheckConstraint("(kind = 'deliverable') = (milestone_number IS NOT NULL)", name="milestone_named"),
        CheckConstraint("responsible_role IN ('member', 'officer')", name="responsible_role"),
        # Only an organisation's annual report stands without a fund.
        CheckConstraint("fund_id IS NOT NULL OR kind = 'annual_report'", name="fund_needed"),
        # The home pages and queues read open requirements by due date, per organisation.
        Index("ix_requirement_organisation_due", "organisation_id", "due_on"),
        Index("ix_requirement_fund_due", "fund_id", "due_on"),
    )

    fund_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("fund.id", ondelete="RESTRICT"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32))
    # As typed by an officer, or the kind's own title in Chinese when the service wrote it; then
    # ``title_en`` holds its English, so each reader sees one language (None: typed, one text).
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    # The calendar year a lottery disclosure or an annual report covers.
    covers_year: Mapped[int | None] = mapped_column(Integer)
    tranche_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tranche.id", ondelete="RESTRICT"))
    # A deliverable's place among the contract's milestones (``fund.milestones``), from 1.
    milestone_number: Mapped[int | None] = mapped_column(Integer)
    responsible_role: Mapped[str] = mapped_column(String(16))
    responsible_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="RESTRICT")
    )
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(64))
    # What fulfilled it: "expense_report:<id>", "statement:<sha256>", or "marked" (by hand, with a note).
    done_by_ref: Mapped[str | None] = mapped_column(String(100))
    done_note: Mapped[str | None] = mapped_column(String(500))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawal_note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def title_in(self, lang: str) -> str:
        """The title a reader of ``lang`` (``"zh"`` or ``"en"``) sees."""
        return self.title_en if lang == "en" and self.title_en else self.title
