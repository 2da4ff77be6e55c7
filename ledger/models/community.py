"""Communities (社区): the urban and rural neighbourhoods that organisations serve.

A community is a leaf of the administrative tree: its ``code`` is the 12-digit division code of
a community-level division (居委会 / 村委会) in a loaded division list, so everything above it
(street, district, city, province) follows from the code. National policy sets a target of
community social organisations per community: at least 10 in an urban community and 5 in a
rural one. The kind defaults from the division's urban-rural class and may be changed, because
the target is about 城市社区 / 农村社区, which the statistical class only approximates.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, String
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
    __table_args__ = (
        CheckConstraint("kind IN ('urban', 'rural')", name="kind"),
        ForeignKeyConstraint(["division_list", "code"], ["division.list_version", "division.code"]),
    )

    # The community's 12-digit division code, in the list ``division_list``. (The column is as
    # wide as the free-text codes it held before communities were placed in the tree.)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    division_list: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # The free-text code the community had before communities were placed in the tree.
    former_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def organisation_target(self) -> int:
        return ORGANISATION_TARGETS[CommunityKind(self.kind)]
