"""Community social organisations: the recipients of funds, each with its own books."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow
from ledger.models.community import Community


class RegistrationType(enum.StrEnum):
    """How the organisation is registered with civil affairs (GB 32100 entity types 51/52/53)."""

    SOCIAL_GROUP = "social_group"  # 社会团体
    SOCIAL_SERVICE_ORGANISATION = "social_service_organisation"  # 社会服务机构 (民办非企业单位)
    FOUNDATION = "foundation"  # 基金会
    OTHER = "other"


class Organisation(UUIDPrimaryKey, Versioned, Base):
    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(
            "registration_type IN ('social_group', 'social_service_organisation', 'foundation', 'other')",
            name="registration_type",
        ),
        CheckConstraint("length(credit_code) = 18", name="credit_code_length"),
    )

    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    registration_type: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship(lazy="joined", innerjoin=True)
