"""Administration: communities, organisations (with the credit-code check), users, funds."""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ledger.errors import ValidationFailed
from ledger.models.community import CommunityKind
from ledger.models.organisation import RegistrationType
from ledger.models.user import Role
from ledger.services import communities, funds, organisations, users
from ledger.services.access import Permission, authorize
from ledger.services.pagination import PageRequest
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint


def _admin_page(status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_web_actor()
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    page = render_template(
        "web/admin.html",
        communities=communities.list_communities(actor, PageRequest(1, 500)).items,
        organisations=organisations.list_organisations(actor, PageRequest(1, 500)).items,
        users=users.list_users(actor, PageRequest(1, 500)).items,
        funds=funds.list_funds(actor, PageRequest(1, 500)).items,
        community_kinds=[k.value for k in CommunityKind],
        registration_types=[t.value for t in RegistrationType],
        roles=[r.value for r in Role],
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
    form = request.form.to_dict()
    try:
        communities.create_community(
            current_web_actor(),
            communities.CommunityFields(
                code=form.get("code", ""),
                name=form.get("name", ""),
                kind=CommunityKind(form.get("kind", "urban")),
                district=form.get("district", ""),
            ),
        )
    except (ValidationFailed, ValueError) as error:
        errors = error.errors if isinstance(error, ValidationFailed) else {"kind": ["choose urban or rural"]}
        return _admin_page(422, problems={"community": errors}, form=form)
    return redirect(url_for("web.admin", _anchor="communities"))


@blueprint.post("/admin/organisations")
@signed_in
def create_organisation() -> tuple[str, int] | Response:
    form = request.form.to_dict()
    try:
        community_id = uuid.UUID(form.get("community_id", ""))
        registration = RegistrationType(form.get("registration_type", ""))
    except ValueError:
        return _admin_page(
            422,
            problems={"organisation": {"community_id": ["choose a community and a registration type"]}},
            form=form,
        )
    try:
        organisations.create_organisation(
            current_web_actor(),
            organisations.OrganisationFields(
                form.get("name", ""), form.get("credit_code", ""), registration, community_id
            ),
        )
    except ValidationFailed as error:
        return _admin_page(422, problems={"organisation": error.errors}, form=form)
    return redirect(url_for("web.admin", _anchor="organisations"))


@blueprint.post("/admin/users")
@signed_in
def create_user() -> tuple[str, int] | Response:
    form = request.form.to_dict()
    try:
        role = Role(form.get("role", ""))
        organisation = form.get("organisation_id") or None
        members = (uuid.UUID(organisation),) if organisation else ()
    except ValueError:
        return _admin_page(422, problems={"user": {"role": ["choose a role"]}}, form=form)
    try:
        users.create_user(
            current_web_actor(),
            users.NewUser(
                form.get("username", ""),
                form.get("display_name", ""),
                role,
                form.get("password", ""),
                members,
            ),
        )
    except ValidationFailed as error:
        return _admin_page(422, problems={"user": error.errors}, form=form)
    return redirect(url_for("web.admin", _anchor="users"))
