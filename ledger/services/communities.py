"""Communities, and how well each is covered by community social organisations."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select

from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.community import ORGANISATION_TARGETS, Community, CommunityKind
from ledger.models.organisation import Organisation
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.idempotency import Created, claim_create, reserve_key
from ledger.services.pagination import Page, PageRequest, fetch_page


@dataclass(frozen=True)
class CommunityFields:
    code: str
    name: str
    kind: CommunityKind
    district: str


@dataclass(frozen=True)
class CommunityCoverage:
    community: Community
    organisation_count: int

    @property
    def target(self) -> int:
        return ORGANISATION_TARGETS[CommunityKind(self.community.kind)]

    @property
    def meets_target(self) -> bool:
        return self.organisation_count >= self.target


def _check_code_free(code: str, community_id: uuid.UUID | None = None) -> None:
    existing = db.session.scalar(select(Community.id).where(Community.code == code))
    if existing is not None and existing != community_id:
        raise Conflict(f"A community with code {code!r} exists.", errors={"code": [translatable("is taken")]})


def _clean(fields: CommunityFields) -> CommunityFields:
    cleaned = CommunityFields(
        code=fields.code.strip(),
        name=fields.name.strip(),
        kind=fields.kind,
        district=fields.district.strip(),
    )
    for name in ("code", "name", "district"):
        if not getattr(cleaned, name):
            raise ValidationFailed.field(name, translatable("must not be blank"))
    return cleaned


def create_community(actor: Actor, fields: CommunityFields, key: str | None) -> Created[Community]:
    """Create a community (admins); idempotent by ``key`` (Idempotency-Key)."""
    authorize(actor, Permission.MANAGE_COMMUNITIES)
    claim = claim_create(key, "community", vars(fields))
    reservation = reserve_key(actor.audit_identity["id"], claim, "community", Community)
    if reservation.earlier is not None:
        return Created(reservation.earlier, created=False)
    fields = _clean(fields)
    _check_code_free(fields.code)
    community = Community(
        id=reservation.id,
        code=fields.code,
        name=fields.name,
        kind=fields.kind.value,
        district=fields.district,
    )
    db.session.add(community)
    db.session.flush()
    record_state(actor, "community.created", "community", community)
    return Created(community, created=True)


def get_community(actor: Actor, community_id: uuid.UUID) -> Community:
    authorize(actor, Permission.READ_COMMUNITIES)
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound.thing("community", community_id)
    return community


def list_communities(
    actor: Actor, request: PageRequest, *, district: str | None = None, kind: CommunityKind | None = None
) -> Page[Community]:
    authorize(actor, Permission.READ_COMMUNITIES)
    statement = select(Community).order_by(Community.district, Community.code)
    if district is not None:
        statement = statement.where(Community.district == district)
    if kind is not None:
        statement = statement.where(Community.kind == kind.value)
    return fetch_page(statement, request)


def update_community(
    actor: Actor, community_id: uuid.UUID, changes: Mapping[str, Any], expected_version: int | None
) -> Community:
    authorize(actor, Permission.MANAGE_COMMUNITIES)
    community = get_community(actor, community_id)
    check_version(community, expected_version)
    current = CommunityFields(
        code=community.code,
        name=community.name,
        kind=CommunityKind(community.kind),
        district=community.district,
    )
    fields = _clean(replace(current, **changes))
    _check_code_free(fields.code, community.id)
    community.code = fields.code
    community.name = fields.name
    community.kind = fields.kind.value
    community.district = fields.district
    db.session.flush()
    record_state(actor, "community.updated", "community", community)
    return community


def delete_community(actor: Actor, community_id: uuid.UUID, expected_version: int | None) -> None:
    authorize(actor, Permission.MANAGE_COMMUNITIES)
    community = get_community(actor, community_id)
    check_version(community, expected_version)
    in_use = db.session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.community_id == community.id)
    )
    if in_use:
        raise Conflict(f"The community has {in_use} organisation(s); move or remove them first.")
    db.session.delete(community)
    db.session.flush()
    record_state(actor, "community.deleted", "community", community, removed=True)


def community_coverage(actor: Actor, request: PageRequest) -> Page[CommunityCoverage]:
    """Each community with its number of organisations, against its 10 (urban) / 5 (rural) target."""
    authorize(actor, Permission.READ_COMMUNITIES)
    counts = (
        select(Organisation.community_id, func.count().label("n"))
        .group_by(Organisation.community_id)
        .subquery()
    )
    statement = (
        select(Community, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.community_id == Community.id)
        .order_by(Community.district, Community.code)
    )
    total = db.session.scalar(select(func.count()).select_from(Community)) or 0
    rows = db.session.execute(statement.limit(request.page_size).offset(request.offset)).all()
    return Page(items=[CommunityCoverage(c, int(n)) for c, n in rows], total=total)
