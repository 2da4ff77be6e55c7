"""Administration: communities, organisations (registered or filed; registration, deregistration), users, funds."""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ledger.errors import Conflict, ValidationFailed
from ledger.inputs.communities import CommunityCreateSchema, CommunityUpdateSchema
from ledger.inputs.disbursements import ScheduleSetSchema, TrancheCreateSchema
from ledger.inputs.funds import BudgetSetSchema, FundCreateSchema, fund_terms_changes
from ledger.inputs.organisations import DeregistrationSchema, OrganisationCreateSchema, RegistrationSchema
from ledger.inputs.users import UserCreateSchema, UserUpdateSchema
from ledger.messages import translatable
from ledger.models.community import CommunityKind
from ledger.models.fund import FundKind
from ledger.models.organisation import FilingCategory, RegistrationType
from ledger.models.user import Role
from ledger.services import (
    areas,
    audit_keys,
    audit_log,
    communities,
    disbursements,
    funds,
    organisation_status,
    organisations,
    users,
)
from ledger.services.access import Permission, authorize
from ledger.services.actions import available_actions
from ledger.services.amounts import parse_amount
from ledger.services.pagination import PageRequest
from ledger.web.forms import form_version, load_form, row_numbers
from ledger.web.session import current_web_actor, in_words, signed_in
from ledger.web.views import blueprint
from ledger.web.views.funds import fund_page


