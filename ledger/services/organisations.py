"""Community social organisations: registered ones (credit code checked against GB 32100-2015)
and filed (备案) ones (filing number, issuing street office or township, filing date, category).

Status changes after creation (registration of a filed organisation, deregistration) and the
one definition of an active organisation are in ``services/organisation_status.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from ledger.business_dates import business_today
from ledger.credit_code import credit_code_problem, normalise
from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.community import Community
from ledger.models.organisation import (
    FilingCategory,
    Organisation,
    OrganisationStatus,
    OrganisationStatusChange,
    RegistrationType,
)
from ledger.models.region import Division, DivisionLevel, is_division_code, is_within
from ledger.models.user import Membership
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.idempotency import Created, claim_create, reserve_key
from ledger.services.pagination import Page, PageRequest, fetch_page

FILING_FIELDS = ("filing_number", "filing_office_code", "filed_on", "filing_category")


@dataclass(frozen=True)
class OrganisationFields:
    """A new organisation: registered (credit code, registration type, registration date) or filed
    (filing number, office, date, category; no credit code)."""

    name: str
    credit_code: str | None = None
    registration_type: RegistrationType | None = None
    community_id: uuid.UUID | None = None
    status: OrganisationStatus = OrganisationStatus.REGISTERED
    registered_on: date | None = None  # defaults to today
    filing_number: str | None = None
    filing_office_code: str | None = None
    filed_on: date | None = None
    filing_category: FilingCategory | None = None
    money_held_by: str | None = None


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", translatable("must not be blank"))
    return name


def _checked_community(actor: Actor, community_id: uuid.UUID | None) -> Community:
    """The organisation's community: one of the admin's area (another area's is as good as none)."""
    if community_id is None:
        raise ValidationFailed.field("community_id", translatable("is required"))
    community = db.session.get(Community, community_id)
    if community is None or not actor.covers(community.code):
        raise ValidationFailed.field(
            "community_id", translatable("there is no community %(id)s", id=str(community_id))
        )
    return community


def _held_by(text: str | None) -> str | None:
    return (text or "").strip() or None


def not_in_future(day: date, field: str) -> date:
    """``day``, a business date that has happened (filing, registration, deregistration)."""
    if day > business_today():
        raise ValidationFailed.field(field, translatable("must not be in the future"))
    return day


def checked_credit_code(credit_code: str | None, organisation_id: uuid.UUID | None = None) -> str:
    """The normalised code, once it is valid and no other organisation has it (409 if one does)."""
    if credit_code is None or not credit_code.strip():
        raise ValidationFailed.field("credit_code", translatable("is required for a registered organisation"))
    code = normalise(credit_code)
    problem = credit_code_problem(code)
    if problem is not None:
        raise ValidationFailed.field("credit_code", problem.message, code="organisation.credit_code_invalid")
    existing = db.session.scalar(select(Organisation.id).where(Organisation.credit_code == code))
    if existing is not None and existing != organisation_id:
        raise Conflict(
            translatable("An organisation with credit code %(code)s is registered.", code=code),
            errors={"credit_code": [translatable("is already registered")]},
        )
    return code


def _checked_office(code: str, community: Community) -> str:
    """A township-level division (街道 / 乡镇) in any loaded division list, above the community."""
    code = code.strip()
    if not is_division_code(code):
        raise ValidationFailed.field("filing_office_code", translatable("must be 12 ASCII digits"))
    township = db.session.scalar(
        select(Division.code)
        .where(Division.code == code, Division.level == DivisionLevel.TOWNSHIP.value)
        .limit(1)
    )
    if township is None:
        raise ValidationFailed.field(
            "filing_office_code",
            translatable("is not a street or township (街道/乡镇) in any loaded division list"),
            code="organisation.filing_office_unknown",
        )
    if not is_within(community.code, code):
        raise ValidationFailed.field(
            "filing_office_code",
            translatable("the organisation's community is not in this office's area"),
            code="organisation.filing_office_elsewhere",
        )
    return code


def _checked_filing_number(number: str | None, office: str, organisation_id: uuid.UUID | None) -> str:
    number = (number or "").strip()
    if not number:
        raise ValidationFailed.field("filing_number", translatable("is required for a filed organisation"))
    existing = db.session.scalar(
        select(Organisation.id).where(
            Organisation.filing_office_code == office, Organisation.filing_number == number
        )
    )
    if existing is not None and existing != organisation_id:
        raise Conflict(
            translatable(
                "An organisation with filing number %(number)s is filed with office %(office)s.",
                number=number,
                office=office,
            ),
            errors={"filing_number": [translatable("is already filed with this office")]},
            code="organisation.filing_number_taken",
        )
    return number


def _required_for_filed(value: Any, field: str) -> Any:
    if value is None:
        raise ValidationFailed.field(field, translatable("is required for a filed organisation"))
    return value


def _refuse_given(fields: OrganisationFields, names: tuple[str, ...], message: str) -> None:
    for name in names:
        value = getattr(fields, name)
        if value is not None and (not isinstance(value, str) or value.strip()):
            raise ValidationFailed.field(name, translatable(message))


def _new_organisation(actor: Actor, fields: OrganisationFields, organisation_id: uuid.UUID) -> Organisation:
    """The checked organisation, not yet added; refusals name the field (422) or the taken value (409)."""
    community = _checked_community(actor, fields.community_id)
    organisation = Organisation(
        id=organisation_id,
        name=_checked_name(fields.name),
        community_id=community.id,
        money_held_by=_held_by(fields.money_held_by),
        status=fields.status.value,
    )
    if fields.status is OrganisationStatus.FILED:
        _refuse_given(
            fields,
            ("credit_code", "registered_on"),
            "a filed organisation has none; register it to add one",
        )
        office = _checked_office(
            _required_for_filed(fields.filing_office_code, "filing_office_code"), community
        )
        organisation.filing_office_code = office
        organisation.filing_number = _checked_filing_number(fields.filing_number, office, None)
        organisation.filed_on = not_in_future(_required_for_filed(fields.filed_on, "filed_on"), "filed_on")
        organisation.filing_category = _required_for_filed(fields.filing_category, "filing_category").value
        organisation.registration_type = (fields.registration_type or RegistrationType.OTHER).value
    elif fields.status is OrganisationStatus.REGISTERED:
        _refuse_given(fields, FILING_FIELDS, "only a filed organisation has one")
        organisation.credit_code = checked_credit_code(fields.credit_code)
        if fields.registration_type is None:
            raise ValidationFailed.field(
                "registration_type", translatable("is required for a registered organisation")
            )
        organisation.registration_type = fields.registration_type.value
    else:
        raise ValidationFailed.field("status", translatable("a new organisation is filed or registered"))
    return organisation


def add_status_change(
    organisation: Organisation,
    status: OrganisationStatus,
    effective_on: date,
    *,
    credit_code: str | None = None,
    reason: str | None = None,
) -> OrganisationStatusChange:
    """Set the organisation's status and add the row saying so to its history (never changed)."""
    organisation.status = status.value
    change = OrganisationStatusChange(
        organisation_id=organisation.id,
        status=status.value,
        effective_on=effective_on,
        credit_code=credit_code,
        reason=reason,
    )
    db.session.add(change)
    return change


def create_organisation(actor: Actor, fields: OrganisationFields, key: str | None) -> Created[Organisation]:
    """Enter an organisation, registered or filed (admins); idempotent by ``key`` (Idempotency-Key)."""
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    claim = claim_create(key, "organisation", vars(fields))
    reservation = reserve_key(actor.audit_identity["id"], claim, "organisation", Organisation)
    if reservation.earlier is not None:
        return Created(reservation.earlier, created=False)
    organisation = _new_organisation(actor, fields, reservation.id)
    if fields.status is OrganisationStatus.FILED:
        assert organisation.filed_on is not None  # checked above
        effective_on = organisation.filed_on
    else:
        effective_on = not_in_future(fields.registered_on or business_today(), "registered_on")
    db.session.add(organisation)
    db.session.flush()  # the history row refers to it
    add_status_change(
        organisation,
        OrganisationStatus(organisation.status),
        effective_on,
        credit_code=organisation.credit_code,
    )
    db.session.flush()
    db.session.refresh(organisation, ["status_history"])
    record_state(actor, "organisation.created", "organisation", organisation)
    return Created(organisation, created=True)


def get_organisation(actor: Actor, organisation_id: uuid.UUID) -> Organisation:
    authorize(actor, Permission.READ_ORGANISATIONS, organisation_id)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound.thing("organisation", organisation_id)
    return organisation


def list_organisations(
    actor: Actor,
    request: PageRequest,
    *,
    community_id: uuid.UUID | None = None,
    status: OrganisationStatus | None = None,
    search: str | None = None,
) -> Page[Organisation]:
    """Organisations by name; ``search`` keeps those whose name, credit code or filing number contains it."""
    authorize(actor, Permission.READ_ORGANISATIONS)
    statement = select(Organisation).order_by(Organisation.name, Organisation.id)
    visible = visible_organisation_ids(actor)
    if visible is not None:
        statement = statement.where(Organisation.id.in_(visible))
    if community_id is not None:
        statement = statement.where(Organisation.community_id == community_id)
    if status is not None:
        statement = statement.where(Organisation.status == status.value)
    if search:
        statement = statement.where(
            or_(
                Organisation.name.icontains(search, autoescape=True),
                Organisation.credit_code.icontains(search, autoescape=True),
                Organisation.filing_number.icontains(search, autoescape=True),
            )
        )
    return fetch_page(statement, request)


def update_organisation(
    actor: Actor, organisation_id: uuid.UUID, changes: Mapping[str, Any], expected_version: int | None
) -> Organisation:
    """Correct an organisation's details; its status changes only by registration or deregistration.

    A credit code is corrected only where there is one (a filed organisation gets one by
    registering), filing details only where there is a filing (kept after registration).
    """
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    organisation = get_organisation(actor, organisation_id)
    check_version(organisation, expected_version)
    if "name" in changes:
        organisation.name = _checked_name(changes["name"])
    if "community_id" in changes:
        organisation.community_id = _checked_community(actor, changes["community_id"]).id
    if "registration_type" in changes:
        organisation.registration_type = RegistrationType(changes["registration_type"]).value
    if "money_held_by" in changes:
        organisation.money_held_by = _held_by(changes["money_held_by"])
    if "credit_code" in changes:
        if organisation.credit_code is None:
            raise ValidationFailed.field(
                "credit_code", translatable("a filed organisation has none; register it to add one")
            )
        organisation.credit_code = checked_credit_code(changes["credit_code"], organisation.id)
    filing = {
        name: changes[name]
        for name in ("filing_number", "filing_office_code", "filing_category")
        if name in changes
    }
    if filing:
        if organisation.filing_number is None:
            raise ValidationFailed.field(
                next(iter(filing)), translatable("only a filed organisation has one")
            )
        if "filing_office_code" in filing:
            organisation.filing_office_code = _checked_office(
                _required_for_filed(filing["filing_office_code"], "filing_office_code"),
                _checked_community(actor, organisation.community_id),
            )
        assert organisation.filing_office_code is not None
        organisation.filing_number = _checked_filing_number(
            filing.get("filing_number", organisation.filing_number),
            organisation.filing_office_code,
            organisation.id,
        )
        if "filing_category" in filing:
            organisation.filing_category = FilingCategory(
                _required_for_filed(filing["filing_category"], "filing_category")
            ).value
    db.session.flush()
    record_state(actor, "organisation.updated", "organisation", organisation)
    return organisation


def delete_organisation(actor: Actor, organisation_id: uuid.UUID, expected_version: int | None) -> None:
    """Remove an organisation entered by mistake (no members), and its status history with it."""
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    organisation = get_organisation(actor, organisation_id)
    check_version(organisation, expected_version)
    members = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.organisation_id == organisation.id)
    )
    if members:
        raise Conflict(
            translatable(
                "The organisation has %(count)s member(s); remove their memberships first.", count=members
            ),
            code="organisation.has_members",
        )
    history = list(organisation.status_history)
    db.session.delete(organisation)
    db.session.flush()
    # Only now: the database refuses to remove the history of an organisation that still exists.
    for change in history:
        db.session.delete(change)
    db.session.flush()
    record_state(actor, "organisation.deleted", "organisation", organisation, removed=True)


