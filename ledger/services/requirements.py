"""What is due, by when, who acts, and the state of each: the one definition the API, the pages,
the queues and the reminders use.

A requirement is open until it is done or withdrawn. On a given day an open one is *overdue*
once its due date has passed, *due* from ``DUE_WITHIN`` before its due date, and *upcoming*
before that (``state_of``; ``state_clause`` is the same rule as SQL, for lists and counts).
Officers of the organisation's area add requirements, change their due date or who is
responsible, withdraw them (a status, never a delete) and mark any of them done with a note; a
member marks done only their organisation's annual report (年报), which nothing in the system
files. Everything else becomes done when the matching thing is filed
(``services/requirement_filing.py``).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.disbursement import Tranche
from ledger.models.fund import Fund, FundKind
from ledger.models.organisation import Organisation
from ledger.models.requirement import Requirement, RequirementKind, ResponsibleRole
from ledger.models.user import Role, User
from ledger.services.access import Actor, Permission, authorize, may, visible_organisation_ids
from ledger.services.audit_subjects import record_state
from ledger.services.concurrency import check_version
from ledger.services.pagination import Page, PageRequest, fetch_page
from ledger.services.requirement_filing import (
    ANNUAL_REPORT_DUE,
    LOTTERY_DUE,
    RESPONSIBLE_BY_KIND,
    default_title,
    mark_done,
    year_due,
)

# An open requirement is "due" from this long before its due date.
DUE_WITHIN = timedelta(days=30)


class RequirementState(enum.StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    WITHDRAWN = "withdrawn"


# The order lists show states in: what needs doing first.
STATE_ORDER = (
    RequirementState.OVERDUE,
    RequirementState.DUE,
    RequirementState.UPCOMING,
    RequirementState.DONE,
    RequirementState.WITHDRAWN,
)


def state_of(requirement: Requirement, day: date) -> RequirementState:
    """The state of ``requirement`` on ``day`` (a business date in China)."""
    if requirement.withdrawn_at is not None:
        return RequirementState.WITHDRAWN
    if requirement.done_at is not None:
        return RequirementState.DONE
    if requirement.due_on < day:
        return RequirementState.OVERDUE
    if requirement.due_on <= day + DUE_WITHIN:
        return RequirementState.DUE
    return RequirementState.UPCOMING


def state_clause(state: RequirementState, day: date) -> ColumnElement[bool]:
    """``state_of(r, day) == state`` as SQL: the same thresholds, for lists and counts."""
    still_open = and_(Requirement.withdrawn_at.is_(None), Requirement.done_at.is_(None))
    if state is RequirementState.WITHDRAWN:
        return Requirement.withdrawn_at.is_not(None)
    if state is RequirementState.DONE:
        return and_(Requirement.withdrawn_at.is_(None), Requirement.done_at.is_not(None))
    if state is RequirementState.OVERDUE:
        return and_(still_open, Requirement.due_on < day)
    if state is RequirementState.DUE:
        return and_(still_open, Requirement.due_on >= day, Requirement.due_on <= day + DUE_WITHIN)
    return and_(still_open, Requirement.due_on > day + DUE_WITHIN)


def _state_rank(day: date) -> ColumnElement[int]:
    return case(
        *((state_clause(state, day), rank) for rank, state in enumerate(STATE_ORDER)),
        else_=len(STATE_ORDER),
    )


@dataclass(frozen=True)
class Stated:
    """A requirement and its state on the day it was read."""

    requirement: Requirement
    state: RequirementState


# Reading ----------------------------------------------------------------------------------------


def _readable_organisation(actor: Actor, organisation_id: uuid.UUID) -> bool:
    return may(actor, Permission.READ_FUNDS, organisation_id)


def _fund(actor: Actor, fund_id: uuid.UUID) -> Fund:
    """The fund, or 404 when it is missing or another organisation's (they look alike)."""
    authorize(actor, Permission.READ_FUNDS)
    fund = db.session.get(Fund, fund_id)
    if fund is None or not _readable_organisation(actor, fund.organisation_id):
        raise NotFound.thing("fund", fund_id)
    return fund


def get_requirement(actor: Actor, requirement_id: uuid.UUID) -> Requirement:
    """A requirement ``actor`` may read; one of another organisation is not found, as a missing one."""
    authorize(actor, Permission.READ_FUNDS)
    requirement = db.session.get(Requirement, requirement_id)
    if requirement is None or not _readable_organisation(actor, requirement.organisation_id):
        raise NotFound.thing("requirement", requirement_id)
    return requirement


