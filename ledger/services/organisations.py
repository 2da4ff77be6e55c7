"""Community social organisations: registration details checked against GB 32100-2015."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select

from ledger.credit_code import credit_code_problem, normalise
from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.community import Community
from ledger.models.organisation import Organisation, RegistrationType
from ledger.models.user import Membership
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.idempotency import Created, claim_create, reserve_key
from ledger.services.pagination import Page, PageRequest, fetch_page


@dataclass(frozen=True)
class OrganisationFields:
    name: str
    credit_code: str
    registration_type: RegistrationType
    community_id: uuid.UUID


def _checked(fields: OrganisationFields, organisation_id: uuid.UUID | None = None) -> OrganisationFields:
    name = fields.name.strip()
    if not name:
        raise ValidationFailed.field("name", translatable("must not be blank"))
    code = normalise(fields.credit_code)
    problem = credit_code_problem(code)
    if problem is not None:
        raise ValidationFailed.field("credit_code", problem.message, code="organisation.credit_code_invalid")
    if db.session.get(Community, fields.community_id) is None:
        raise ValidationFailed.field("community_id", f"there is no community {fields.community_id}")
    existing = db.session.scalar(select(Organisation.id).where(Organisation.credit_code == code))
    if existing is not None and existing != organisation_id:
        raise Conflict(
            f"An organisation with credit code {code} is registered.",
            errors={"credit_code": [translatable("is already registered")]},
        )
    return OrganisationFields(name, code, fields.registration_type, fields.community_id)


def create_organisation(actor: Actor, fields: OrganisationFields, key: str | None) -> Created[Organisation]:
    """Register an organisation (admins); idempotent by ``key`` (Idempotency-Key)."""
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    claim = claim_create(key, "organisation", vars(fields))
    reservation = reserve_key(actor.audit_identity["id"], claim, "organisation", Organisation)
    if reservation.earlier is not None:
        return Created(reservation.earlier, created=False)
    fields = _checked(fields)
    organisation = Organisation(
        id=reservation.id,
        name=fields.name,
        credit_code=fields.credit_code,
        registration_type=fields.registration_type.value,
        community_id=fields.community_id,
    )
    db.session.add(organisation)
    db.session.flush()
    record_state(actor, "organisation.created", "organisation", organisation)
    return Created(organisation, created=True)


def get_organisation(actor: Actor, organisation_id: uuid.UUID) -> Organisation:
    authorize(actor, Permission.READ_ORGANISATIONS, organisation_id)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound.thing("organisation", organisation_id)
    return organisation


def list_organisations(
    actor: Actor, request: PageRequest, *, community_id: uuid.UUID | None = None
) -> Page[Organisation]:
    authorize(actor, Permission.READ_ORGANISATIONS)
    statement = select(Organisation).order_by(Organisation.name, Organisation.id)
    visible = visible_organisation_ids(actor)
    if visible is not None:
        statement = statement.where(Organisation.id.in_(visible))
    if community_id is not None:
        statement = statement.where(Organisation.community_id == community_id)
    return fetch_page(statement, request)


def update_organisation(
    actor: Actor, organisation_id: uuid.UUID, changes: Mapping[str, Any], expected_version: int | None
) -> Organisation:
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    organisation = get_organisation(actor, organisation_id)
    check_version(organisation, expected_version)
    current = OrganisationFields(
        name=organisation.name,
        credit_code=organisation.credit_code,
        registration_type=RegistrationType(organisation.registration_type),
        community_id=organisation.community_id,
    )
    fields = _checked(replace(current, **changes), organisation.id)
    organisation.name = fields.name
    organisation.credit_code = fields.credit_code
    organisation.registration_type = fields.registration_type.value
    organisation.community_id = fields.community_id
    db.session.flush()
    record_state(actor, "organisation.updated", "organisation", organisation)
    return organisation


def delete_organisation(actor: Actor, organisation_id: uuid.UUID, expected_version: int | None) -> None:
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    organisation = get_organisation(actor, organisation_id)
    check_version(organisation, expected_version)
    members = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.organisation_id == organisation.id)
    )
    if members:
        raise Conflict(f"The organisation has {members} member(s); remove their memberships first.")
    db.session.delete(organisation)
    db.session.flush()
    record_state(actor, "organisation.deleted", "organisation", organisation, removed=True)


def find_organisation_by_credit_code(credit_code: str) -> Organisation:
    code = normalise(credit_code)
    organisation = db.session.scalar(select(Organisation).where(Organisation.credit_code == code))
    if organisation is None:
        raise NotFound.thing("organisation with credit code", code)
    return organisation
