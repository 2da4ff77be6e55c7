"""What is due, on the fund's page: an officer adds, moves, marks done or withdraws; a member marks
their organisation's annual report filed."""

from __future__ import annotations

import uuid

from flask import flash, redirect, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from ledger.errors import Conflict, ValidationFailed
from ledger.inputs.requirements import RequirementChangeSchema, RequirementCreateSchema, RequirementNoteSchema
from ledger.models.requirement import Requirement
from ledger.services import requirements
from ledger.web.forms import form_version, load_form
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint
from ledger.web.views.funds import fund_page


def _back(requirement: Requirement) -> Response:
    """To the fund's list of what is due; an annual report without a fund, to the home page."""
    if requirement.fund_id is None:
        return redirect(url_for("web.home", _anchor="due"))
    return redirect(url_for("web.fund", fund_id=requirement.fund_id, _anchor="requirements"))


@blueprint.post("/funds/<uuid:fund_id>/requirements")
@signed_in
def add_requirement(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    try:
        data = load_form(RequirementCreateSchema())
        made = requirements.add_requirement(
            current_web_actor(), fund_id, requirements.RequirementInput(**data)
        )
    except (ValidationFailed, Conflict) as refused:
        status = 422 if isinstance(refused, ValidationFailed) else 409
        return fund_page(
            fund_id, status, request.form.to_dict(), requirement=refused.errors or {"kind": [refused.detail]}
        )
    flash(gettext("Added: %(title)s, due %(date)s.", title=made.title, date=made.due_on.isoformat()))
    return _back(made)


def _row_refused(
    requirement_id: uuid.UUID, refused: ValidationFailed | Conflict
) -> tuple[str, int] | Response:
    """The refusal shown at the requirement's own row on its fund's page."""
    requirement = requirements.get_requirement(current_web_actor(), requirement_id)
    if requirement.fund_id is None:
        raise refused  # an annual report's form is on the home page: the error page says why
    status = 422 if isinstance(refused, ValidationFailed) else 409
    errors = refused.errors or {"note": [refused.detail]}
    return fund_page(requirement.fund_id, status, requirement_row={str(requirement_id): errors})


@blueprint.post("/requirements/<uuid:requirement_id>/done")
@signed_in
def mark_requirement_done(requirement_id: uuid.UUID) -> tuple[str, int] | Response:
    try:
        note = load_form(RequirementNoteSchema())["note"]
        done = requirements.mark_requirement_done(current_web_actor(), requirement_id, note)
    except (ValidationFailed, Conflict) as refused:
        return _row_refused(requirement_id, refused)
    flash(gettext("Recorded as done: %(title)s.", title=done.title))
    return _back(done)


@blueprint.post("/requirements/<uuid:requirement_id>/change")
@signed_in
def change_requirement(requirement_id: uuid.UUID) -> tuple[str, int] | Response:
    try:
        version = form_version("due_on")
        data = load_form(RequirementChangeSchema())
        changed = requirements.change_requirement(current_web_actor(), requirement_id, data, version)
    except (ValidationFailed, Conflict) as refused:
        return _row_refused(requirement_id, refused)
    flash(gettext("Now due %(date)s: %(title)s.", title=changed.title, date=changed.due_on.isoformat()))
    return _back(changed)


@blueprint.post("/requirements/<uuid:requirement_id>/withdrawal")
@signed_in
def withdraw_requirement(requirement_id: uuid.UUID) -> tuple[str, int] | Response:
    try:
        note = load_form(RequirementNoteSchema())["note"]
        withdrawn = requirements.withdraw_requirement(current_web_actor(), requirement_id, note)
    except (ValidationFailed, Conflict) as refused:
        return _row_refused(requirement_id, refused)
    flash(gettext("Withdrawn: %(title)s.", title=withdrawn.title))
    return _back(withdrawn)