def fund_requirements(actor: Actor, fund_id: uuid.UUID, request: PageRequest) -> Page[Requirement]:
    """The fund's requirements and its organisation's annual reports, by due date."""
    fund = _fund(actor, fund_id)
    statement = (
        select(Requirement)
        .where(
            or_(
                Requirement.fund_id == fund.id,
                and_(Requirement.fund_id.is_(None), Requirement.organisation_id == fund.organisation_id),
            )
        )
        .order_by(Requirement.due_on, Requirement.id)
    )
    return fetch_page(statement, request)


def list_requirements(
    actor: Actor, day: date, request: PageRequest, *, state: RequirementState | None = None
) -> Page[Requirement]:
    """The requirements ``actor`` may see (optionally in one state on ``day``): what needs doing first."""
    authorize(actor, Permission.READ_FUNDS)
    statement = select(Requirement).order_by(_state_rank(day), Requirement.due_on, Requirement.id)
    visible = visible_organisation_ids(actor)
    if visible is not None:
        statement = statement.where(Requirement.organisation_id.in_(visible))
    if state is not None:
        statement = statement.where(state_clause(state, day))
    return fetch_page(statement, request)


def _for_person(actor: Actor, day: date) -> ColumnElement[bool]:
    """The requirements ``actor`` answers for: their side's, unassigned or assigned to them.

    An officer also follows up a member's overdue item (they may mark it done with a note).
    """
    mine = or_(Requirement.responsible_user_id.is_(None), Requirement.responsible_user_id == actor.user_id)
    if actor.role is Role.ORG_MEMBER:
        return and_(Requirement.responsible_role == ResponsibleRole.MEMBER.value, mine)
    return or_(
        and_(Requirement.responsible_role == ResponsibleRole.OFFICER.value, mine),
        state_clause(RequirementState.OVERDUE, day),
    )


@dataclass(frozen=True)
class PersonsRequirements:
    """What waits for a person on a day: overdue first, then due, with counts."""

    items: list[Stated]
    overdue: int
    due: int


def requirements_for(actor: Actor, day: date, limit: int = 20) -> PersonsRequirements:
    """The due and overdue requirements ``actor`` is responsible for or may act on (home pages)."""
    if actor.role not in (Role.ORG_MEMBER, Role.FINANCE_OFFICER):
        return PersonsRequirements([], 0, 0)
    authorize(actor, Permission.MARK_REQUIREMENTS_DONE)
    waiting = and_(
        _for_person(actor, day),
        or_(state_clause(RequirementState.OVERDUE, day), state_clause(RequirementState.DUE, day)),
    )
    visible = visible_organisation_ids(actor)
    if visible is not None:
        waiting = and_(waiting, Requirement.organisation_id.in_(visible))
    # Both counts in one query: the home pages are read often.
    late = state_clause(RequirementState.OVERDUE, day)
    overdue, total = db.session.execute(
        select(func.coalesce(func.sum(case((late, 1), else_=0)), 0), func.count())
        .select_from(Requirement)
        .where(waiting)
    ).one()
    rows = db.session.scalars(
        select(Requirement).where(waiting).order_by(Requirement.due_on, Requirement.id).limit(limit)
    )
    return PersonsRequirements(
        [Stated(r, state_of(r, day)) for r in rows],
        overdue=int(overdue),
        due=int(total) - int(overdue),
    )


def requirements_needing_reminder(today: date) -> list[tuple[Requirement, RequirementState]]:
    """Every open requirement due or overdue on ``today``, overdue first: what reminders are about.

    No access check: for the reminder job, which decides whom to tell (``responsible_role`` and
    ``responsible_user_id``, the organisation's members or its area's officers).
    """
    waiting = or_(state_clause(RequirementState.OVERDUE, today), state_clause(RequirementState.DUE, today))
    rows = db.session.scalars(select(Requirement).where(waiting).order_by(Requirement.due_on, Requirement.id))
    return [(r, state_of(r, today)) for r in rows]


# Changing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementInput:
    """What an officer writes when adding a requirement (loaded by ``inputs/requirements.py``)."""

    kind: RequirementKind
    due_on: date | None = None
    title: str | None = None
    covers_year: int | None = None
    tranche_id: uuid.UUID | None = None
    responsible_role: ResponsibleRole | None = None
    responsible_user_id: uuid.UUID | None = None


