"""Administrative divisions (行政区划): the tree communities sit in, as versioned reference data.

The National Bureau of Statistics publishes the 12-digit 统计用区划代码 every year: the 6-digit
GB/T 2260 code (province 2, city 2, county 2 digits), then 3 digits for the township-level unit
(街道 / 镇 / 乡) and 3 for the village-level unit (居委会 / 村委会). A division's level and its
parent follow from the code alone, so they are checked on import rather than trusted. Like the
charts of accounts, a list is loaded once under a version name (``NBS-2024``) and never edited:
codes change from year to year, and a new year is a new version beside the old one.
"""

from __future__ import annotations

import enum
from typing import Final

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base
from ledger.models.community import CommunityKind


class DivisionLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    COMMUNITY = "community"


# 城乡分类代码: 1xx is urban (城镇), 2xx rural (乡村); given for village-level units only.
URBAN_RURAL_CLASSES: Final[dict[str, str]] = {
    "111": "主城区",
    "112": "城乡结合区",
    "121": "镇中心区",
    "122": "镇乡结合区",
    "123": "特殊区域",
    "210": "乡中心区",
    "220": "村庄",
}

CODE_LENGTH: Final = 12


def is_division_code(value: str) -> bool:
    """Whether ``value`` is written as a division code: 12 ASCII digits."""
    return len(value) == CODE_LENGTH and value.isascii() and value.isdigit()


def level_of(code: str) -> DivisionLevel:
    """The level a 12-digit code names: the trailing zeros say where the code stops."""
    if code[2:] == "0" * 10:
        return DivisionLevel.PROVINCE
    if code[4:] == "0" * 8:
        return DivisionLevel.CITY
    if code[6:] == "0" * 6:
        return DivisionLevel.COUNTY
    if code[9:] == "000":
        return DivisionLevel.TOWNSHIP
    return DivisionLevel.COMMUNITY


def parent_code_of(code: str) -> str | None:
    """The code of the division above: the code's own prefix padded with zeros.

    Where a level is missing in the published list the parent is the next one up that exists: a
    township of a city without counties (东莞, 441900003000) has the city (441900000000) as parent.
    """
    kept = {
        DivisionLevel.PROVINCE: 0,
        DivisionLevel.CITY: 2,
        DivisionLevel.COUNTY: 4,
        DivisionLevel.TOWNSHIP: 6,
        DivisionLevel.COMMUNITY: 9,
    }[level_of(code)]
    return code[:kept].ljust(CODE_LENGTH, "0") if kept else None


_PREFIX_LENGTHS: Final[dict[DivisionLevel, int]] = {
    DivisionLevel.PROVINCE: 2,
    DivisionLevel.CITY: 4,
    DivisionLevel.COUNTY: 6,
    DivisionLevel.TOWNSHIP: 9,
    DivisionLevel.COMMUNITY: 12,
}


def subtree_prefix(code: str) -> str:
    """The prefix every code of ``code``'s subtree starts with (``420102`` for 江岸区).

    Codes nest by prefix, so "is this community under that street?" is a string test that
    needs no walk up the tree and holds across list versions.
    """
    return code[: _PREFIX_LENGTHS[level_of(code)]]


def is_within(code: str, node: str | None) -> bool:
    """Whether ``code`` lies in the subtree of ``node`` (None: the whole deployment)."""
    return node is None or code.startswith(subtree_prefix(node))


def community_kind_of(urban_rural_class: str | None) -> CommunityKind | None:
    """The community kind a 城乡分类代码 implies; the community's own kind may still differ."""
    if urban_rural_class is None:
        return None
    return CommunityKind.URBAN if urban_rural_class.startswith("1") else CommunityKind.RURAL


class DivisionList(Base):
    """One published list of division codes: a version name, the year it describes, its source."""

    __tablename__ = "division_list"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500))
    content_sha256: Mapped[str] = mapped_column(String(64))


class Division(Base):
    """One division of a list: its code, name, parent and, for a community, its urban-rural class."""

    __tablename__ = "division"
    __table_args__ = (
        CheckConstraint(
            "level IN ('province', 'city', 'county', 'township', 'community')",
            name="level",
        ),
        CheckConstraint(
            "urban_rural_class IS NULL OR urban_rural_class IN ('111', '112', '121', '122', '123', '210', '220')",
            name="urban_rural_class",
        ),
        CheckConstraint(
            "(level = 'community') = (urban_rural_class IS NOT NULL)",
            name="class_only_for_communities",
        ),
        CheckConstraint("(level = 'province') = (parent_code IS NULL)", name="parent_unless_province"),
        ForeignKeyConstraint(["list_version", "parent_code"], ["division.list_version", "division.code"]),
        # The tree is read a level at a time: the children of one node.
        Index("ix_division_parent", "list_version", "parent_code"),
    )

    list_version: Mapped[str] = mapped_column(ForeignKey("division_list.version"), primary_key=True)
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(16))
    urban_rural_class: Mapped[str | None] = mapped_column(String(3))

    @property
    def community_kind(self) -> CommunityKind | None:
        """Urban or rural, as the urban-rural class implies (communities only)."""
        return community_kind_of(self.urban_rural_class)