def _admin_page(status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_web_actor()
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    listed_communities = communities.list_communities(actor, PageRequest(1, 500)).items
    listed_organisations = organisations.list_organisations(actor, PageRequest(1, 500)).items
    listed_users = users.list_users(actor, PageRequest(1, 500)).items
    held = {code for user in listed_users for code in user.scope_codes}
    page = render_template(
        "web/admin.html",
        communities=listed_communities,
        community_places=areas.community_places(listed_communities),
        free_communities=areas.free_communities(actor),
        organisations=listed_organisations,
        organisation_actions={o.id: available_actions(actor, o) for o in listed_organisations},
        filing_categories=[c.value for c in FilingCategory],
        users=listed_users,
        user_places={user.id: in_words(areas.places_of_user(user)) for user in listed_users},
        nodes=areas.grantable_nodes(actor, held),
        grants_everywhere=actor.reaches_everything,
        # A new fund's funding body: the admin's own node when they work at one.
        own_node=actor.scopes[0] if len(actor.scopes) == 1 else None,
        funds=funds.list_funds(actor, PageRequest(1, 500)).items,
        community_kinds=[k.value for k in CommunityKind],
        registration_types=[t.value for t in RegistrationType],
        roles=[r.value for r in Role],
        fund_kinds=[k.value for k in FundKind],
        verifier_keys=audit_log.verifier_keys(actor),
        new_key=uuid.uuid4().hex,  # each form's own Idempotency-Key: a second click creates nothing more
        problems=context.pop("problems", {}),
        form=context.pop("form", {}),
        **context,
    )
    return page, status


@blueprint.get("/admin")
@signed_in
def admin() -> tuple[str, int]:
    return _admin_page()


@blueprint.post("/admin/communities")
@signed_in
def create_community() -> tuple[str, int] | Response:
    try:
        data = load_form(CommunityCreateSchema())
        communities.create_community(
            current_web_actor(), communities.CommunityFields(**data), request.form.get("idempotency_key")
        )
    except (ValidationFailed, Conflict) as error:
        # A code already taken is a conflict (409), shown at the field like a refusal.
        problems = error.errors or {"code": [error.detail]}
        return _admin_page(error.status, problems={"community": problems}, form=request.form.to_dict())
    return redirect(url_for("web.admin", _anchor="communities"))


@blueprint.post("/admin/communities/<uuid:community_id>")
@signed_in
def change_community(community_id: uuid.UUID) -> tuple[str, int] | Response:
    """Move a community to another code (its organisations and history stay), or rename it."""
    try:
        changes = load_form(CommunityUpdateSchema(partial=True))
        communities.update_community(current_web_actor(), community_id, changes, form_version("code"))
    except (ValidationFailed, Conflict) as error:
        problems = error.errors or {"code": [error.detail]}
        form = {**request.form.to_dict(), "community_id": str(community_id)}
        return _admin_page(error.status, problems={"community": problems}, form=form)
    return redirect(url_for("web.admin", _anchor="communities"))


@blueprint.post("/admin/organisations")
@signed_in
def create_organisation() -> tuple[str, int] | Response:
    try:
        data = load_form(OrganisationCreateSchema())
        organisations.create_organisation(
            current_web_actor(), organisations.OrganisationFields(**data), request.form.get("idempotency_key")
        )
    except ValidationFailed as error:
        # Each kind has its own form on the page: the refusal is shown on the one that was sent.
        shown_on = "filed_organisation" if request.form.get("status") == "filed" else "organisation"
        return _admin_page(422, problems={shown_on: error.errors}, form=request.form.to_dict())
    return redirect(url_for("web.admin", _anchor="organisations"))


@blueprint.post("/admin/organisations/<uuid:organisation_id>/registration")
@signed_in
def register_organisation(organisation_id: uuid.UUID) -> tuple[str, int] | Response:
    """A filed organisation registers: its credit code and registration date."""
    try:
        data = load_form(RegistrationSchema())
        organisation_status.register_organisation(
            current_web_actor(),
            organisation_id,
            data["credit_code"],
            data["registered_on"],
            form_version("registered_on"),
            registration_type=data["registration_type"],
        )
    except ValidationFailed as error:
        problems = {"registration": error.errors, "organisation_id": organisation_id}
        return _admin_page(422, problems=problems, form=request.form.to_dict())
    return redirect(url_for("web.admin", _anchor="organisations"))


@blueprint.post("/admin/organisations/<uuid:organisation_id>/deregistration")
@signed_in
def deregister_organisation(organisation_id: uuid.UUID) -> tuple[str, int] | Response:
    """An organisation is deregistered (or its filing withdrawn) on a date, with a reason."""
    try:
        data = load_form(DeregistrationSchema())
        organisation_status.deregister_organisation(
            current_web_actor(),
            organisation_id,
            data["deregistered_on"],
            data["reason"],
            form_version("deregistered_on"),
        )
    except ValidationFailed as error:
        problems = {"deregistration": error.errors, "organisation_id": organisation_id}
        return _admin_page(422, problems=problems, form=request.form.to_dict())
    return redirect(url_for("web.admin", _anchor="organisations"))


@blueprint.post("/admin/users")
@signed_in
def create_user() -> tuple[str, int] | Response:
    try:
        data = load_form(UserCreateSchema())
        users.create_user(
            current_web_actor(),
            users.NewUser(
                data["username"],
                data["display_name"],
                data["role"],
                data["password"],
                tuple(data["organisation_ids"]),
                tuple(data["scopes"]),
            ),
            request.form.get("idempotency_key"),
        )
    except ValidationFailed as error:
        return _admin_page(422, problems={"user": error.errors}, form=request.form.to_dict())
    return redirect(url_for("web.admin", _anchor="users"))


@blueprint.post("/admin/funds")
@signed_in
def create_fund() -> tuple[str, int] | Response:
    try:
        data = load_form(FundCreateSchema(), checkboxes=("restricted",))
        terms = funds.FundTerms(**fund_terms_changes(data, data["currency"]))
        made = funds.create_fund(current_web_actor(), terms, request.form.get("idempotency_key"))
    except ValidationFailed as error:
        problems = error.errors or {"title": [error.detail]}
        return _admin_page(422, problems={"fund": problems}, form=request.form.to_dict())
    return redirect(url_for("web.fund", fund_id=made.thing.id, _anchor="setup"))


@blueprint.post("/funds/<uuid:fund_id>/budget")
@signed_in
def set_budget(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    actor = current_web_actor()
    fund = funds.get_fund(actor, fund_id)
    try:
        data = load_form(BudgetSetSchema())
        lines = {
            code: parse_amount(text, fund.currency, f"lines.{code}") for code, text in data["lines"].items()
        }
        funds.set_draft_budget(actor, fund_id, lines)
    except ValidationFailed as error:
        return fund_page(fund_id, 422, setup=error.errors or {"lines": [error.detail]})
    return redirect(url_for("web.fund", fund_id=fund_id, _anchor="setup"))


@blueprint.post("/funds/<uuid:fund_id>/tranches")
@signed_in
def set_tranches(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    actor = current_web_actor()
    fund = funds.get_fund(actor, fund_id)
    try:
        data = load_form(ScheduleSetSchema())
        schedule = [
            disbursements.TrancheTerms(
                parse_amount(row["amount"], fund.currency, f"tranches.{number}.amount"),
                row["due_date"],
                row["condition"],
            )
            for number, row in zip(
                row_numbers("tranches", TrancheCreateSchema()), data["tranches"], strict=True
            )
        ]
        disbursements.set_tranches(actor, fund_id, schedule)
    except ValidationFailed as error:
        return fund_page(fund_id, 422, setup=error.errors or {"tranches": [error.detail]})
    return redirect(url_for("web.fund", fund_id=fund_id, _anchor="setup"))


@blueprint.post("/funds/<uuid:fund_id>/status")
@signed_in
def change_fund_status(fund_id: uuid.UUID) -> Response:
    action = request.form.get("action", "")
    if action not in ("activate", "suspend", "resume", "close"):
        raise ValidationFailed.field("action", translatable("choose activate, suspend, resume or close"))
    funds.change_fund_status(current_web_actor(), fund_id, action, None)
    return redirect(url_for("web.fund", fund_id=fund_id))


@blueprint.post("/admin/signing-key/rotate")
@signed_in
def rotate_signing_key() -> Response:
    audit_keys.rotate_signing_key(current_web_actor())
    return redirect(url_for("web.admin", _anchor="keys"))


@blueprint.post("/admin/users/<uuid:user_id>")
@signed_in
def change_user(user_id: uuid.UUID) -> tuple[str, int] | Response:
    """Change a user's role, or disable or enable them (their sessions end either way)."""
    try:
        changes = load_form(UserUpdateSchema())
        for name in ("organisation_ids", "scopes"):
            if name in changes:
                changes[name] = tuple(changes[name])
        users.update_user(current_web_actor(), user_id, None, **changes)
    except ValidationFailed as error:
        problems = error.errors or {"role": [error.detail]}
        return _admin_page(422, problems={"user": problems}, form=request.form.to_dict())
    return redirect(url_for("web.admin", _anchor="users"))
