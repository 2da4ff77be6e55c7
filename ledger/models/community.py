"""Communities (社区): the urban and rural neighbourhoods that organisations serve.

National policy sets a target of community social organisations per community: at least 10 in
an urban community and 5 in a rural one. The coverage report compares each against its target.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow


class CommunityKind(enum.StrEnum):
    URBAN = "urban"
    RURAL = "rural"


ORGANISATION_TARGETS: Final[dict[CommunityKind, int]] = {
    CommunityKind.URBAN: 10,
    CommunityKind.RURAL: 5,
}


class Community(UUIDPrimaryKey, Versioned, Base):
    __tablename__ = "community"
    __table_args__ = (CheckConstraint("kind IN ('urban', 'rural')", name="kind"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    district: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def organisation_target(self) -> int:
        return ORGANISATION_TARGETS[CommunityKind(self.kind)]