def find_organisation_by_credit_code(credit_code: str) -> Organisation:
    code = normalise(credit_code)
    organisation = db.session.scalar(select(Organisation).where(Organisation.credit_code == code))
    if organisation is None:
        raise NotFound.thing("organisation with credit code", code)
    return organisation


def filing_figures(organisation: Organisation) -> dict[str, str | None]:
    """How statements and exports name an organisation that has no credit code: by its filing
    (备案编号, the street office or township it is filed with, and that office's name)."""
    office_name = None
    if organisation.filing_office_code is not None:
        office_name = db.session.scalar(
            select(Division.name)
            .where(Division.code == organisation.filing_office_code)
            .order_by(Division.list_version.desc())
            .limit(1)
        )
    return {
        "filing_number": organisation.filing_number,
        "filing_office_code": organisation.filing_office_code,
        "filing_office": office_name,
        "filed_on": organisation.filed_on.isoformat() if organisation.filed_on else None,
    }


def organisation_with_code(actor: Actor, code: str) -> Organisation | None:
    """The organisation ``actor`` reaches whose Unified Social Credit Code, or else filing number
    (a filed organisation may have no credit code), is ``code``; None when there is none there."""
    wanted = code.strip()
    found = db.session.scalars(
        select(Organisation).where(
            or_(Organisation.credit_code == normalise(wanted), Organisation.filing_number == wanted)
        )
    ).all()
    visible = visible_organisation_ids(actor)
    reached = [o for o in found if visible is None or o.id in visible]
    return reached[0] if len(reached) == 1 else None