def _responsible_problem(organisation_id: uuid.UUID, role: ResponsibleRole, user_id: uuid.UUID) -> str | None:
    """Why ``user_id`` cannot answer for a ``role``-side requirement of the organisation, or None."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return translatable("there is no active user %(id)s", id=str(user_id))
    person = Actor.of(user)
    if role is ResponsibleRole.MEMBER:
        if person.role is not Role.ORG_MEMBER or organisation_id not in person.organisation_ids:
            return translatable("must be a member of the organisation")
    elif not may(person, Permission.MANAGE_REQUIREMENTS, organisation_id):
        return translatable("must be a finance officer of the organisation's area")
    return None


def _officer_of(actor: Actor, organisation_id: uuid.UUID) -> None:
    authorize(actor, Permission.MANAGE_REQUIREMENTS, organisation_id)


def add_requirement(actor: Actor, fund_id: uuid.UUID, wanted: RequirementInput) -> Requirement:
    """Add a requirement to a fund (or, for an annual report, to the fund's organisation)."""
    fund = _fund(actor, fund_id)
    _officer_of(actor, fund.organisation_id)
    errors: dict[str, list[str]] = {}
    kind = wanted.kind
    year = wanted.covers_year
    due_on = wanted.due_on
    tranche: Tranche | None = None
    if kind in (RequirementKind.ANNUAL_REPORT, RequirementKind.LOTTERY_DISCLOSURE):
        if year is None:
            errors["covers_year"] = [translatable("name the year it covers")]
        elif due_on is None:
            due_on = year_due(
                year, ANNUAL_REPORT_DUE if kind is RequirementKind.ANNUAL_REPORT else LOTTERY_DUE
            )
    elif year is not None:
        errors["covers_year"] = [translatable("only a disclosure or an annual report covers a year")]
    if kind is RequirementKind.LOTTERY_DISCLOSURE and fund.kind != FundKind.LOTTERY_GRANT.value:
        errors["kind"] = [translatable("only a lottery grant owes a lottery disclosure")]
    if kind is RequirementKind.DELIVERABLE:
        errors["kind"] = [translatable("a contract's deliverables come from its milestones")]
    if kind is RequirementKind.TRANCHE_CONDITION:
        tranche = db.session.get(Tranche, wanted.tranche_id) if wanted.tranche_id else None
        if tranche is None or tranche.fund_id != fund.id:
            errors["tranche_id"] = [translatable("name a tranche of this fund")]
    elif wanted.tranche_id is not None:
        errors["tranche_id"] = [translatable("only a tranche condition names a tranche")]
    if due_on is None and "covers_year" not in errors:
        errors["due_on"] = [translatable("say when it is due")]
    role = wanted.responsible_role or RESPONSIBLE_BY_KIND[kind]
    if wanted.responsible_user_id is not None:
        problem = _responsible_problem(fund.organisation_id, role, wanted.responsible_user_id)
        if problem is not None:
            errors["responsible_user_id"] = [problem]
    typed = (wanted.title or "").strip()
    # A typed title is kept as typed; otherwise the kind's own, in both languages.
    title, title_en = (
        (typed, None)
        if typed
        else default_title(kind, year=year, tranche_number=tranche.number if tranche is not None else None)
    )
    if errors:
        raise ValidationFailed(translatable("The requirement is not valid."), errors=errors)
    assert due_on is not None
    if kind is RequirementKind.ANNUAL_REPORT:
        _refuse_second_annual_report(fund.organisation_id, year)
    requirement = Requirement(
        id=uuid.uuid4(),
        fund_id=None if kind is RequirementKind.ANNUAL_REPORT else fund.id,
        organisation_id=fund.organisation_id,
        kind=kind.value,
        title=title,
        title_en=title_en,
        due_on=due_on,
        covers_year=year,
        tranche_id=tranche.id if tranche is not None else None,
        responsible_role=role.value,
        responsible_user_id=wanted.responsible_user_id,
        created_by=actor.audit_identity["id"],
        created_at=utcnow(),
    )
    db.session.add(requirement)
    db.session.flush()
    record_state(actor, "requirement.created", "requirement", requirement)
    return requirement


def _refuse_second_annual_report(organisation_id: uuid.UUID, year: int | None) -> None:
    taken = db.session.scalar(
        select(Requirement.id).where(
            Requirement.organisation_id == organisation_id,
            Requirement.kind == RequirementKind.ANNUAL_REPORT.value,
            Requirement.covers_year == year,
            Requirement.withdrawn_at.is_(None),
        )
    )
    if taken is not None:
        organisation = db.session.get(Organisation, organisation_id)
        raise Conflict(
            translatable(
                "%(organisation)s already has an annual report for %(year)s.",
                organisation=organisation.name if organisation else str(organisation_id),
                year=year,
            ),
            errors={"covers_year": [translatable("is taken")]},
            code="requirement.annual_report_exists",
        )


def change_refusal(requirement: Requirement) -> Conflict | None:
    """Why ``requirement`` cannot be changed, marked done or withdrawn now, or None: only an open one is."""
    if requirement.withdrawn_at is not None:
        return Conflict(translatable("This requirement was withdrawn."), code="requirement.withdrawn")
    if requirement.done_at is not None:
        return Conflict(translatable("This requirement is already done."), code="requirement.done")
    return None


CHANGEABLE = ("due_on", "title", "responsible_role", "responsible_user_id")


def change_requirement(
    actor: Actor, requirement_id: uuid.UUID, changes: Mapping[str, Any], expected_version: int | None
) -> Requirement:
    """Change an open requirement's due date, title or who answers for it (officers of the area)."""
    requirement = get_requirement(actor, requirement_id)
    _officer_of(actor, requirement.organisation_id)
    check_version(requirement, expected_version)
    if (refusal := change_refusal(requirement)) is not None:
        raise refusal
    role = ResponsibleRole(changes.get("responsible_role") or requirement.responsible_role)
    user_id = changes.get("responsible_user_id", requirement.responsible_user_id)
    if "title" in changes and not (changes["title"] or "").strip():
        raise ValidationFailed.field("title", translatable("must not be blank"))
    if user_id is not None and (problem := _responsible_problem(requirement.organisation_id, role, user_id)):
        raise ValidationFailed.field("responsible_user_id", problem)
    if "due_on" in changes:
        requirement.due_on = changes["due_on"]
    if "title" in changes:
        requirement.title = changes["title"].strip()
        requirement.title_en = None  # typed now: one text for every reader
    requirement.responsible_role = role.value
    requirement.responsible_user_id = user_id
    db.session.flush()
    record_state(actor, "requirement.changed", "requirement", requirement)
    return requirement


def done_refusal(actor: Actor, requirement: Requirement) -> Conflict | None:
    """Why ``actor`` (who may mark requirements done) cannot mark this one, or None.

    A member marks only their organisation's annual report: every other kind is done when its
    filing is, or by an officer who records why.
    """
    if (refusal := change_refusal(requirement)) is not None:
        return refusal
    if actor.role is Role.ORG_MEMBER and (
        requirement.kind != RequirementKind.ANNUAL_REPORT.value
        or requirement.responsible_role != ResponsibleRole.MEMBER.value
    ):
        return Conflict(
            translatable("This becomes done when it is filed, or when a finance officer marks it."),
            code="requirement.filed_by_the_system",
        )
    return None


def mark_requirement_done(actor: Actor, requirement_id: uuid.UUID, note: str) -> Requirement:
    """Mark a requirement done by hand, with a note saying how it was met."""
    requirement = get_requirement(actor, requirement_id)
    authorize(actor, Permission.MARK_REQUIREMENTS_DONE, requirement.organisation_id)
    if not note.strip():
        raise ValidationFailed.field("note", translatable("say how it was met"))
    if (refusal := done_refusal(actor, requirement)) is not None:
        raise refusal
    return mark_done(actor, requirement, "marked", note.strip())


def withdraw_requirement(actor: Actor, requirement_id: uuid.UUID, note: str) -> Requirement:
    """Withdraw an open requirement (officers of the area): it stays, marked withdrawn, with why."""
    requirement = get_requirement(actor, requirement_id)
    _officer_of(actor, requirement.organisation_id)
    if not note.strip():
        raise ValidationFailed.field("note", translatable("say why it is withdrawn"))
    if (refusal := change_refusal(requirement)) is not None:
        raise refusal
    requirement.withdrawn_at = utcnow()
    requirement.withdrawn_by = actor.audit_identity["id"]
    requirement.withdrawal_note = note.strip()
    db.session.flush()
    record_state(actor, "requirement.withdrawn", "requirement", requirement)
    return requirement
