"""The administrative tree as the rest of the service reads it: nodes, and what lies under them.

A node is a 12-digit division code from a loaded division list (``models/region.py``); its
subtree is every code that starts with its prefix, so the tree is walked with string tests, the
same in every list version. This module knows nothing of who asks: ``services/access.py`` asks it
which organisations a scoped staff member reaches, and the services that take a node from a
client (communities, staff scopes, funding bodies) check it here, with one message each.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from ledger.errors import ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.community import Community
from ledger.models.organisation import Organisation
from ledger.models.region import Division, DivisionLevel, DivisionList, is_division_code, subtree_prefix


def within(
    column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None], nodes: Iterable[str | None]
) -> ColumnElement[bool]:
    """SQL: ``column`` (a division code) lies in the subtree of one of ``nodes`` (None: everything)."""
    nodes = list(nodes)
    if None in nodes:
        return column.is_not(None)
    if not nodes:
        return false()
    return or_(*(column.startswith(subtree_prefix(node), autoescape=True) for node in nodes if node))


def organisation_ids_within(nodes: Iterable[str | None]) -> frozenset[uuid.UUID]:
    """The organisations whose community lies in the subtree of one of ``nodes``."""
    statement = select(Organisation.id).join(Community, Community.id == Organisation.community_id)
    return frozenset(db.session.scalars(statement.where(within(Community.code, nodes))))


def find_node(field: str, code: str, version: str | None = None) -> Division:
    """The division ``code`` names (in ``version``, else the latest list holding it), or a 422 at ``field``."""
    if not is_division_code(code):
        raise ValidationFailed.field(
            field, translatable("must be 12 ASCII digits"), code="region.code_malformed"
        )
    statement = select(Division).join(DivisionList).where(Division.code == code)
    if version is not None:
        statement = statement.where(Division.list_version == version)
    found = db.session.scalars(
        statement.order_by(DivisionList.year.desc(), DivisionList.version.desc()).limit(1)
    ).first()
    if found is None:
        raise ValidationFailed.field(
            field,
            translatable("there is no division %(code)s in the loaded division lists", code=code),
            code="region.unknown_code",
        )
    return found


def find_community_division(field: str, code: str, version: str | None = None) -> Division:
    """A community-level division (a leaf of the tree), or a 422 at ``field``."""
    division = find_node(field, code, version)
    if division.level != DivisionLevel.COMMUNITY.value:
        raise ValidationFailed.field(
            field,
            translatable("%(code)s is not a community (居委会 or 村委会) but a higher division", code=code),
            code="region.not_a_community",
        )
    return division


def path_of(code: str, version: str) -> list[Division]:
    """The divisions from the province down to ``code`` itself, as listed in ``version``."""
    path: list[Division] = []
    current: str | None = code
    while current is not None:
        division = db.session.get(Division, (version, current))
        if division is None:
            break
        path.append(division)
        current = division.parent_code
    return list(reversed(path))


def node_names(codes: Iterable[str | None]) -> dict[str | None, str]:
    """Each node's name as the latest list holding it gives it (None: the whole deployment)."""
    wanted = {c for c in codes if c is not None}
    names: dict[str | None, str] = {None: ""}
    if wanted:
        rows = db.session.execute(
            select(Division.code, Division.name)
            .join(DivisionList)
            .where(Division.code.in_(wanted))
            .order_by(DivisionList.year, DivisionList.version)
        )
        names.update({code: name for code, name in rows})
    return names
