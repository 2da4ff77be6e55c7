"""Administration: communities, organisations (registered or filed; registration, deregistration), users, funds."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
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
from ledger.services.access import Actor, Permission, authorize
from ledger.services.actions import available_actions
from ledger.services.amounts import parse_amount
from ledger.services.pagination import Page, PageRequest
from ledger.web.forms import form_version, load_form, row_numbers
from ledger.web.session import current_web_actor, in_words, signed_in
from ledger.web.views import blueprint
from ledger.web.views.funds import fund_page

SECTIONS = ("communities", "organisations", "users", "funds", "keys")
"""The administration pages, in the order of their nav."""

PAGE_SIZE = 20
"""Rows on one page of an administration list."""

ALL_AT_ONCE = PageRequest(1, 500)
"""For a form's choices (the organisations a user may belong to, a fund's organisation)."""

FIELD_NAMES = {
    "code": translatable("Division code"),
    "name": translatable("Name"),
    "kind": translatable("Kind"),
    "division_list": translatable("Division code"),
    "credit_code": translatable("Unified Social Credit Code"),
    "registration_type": translatable("type"),
    "registered_on": translatable("Registered on"),
    "community_id": translatable("Communities"),
    "money_held_by": translatable("Money held by"),
    "filing_number": translatable("Filing number"),
    "filing_office_code": translatable("Filed with (street or township code)"),
    "filed_on": translatable("Filed on"),
    "filing_category": translatable("Category"),
    "deregistered_on": translatable("Deregistered on"),
    "reason": translatable("Reason"),
    "username": translatable("Username"),
    "display_name": translatable("Name"),
    "role": translatable("Role"),
    "organisation_ids": translatable("Organisation (members)"),
    "scopes": translatable("Area (nodes of the tree)"),
    "password": translatable("Password"),
    "title": translatable("Title"),
    "reference": translatable("Contract or grant no."),
    "funder_name": translatable("Funder"),
    "funder_credit_code": translatable("Funder's credit code"),
    "funding_division_code": translatable("Funding body's area"),
    "organisation_id": translatable("Organisation"),
    "award": translatable("Award"),
    "period_start": translatable("Starts"),
    "period_end": translatable("Ends"),
    "awarded_on": translatable("Awarded on"),
    "signed_on": translatable("Agreement signed on"),
    "admin_cost_cap_percent": translatable("Admin-cost cap"),
    "restriction_purpose": translatable("Restriction purpose"),
}
"""What the summary at the top of a page calls each field it names."""


@dataclass(frozen=True)
class Listing:
    """One page of an administration list: what was searched, the rows, and the way to the others."""

    search: str
    items: list[Any]
    total: int
    page: int
    pages: int
    previous_url: str | None
    next_url: str | None


def _listing(section: str, fetch: Callable[[PageRequest, str | None], Page[Any]]) -> Listing:
    search = request.args.get("q", "").strip()[:100]
    asked = request.args.get("page", "1")
    number = int(asked) if asked.isascii() and asked.isdigit() and 0 < len(asked) < 6 else 1
    found = fetch(PageRequest(max(number, 1), PAGE_SIZE), search or None)
    pages = max(1, -(-found.total // PAGE_SIZE))
    if number > pages:
        number = pages
        found = fetch(PageRequest(number, PAGE_SIZE), search or None)

    def url(to: int) -> str:
        return url_for(f"web.admin_{section}", q=search or None, page=to if to > 1 else None)

    return Listing(
        search=search,
        items=found.items,
        total=found.total,
        page=number,
        pages=pages,
        previous_url=url(number - 1) if number > 1 else None,
        next_url=url(number + 1) if number < pages else None,
    )


def _summary(problems: Mapping[str, Any]) -> list[tuple[Any, Any, str]]:
    """Every problem on the page, for the summary at its top: (field's name, message, anchor)."""
    found = []
    for form_problems in problems.values():
        if not isinstance(form_problems, Mapping):
            continue
        for field, messages in form_problems.items():
            for message in messages:
                anchor = "error-" + field.replace(".", "-")
                found.append((FIELD_NAMES.get(field.split(".")[0]), message, anchor))
    return found


def _section_page(section: str, status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_web_actor()
    authorize(actor, Permission.MANAGE_ORGANISATIONS)
    problems = context.pop("problems", {})
    page = render_template(
        f"web/admin/{section}.html",
        section=section,
        sections=SECTIONS,
        problems=problems,
        summary=_summary(problems),
        form=context.pop("form", {}),
        new_key=uuid.uuid4().hex,  # each form's own Idempotency-Key: a second click creates nothing more
        **_SECTION_CONTEXT[section](actor),
        **context,
    )
    return page, status


def _communities(actor: Actor) -> dict[str, Any]:
    listing = _listing(
        "communities", lambda page, search: communities.list_communities(actor, page, search=search)
    )
    return {
        "listing": listing,
        "community_places": areas.community_places(listing.items),
        "free_communities": areas.free_communities(actor),
        "community_kinds": [k.value for k in CommunityKind],
    }


def _organisations(actor: Actor) -> dict[str, Any]:
    listing = _listing(
        "organisations", lambda page, search: organisations.list_organisations(actor, page, search=search)
    )
    return {
        "listing": listing,
        "organisation_actions": {o.id: available_actions(actor, o) for o in listing.items},
        "communities": communities.list_communities(actor, ALL_AT_ONCE).items,
        "filing_categories": [c.value for c in FilingCategory],
        "registration_types": [t.value for t in RegistrationType],
    }


def _users(actor: Actor) -> dict[str, Any]:
    listing = _listing("users", lambda page, search: users.list_users(actor, page, search=search))
    held = {code for user in listing.items for code in user.scope_codes}
    return {
        "listing": listing,
        "user_places": {user.id: in_words(areas.places_of_user(user)) for user in listing.items},
        "nodes": areas.grantable_nodes(actor, held),
        "grants_everywhere": actor.reaches_everything,
        "organisations": organisations.list_organisations(actor, ALL_AT_ONCE).items,
        "roles": [r.value for r in Role],
    }


def _funds(actor: Actor) -> dict[str, Any]:
    listing = _listing("funds", lambda page, search: funds.list_funds(actor, page, search=search))
    return {
        "listing": listing,
        "nodes": areas.grantable_nodes(actor),
        "grants_everywhere": actor.reaches_everything,
        # A new fund's funding body: the admin's own node when they work at one.
        "own_node": actor.scopes[0] if len(actor.scopes) == 1 else None,
        "organisations": organisations.list_organisations(actor, ALL_AT_ONCE).items,
        "fund_kinds": [k.value for k in FundKind],
    }


def _keys(actor: Actor) -> dict[str, Any]:
    return {"verifier_keys": audit_log.verifier_keys(actor)}


_SECTION_CONTEXT: dict[str, Callable[[Actor], dict[str, Any]]] = {
    "communities": _communities,
    "organisations": _organisations,
    "users": _users,
    "funds": _funds,
    "keys": _keys,
}


@blueprint.get("/admin")
@signed_in
def admin() -> Response:
    authorize(current_web_actor(), Permission.MANAGE_ORGANISATIONS)
    return redirect(url_for("web.admin_communities"))


@blueprint.get("/admin/communities")
@signed_in
def admin_communities() -> tuple[str, int]:
    return _section_page("communities")


@blueprint.get("/admin/organisations")
@signed_in
def admin_organisations() -> tuple[str, int]:
    return _section_page("organisations")


@blueprint.get("/admin/users")
@signed_in
def admin_users() -> tuple[str, int]:
    return _section_page("users")


@blueprint.get("/admin/funds")
@signed_in
def admin_funds() -> tuple[str, int]:
    return _section_page("funds")


@blueprint.get("/admin/keys")
@signed_in
def admin_keys() -> tuple[str, int]:
    return _section_page("keys")


@blueprint.post("/admin/communities")
@signed_in
def create_community() -> tuple[str, int] | Response:
    try:
        data = load_form(CommunityCreateSchema())
        made = communities.create_community(
            current_web_actor(), communities.CommunityFields(**data), request.form.get("idempotency_key")
        )
    except (ValidationFailed, Conflict) as error:
        # A code already taken is a conflict (409), shown at the field like a refusal.
        problems = error.errors or {"code": [error.detail]}
        return _section_page(
            "communities", error.status, problems={"community": problems}, form=request.form.to_dict()
        )
    flash(gettext("Community %(name)s added.", name=made.thing.name))
    return redirect(url_for("web.admin_communities"))


@blueprint.post("/admin/communities/<uuid:community_id>")
@signed_in
def change_community(community_id: uuid.UUID) -> tuple[str, int] | Response:
    """Move a community to another code (its organisations and history stay), or rename it."""
    try:
        changes = load_form(CommunityUpdateSchema(partial=True))
        moved = communities.update_community(current_web_actor(), community_id, changes, form_version("code"))
    except (ValidationFailed, Conflict) as error:
        problems = error.errors or {"code": [error.detail]}
        form = {**request.form.to_dict(), "community_id": str(community_id)}
        return _section_page("communities", error.status, problems={"community": problems}, form=form)
    flash(gettext("%(name)s now has division code %(code)s.", name=moved.name, code=moved.code))
    return redirect(url_for("web.admin_communities"))


@blueprint.post("/admin/organisations")
@signed_in
def create_organisation() -> tuple[str, int] | Response:
    try:
        data = load_form(OrganisationCreateSchema())
        made = organisations.create_organisation(
            current_web_actor(), organisations.OrganisationFields(**data), request.form.get("idempotency_key")
        )
    except ValidationFailed as error:
        # Each kind has its own form on the page: the refusal is shown on the one that was sent.
        shown_on = "filed_organisation" if request.form.get("status") == "filed" else "organisation"
        return _section_page(
            "organisations", 422, problems={shown_on: error.errors}, form=request.form.to_dict()
        )
    flash(gettext("Organisation %(name)s added.", name=made.thing.name))
    return redirect(url_for("web.admin_organisations"))


@blueprint.post("/admin/organisations/<uuid:organisation_id>/registration")
@signed_in
def register_organisation(organisation_id: uuid.UUID) -> tuple[str, int] | Response:
    """A filed organisation registers: its credit code and registration date."""
    try:
        data = load_form(RegistrationSchema())
        registered = organisation_status.register_organisation(
            current_web_actor(),
            organisation_id,
            data["credit_code"],
            data["registered_on"],
            form_version("registered_on"),
            registration_type=data["registration_type"],
        )
    except ValidationFailed as error:
        problems = {"registration": error.errors, "organisation_id": organisation_id}
        return _section_page("organisations", 422, problems=problems, form=request.form.to_dict())
    flash(gettext("%(name)s is registered.", name=registered.name))
    return redirect(url_for("web.admin_organisations"))


@blueprint.post("/admin/organisations/<uuid:organisation_id>/deregistration")
@signed_in
def deregister_organisation(organisation_id: uuid.UUID) -> tuple[str, int] | Response:
    """An organisation is deregistered (or its filing withdrawn) on a date, with a reason."""
    try:
        data = load_form(DeregistrationSchema())
        deregistered = organisation_status.deregister_organisation(
            current_web_actor(),
            organisation_id,
            data["deregistered_on"],
            data["reason"],
            form_version("deregistered_on"),
        )
    except ValidationFailed as error:
        problems = {"deregistration": error.errors, "organisation_id": organisation_id}
        return _section_page("organisations", 422, problems=problems, form=request.form.to_dict())
    flash(gettext("%(name)s is deregistered.", name=deregistered.name))
    return redirect(url_for("web.admin_organisations"))


@blueprint.post("/admin/users")
@signed_in
def create_user() -> tuple[str, int] | Response:
    try:
        data = load_form(UserCreateSchema())
        made = users.create_user(
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
        return _section_page("users", 422, problems={"user": error.errors}, form=request.form.to_dict())
    flash(gettext("User %(name)s added.", name=made.thing.username))
    return redirect(url_for("web.admin_users"))


@blueprint.post("/admin/funds")
@signed_in
def create_fund() -> tuple[str, int] | Response:
    try:
        data = load_form(FundCreateSchema(), checkboxes=("restricted",))
        terms = funds.FundTerms(**fund_terms_changes(data, data["currency"]))
        made = funds.create_fund(current_web_actor(), terms, request.form.get("idempotency_key"))
        flash(
            gettext(
                "Fund %(reference)s drafted: set its budget and tranches.", reference=made.thing.reference
            )
        )
    except ValidationFailed as error:
        problems = error.errors or {"title": [error.detail]}
        return _section_page("funds", 422, problems={"fund": problems}, form=request.form.to_dict())
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
    flash(gettext("The budget is saved."))
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
    flash(gettext("The tranche schedule is saved."))
    return redirect(url_for("web.fund", fund_id=fund_id, _anchor="setup"))


@blueprint.post("/funds/<uuid:fund_id>/status")
@signed_in
def change_fund_status(fund_id: uuid.UUID) -> Response:
    action = request.form.get("action", "")
    if action not in ("activate", "suspend", "resume", "close"):
        raise ValidationFailed.field("action", translatable("choose activate, suspend, resume or close"))
    changed = funds.change_fund_status(current_web_actor(), fund_id, action, None)
    flash(_fund_status_done(action, changed.title))
    return redirect(url_for("web.fund", fund_id=fund_id))


def _fund_status_done(action: str, title: str) -> str:
    if action == "activate":
        return str(gettext("%(title)s is active: reports and disbursements can start.", title=title))
    if action == "suspend":
        return str(
            gettext("%(title)s is suspended: nothing is paid from it until it is resumed.", title=title)
        )
    if action == "resume":
        return str(gettext("%(title)s is active again.", title=title))
    return str(gettext("%(title)s is closed.", title=title))


@blueprint.post("/admin/signing-key/rotate")
@signed_in
def rotate_signing_key() -> Response:
    audit_keys.rotate_signing_key(current_web_actor())
    flash(gettext("The signing key is rotated: publish the new verifier key."))
    return redirect(url_for("web.admin_keys"))


@blueprint.post("/admin/users/<uuid:user_id>")
@signed_in
def change_user(user_id: uuid.UUID) -> tuple[str, int] | Response:
    """Change a user's role, or disable or enable them (their sessions end either way)."""
    try:
        changes = load_form(UserUpdateSchema())
        for name in ("organisation_ids", "scopes"):
            if name in changes:
                changes[name] = tuple(changes[name])
        changed = users.update_user(current_web_actor(), user_id, None, **changes)
    except ValidationFailed as error:
        problems = error.errors or {"role": [error.detail]}
        return _section_page("users", 422, problems={"user": problems}, form=request.form.to_dict())
    if "is_active" not in changes:
        flash(gettext("%(name)s is saved.", name=changed.username))
    elif changed.is_active:
        flash(gettext("%(name)s is enabled.", name=changed.username))
    else:
        flash(gettext("%(name)s is disabled: their sessions have ended.", name=changed.username))
    return redirect(url_for("web.admin_users"))
