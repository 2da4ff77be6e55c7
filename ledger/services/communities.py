"""Communities, the leaves of the administrative tree (their coverage by organisations: ``coverage.py``).

A community is created from a community-level division of a loaded list: its name and kind
default from the division (the kind from its urban-rural class) and both may be changed. Moving
a community to another code (a community placed in the tree by the migration, or a code that
changed in a newer list) keeps its organisations and history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, or_, select

from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.community import Community, CommunityKind
from ledger.models.organisation import Organisation
from ledger.models.user import Role
from ledger.services import tree
from ledger.services.access import Actor, Permission, authorize, authorize_at
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.idempotency import Created, claim_create, reserve_key
from ledger.services.pagination import Page, PageRequest, fetch_page
from ledger.services.tree import find_community_division


@dataclass(frozen=True)
class CommunityFields:
    """What a client sends: the code, and optionally the list, name and kind (else the division's)."""

    code: str
    name: str | None = None
    kind: CommunityKind | None = None
    division_list: str | None = None


def _check_code_free(code: str, community_id: uuid.UUID | None = None) -> None:
    existing = db.session.scalar(select(Community.id).where(Community.code == code))
    if existing is not None and existing != community_id:
        raise Conflict(
            translatable("A community with code '%(code)s' exists.", code=code),
            errors={"code": [translatable("is taken")]},
        )


@dataclass(frozen=True)
class _Placed:
    """A community's fields once its division is found and the defaults are filled in."""

    code: str
    division_list: str
    name: str
    kind: CommunityKind


def _placed(actor: Actor, fields: CommunityFields) -> _Placed:
    division = find_community_division("code", fields.code.strip(), fields.division_list)
    authorize_at(actor, Permission.MANAGE_COMMUNITIES, division.code)
    name = division.name if fields.name is None else fields.name.strip()
    if not name:
        raise ValidationFailed.field("name", translatable("must not be blank"))
    kind = fields.kind or division.community_kind or CommunityKind.URBAN
    return _Placed(division.code, division.list_version, name, kind)


def create_community(actor: Actor, fields: CommunityFields, key: str | None) -> Created[Community]:
    """Create a community at a leaf of the tree (admins of a node above it); idempotent by ``key``."""
    authorize(actor, Permission.MANAGE_COMMUNITIES)
    claim = claim_create(key, "community", vars(fields))
    reservation = reserve_key(actor.audit_identity["id"], claim, "community", Community)
    if reservation.earlier is not None:
        return Created(reservation.earlier, created=False)
    placed = _placed(actor, fields)
    _check_code_free(placed.code)
    community = Community(
        id=reservation.id,
        code=placed.code,
        division_list=placed.division_list,
        name=placed.name,
        kind=placed.kind.value,
    )
    db.session.add(community)
    db.session.flush()
    record_state(actor, "community.created", "community", community)
    return Created(community, created=True)


def get_community(actor: Actor, community_id: uuid.UUID) -> Community:
    authorize(actor, Permission.READ_COMMUNITIES)
    community = db.session.get(Community, community_id)
    if community is None or not _visible(actor, community):
        raise NotFound.thing("community", community_id)
    return community


def community_with_code(actor: Actor, code: str) -> Community | None:
    """The community with division code ``code`` in ``actor``'s area, or None (another area's is
    as good as none)."""
    community = db.session.scalar(select(Community).where(Community.code == code))
    return community if community is not None and actor.covers(community.code) else None


def _visible(actor: Actor, community: Community) -> bool:
    """Staff see the communities of their area; a member sees every community (they are public)."""
    return actor.role is Role.ORG_MEMBER or actor.covers(community.code)


def list_communities(
    actor: Actor,
    request: PageRequest,
    *,
    within: str | None = None,
    kind: CommunityKind | None = None,
    search: str | None = None,
) -> Page[Community]:
    """Communities in code order (so a street's sit together), in the actor's area, under ``within``.

    ``search`` keeps those whose name contains it or whose code starts with it.
    """
    authorize(actor, Permission.READ_COMMUNITIES)
    statement = select(Community).order_by(Community.code)
    if actor.role is not Role.ORG_MEMBER:
        statement = statement.where(tree.within(Community.code, actor.scopes))
    if within is not None:
        tree.find_node("within", within)
        statement = statement.where(tree.within(Community.code, [within]))
    if kind is not None:
        statement = statement.where(Community.kind == kind.value)
    if search:
        statement = statement.where(
            or_(
                Community.name.icontains(search, autoescape=True),
                Community.code.startswith(search, autoescape=True),
            )
        )
    return fetch_page(statement, request)


def update_community(
    actor: Actor, community_id: uuid.UUID, changes: Mapping[str, Any], expected_version: int | None
) -> Community:
    authorize(actor, Permission.MANAGE_COMMUNITIES)
    community = get_community(actor, community_id)
    authorize_at(actor, Permission.MANAGE_COMMUNITIES, community.code)
    check_version(community, expected_version)
    moved = "code" in changes or "division_list" in changes
    current = CommunityFields(
        code=community.code,
        name=community.name,
        kind=CommunityKind(community.kind),
        division_list=None if moved else community.division_list,
    )
    placed = _placed(actor, replace(current, **changes))
    _check_code_free(placed.code, community.id)
    community.code = placed.code
    community.division_list = placed.division_list
    community.name = placed.name
    community.kind = placed.kind.value
    db.session.flush()
    record_state(actor, "community.updated", "community", community)
    return community


def delete_community(actor: Actor, community_id: uuid.UUID, expected_version: int | None) -> None:
    authorize(actor, Permission.MANAGE_COMMUNITIES)
    community = get_community(actor, community_id)
    authorize_at(actor, Permission.MANAGE_COMMUNITIES, community.code)
    check_version(community, expected_version)
    in_use = db.session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.community_id == community.id)
    )
    if in_use:
        raise Conflict(
            translatable(
                "The community has %(count)s organisation(s); move or remove them first.", count=in_use
            ),
            code="community.in_use",
        )
    db.session.delete(community)
    db.session.flush()
    record_state(actor, "community.deleted", "community", community, removed=True)
