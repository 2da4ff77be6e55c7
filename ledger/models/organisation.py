"""Community social organisations: the recipients of funds, each with its own books.

An organisation is either registered with civil affairs (登记: it has an 18-character Unified
Social Credit Code) or filed (备案) with the street office or township government (no credit
code, a filing number unique per issuing office), and it may later be deregistered. Its
``status`` is the latest of its status changes (``organisation_status_change``), an append-only
history: a filed organisation that registers keeps its filing details and its filing row.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow
from ledger.models.community import Community


class RegistrationType(enum.StrEnum):
    """How the organisation is registered with civil affairs (GB 32100 entity types 51/52/53)."""

    SOCIAL_GROUP = "social_group"  # 社会团体
    SOCIAL_SERVICE_ORGANISATION = "social_service_organisation"  # 社会服务机构 (民办非企业单位)
    FOUNDATION = "foundation"  # 基金会
    OTHER = "other"


class OrganisationStatus(enum.StrEnum):
    """Where an organisation stands with the authorities."""

    FILED = "filed"  # 备案: with the street office / township government, no credit code
    REGISTERED = "registered"  # 登记: with civil affairs, a Unified Social Credit Code
    DEREGISTERED = "deregistered"  # 注销 / 撤销备案: no longer active


# The statuses in which an organisation is active (counts towards coverage, may receive funds).
ACTIVE_STATUSES = (OrganisationStatus.FILED, OrganisationStatus.REGISTERED)


class FilingCategory(enum.StrEnum):
    """The categories of filed community social organisations (民政部 2017 opinion)."""

    LIFE_SERVICES = "life_services"  # 生活服务类
    CHARITY = "charity"  # 公益慈善类
    CULTURE_SPORTS = "culture_sports"  # 文体活动类
    MEDIATION = "mediation"  # 专业调处类
    OTHER = "other"


class Organisation(UUIDPrimaryKey, Versioned, Base):
    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(
            "registration_type IN ('social_group', 'social_service_organisation', 'foundation', 'other')",
            name="registration_type",
        ),
        CheckConstraint("length(credit_code) = 18", name="credit_code_length"),
        CheckConstraint("status IN ('filed', 'registered', 'deregistered')", name="status"),
        CheckConstraint(
            "filing_category IS NULL OR filing_category IN "
            "('life_services', 'charity', 'culture_sports', 'mediation', 'other')",
            name="filing_category",
        ),
        # Filing details come together or not at all: a filing is a number, an office, a date and a category.
        CheckConstraint(
            "(filing_number IS NULL) = (filing_office_code IS NULL) "
            "AND (filing_number IS NULL) = (filed_on IS NULL) "
            "AND (filing_number IS NULL) = (filing_category IS NULL)",
            name="filing_complete",
        ),
        # A registered organisation has a credit code; a filed one has its filing and no credit code.
        CheckConstraint(
            "(status <> 'registered' OR credit_code IS NOT NULL) "
            "AND (status <> 'filed' OR (credit_code IS NULL AND filing_number IS NOT NULL))",
            name="status_details",
        ),
        UniqueConstraint("filing_office_code", "filing_number"),
    )

    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=OrganisationStatus.REGISTERED.value)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    registration_type: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community.id", ondelete="RESTRICT"), index=True
    )
    filing_number: Mapped[str | None] = mapped_column(String(64))
    # The 12-digit code of the township-level division (街道 / 乡镇) whose office holds the filing.
    filing_office_code: Mapped[str | None] = mapped_column(String(12))
    filed_on: Mapped[date | None] = mapped_column(Date)
    filing_category: Mapped[str | None] = mapped_column(String(16))
    # The hub or community that holds the organisation's money on its behalf (代管), if any.
    money_held_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship(lazy="joined", innerjoin=True)
    # Read-only: changes are added as rows, never through this list (see services/organisation_status.py).
    status_history: Mapped[list[OrganisationStatusChange]] = relationship(
        viewonly=True,
        lazy="selectin",
        order_by="(OrganisationStatusChange.effective_on, OrganisationStatusChange.recorded_at)",
    )


class OrganisationStatusChange(UUIDPrimaryKey, Base):
    """One change of an organisation's status, on its business date; rows are only ever added.

    The first row is written when the organisation is entered (filed on its filing date, or
    registered on its registration date), one more per registration or deregistration. The
    foreign key is checked at commit, so that an organisation removed by mistake takes its rows
    with it in the same transaction; the database refuses every other UPDATE and DELETE.
    """

    __tablename__ = "organisation_status_change"
    __table_args__ = (CheckConstraint("status IN ('filed', 'registered', 'deregistered')", name="status"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", deferrable=True, initially="DEFERRED"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    reason: Mapped[str | None] = mapped_column(Text)
