"""An organisation's status over time: registration of a filed organisation, deregistration, and
the one definition of an *active* organisation on a date.

The history (``organisation_status_change``) is append-only; each row has the business date the
change took effect on (the filing date, the registration date, the deregistration date). An
organisation's status on a date is that of its latest change effective by then: the coverage
of a community, and anything else counting organisations on a date, counts from
``active_organisation_ids_on``.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, Subquery, func, select

from ledger.errors import Conflict, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.organisation import (
    ACTIVE_STATUSES,
    Organisation,
    OrganisationStatus,
    OrganisationStatusChange,
    RegistrationType,
)
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.organisations import (
    add_status_change,
    checked_credit_code,
    get_organisation,
    not_in_future,
)


def statuses_on(as_of: date) -> Subquery:
    """Each organisation's status on ``as_of``: columns ``organisation_id``, ``status``, ``effective_on``.

    The latest change with ``effective_on <= as_of`` (of two on the same day, the one recorded
    later). An organisation with no change by then (filed or registered later) has no row.
    """
    change = OrganisationStatusChange
    ranked = (
        select(
            change.organisation_id,
            change.status,
            change.effective_on,
            func.row_number()
            .over(
                partition_by=change.organisation_id,
                order_by=(change.effective_on.desc(), change.recorded_at.desc(), change.id.desc()),
            )
            .label("latest_first"),
        )
        .where(change.effective_on <= as_of)
        .subquery("ranked_status_changes")
    )
    return (
        select(ranked.c.organisation_id, ranked.c.status, ranked.c.effective_on)
        .where(ranked.c.latest_first == 1)
        .subquery("statuses_on")
    )


def active_organisation_ids_on(as_of: date) -> Select[tuple[uuid.UUID]]:
    """The ids of the organisations active on ``as_of``: the one definition of "active".

    An organisation is active on a date when its latest status change effective on or before
    that date is 'filed' or 'registered' (not 'deregistered', and not before it was filed or
    registered). Use it as a subquery, for example to count per community::

        active = active_organisation_ids_on(day).subquery()
        select(Organisation.community_id, func.count())
            .join(active, active.c.organisation_id == Organisation.id)
            .group_by(Organisation.community_id)

    or ``Organisation.id.in_(active_organisation_ids_on(day))``. It applies no access rule.
    """
    status = statuses_on(as_of)
    return select(status.c.organisation_id).where(status.c.status.in_([s.value for s in ACTIVE_STATUSES]))


def _latest_change(organisation: Organisation) -> OrganisationStatusChange:
    history = organisation.status_history
    assert history, "every organisation has the row written when it was entered"
    return max(history, key=lambda c: (c.effective_on, c.recorded_at))


def _not_before_latest(organisation: Organisation, day: date, field: str) -> date:
    latest = _latest_change(organisation)
    if day < latest.effective_on:
        raise ValidationFailed.field(
            field,
            translatable(
                "must not be before the organisation's last status change (%(status)s on %(date)s)",
                status=latest.status,
                date=latest.effective_on.isoformat(),
            ),
        )
    return not_in_future(day, field)


def registration_refusal(organisation: Organisation) -> Conflict | None:
    """Why ``organisation`` cannot register now (only a filed one can), or None when it can."""
    if organisation.status != OrganisationStatus.FILED.value:
        return Conflict(
            translatable("Only a filed organisation registers; this organisation is not filed."),
            errors={"status": [translatable("only a filed organisation registers")]},
            code="organisation.not_filed",
        )
    return None


def deregistration_refusal(organisation: Organisation) -> Conflict | None:
    """Why ``organisation`` cannot be deregistered now (it already is), or None when it can."""
    if organisation.status == OrganisationStatus.DEREGISTERED.value:
        return Conflict(
            translatable("The organisation is already deregistered."),
            errors={"status": [translatable("is already deregistered")]},
            code="organisation.deregistered",
        )
    return None


def register_organisation(
    actor: Actor,
    organisation_id: uuid.UUID,
    credit_code: str,
    registered_on: date,
    expected_version: int | None,
    *,
    registration_type: RegistrationType | None = None,
) -> Organisation:
    """A filed organisation registers with civil affairs: it gains its credit code (and, if given,
    its registration type); its filing details and filing row stay as its history."""
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    organisation = get_organisation(actor, organisation_id)
    check_version(organisation, expected_version)
    if (refusal := registration_refusal(organisation)) is not None:
        raise refusal
    code = checked_credit_code(credit_code, organisation.id)
    day = _not_before_latest(organisation, registered_on, "registered_on")
    organisation.credit_code = code
    if registration_type is not None:
        organisation.registration_type = registration_type.value
    add_status_change(organisation, OrganisationStatus.REGISTERED, day, credit_code=code)
    db.session.flush()
    db.session.refresh(organisation, ["status_history"])
    record_state(actor, "organisation.registered", "organisation", organisation)
    return organisation


def deregister_organisation(
    actor: Actor,
    organisation_id: uuid.UUID,
    deregistered_on: date,
    reason: str | None,
    expected_version: int | None,
) -> Organisation:
    """An organisation is deregistered (注销) or its filing withdrawn: it is no longer active from
    ``deregistered_on``. Its books, funds and history stay."""
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    organisation = get_organisation(actor, organisation_id)
    check_version(organisation, expected_version)
    if (refusal := deregistration_refusal(organisation)) is not None:
        raise refusal
    day = _not_before_latest(organisation, deregistered_on, "deregistered_on")
    add_status_change(
        organisation, OrganisationStatus.DEREGISTERED, day, reason=(reason or "").strip() or None
    )
    db.session.flush()
    db.session.refresh(organisation, ["status_history"])
    record_state(actor, "organisation.deregistered", "organisation", organisation)
    return organisation
