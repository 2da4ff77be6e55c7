"""Administration: communities, organisations (with the credit-code check), users, funds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ledger.errors import ValidationFailed
from ledger.messages import translatable
from ledger.models.community import CommunityKind
from ledger.models.disbursement import TrancheCondition
from ledger.models.fund import FundKind
from ledger.models.organisation import RegistrationType
from ledger.models.user import Role
from ledger.services import audit_keys, audit_log, communities, disbursements, funds, organisations, users
from ledger.services.access import Permission, authorize
from ledger.services.amounts import parse_amount
from ledger.services.pagination import PageRequest
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint
from ledger.web.views.funds import fund_page


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
            form.get("idempotency_key"),
        )
    except (ValidationFailed, ValueError) as error:
        errors = (
            error.errors
            if isinstance(error, ValidationFailed)
            else {"kind": [translatable("choose urban or rural")]}
        )
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
            problems={
                "organisation": {"community_id": [translatable("choose a community and a registration type")]}
            },
            form=form,
        )
    try:
        organisations.create_organisation(
            current_web_actor(),
            organisations.OrganisationFields(
                form.get("name", ""), form.get("credit_code", ""), registration, community_id
            ),
            form.get("idempotency_key"),
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
        return _admin_page(422, problems={"user": {"role": [translatable("choose a role")]}}, form=form)
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
            form.get("idempotency_key"),
        )
    except ValidationFailed as error:
        return _admin_page(422, problems={"user": error.errors}, form=form)
    return redirect(url_for("web.admin", _anchor="users"))


def _fund_terms(form: dict[str, str]) -> funds.FundTerms:
    """The draft fund form as terms; each unreadable field is named (the service checks the rest)."""
    problems: dict[str, list[str]] = {}

    def read(name: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(form.get(name, ""))
        except (ValueError, ValidationFailed):
            problems[name] = [translatable("this value cannot be read")]
            return None

    kind = read("kind", FundKind)
    organisation_id = read("organisation_id", uuid.UUID)
    period_start = read("period_start", date.fromisoformat)
    period_end = read("period_end", date.fromisoformat)
    award = read("award", lambda text: parse_amount(text, "CNY", "award"))
    cap = read(
        "admin_cost_cap_percent", lambda text: funds.parse_percent(text or None, "admin_cost_cap_percent")
    )
    if problems:
        raise ValidationFailed("The fund has invalid fields", errors=problems)
    return funds.FundTerms(
        kind=kind,
        title=form.get("title", ""),
        reference=form.get("reference", ""),
        funder_name=form.get("funder_name", ""),
        funder_credit_code=form.get("funder_credit_code") or None,
        organisation_id=organisation_id,
        award=award,
        period_start=period_start,
        period_end=period_end,
        restricted=form.get("restricted") == "on",
        restriction_purpose=form.get("restriction_purpose") or None,
        admin_cost_cap_percent=cap,
    )


@blueprint.post("/admin/funds")
@signed_in
def create_fund() -> tuple[str, int] | Response:
    form = request.form.to_dict()
    try:
        made = funds.create_fund(current_web_actor(), _fund_terms(form), form.get("idempotency_key"))
    except ValidationFailed as error:
        return _admin_page(422, problems={"fund": error.errors or {"title": [error.detail]}}, form=form)
    return redirect(url_for("web.fund", fund_id=made.thing.id, _anchor="setup"))


@blueprint.post("/funds/<uuid:fund_id>/budget")
@signed_in
def set_budget(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    actor = current_web_actor()
    fund = funds.get_fund(actor, fund_id)
    lines = {}
    try:
        for key, value in request.form.items():
            if key.startswith("line.") and value.strip():
                code = key.removeprefix("line.")
                lines[code] = parse_amount(value, fund.currency, f"lines.{code}")
        funds.set_draft_budget(actor, fund_id, lines)
    except ValidationFailed as error:
        return fund_page(fund_id, 422, setup=error.errors or {"lines": [error.detail]})
    return redirect(url_for("web.fund", fund_id=fund_id, _anchor="setup"))


@blueprint.post("/funds/<uuid:fund_id>/tranches")
@signed_in
def set_tranches(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    actor = current_web_actor()
    fund = funds.get_fund(actor, fund_id)
    schedule = []
    try:
        for n in range(1, 7):
            amount, due = (
                request.form.get(f"amount.{n}", "").strip(),
                request.form.get(f"due.{n}", "").strip(),
            )
            if not amount and not due:
                continue
            try:
                due_date = date.fromisoformat(due)
            except ValueError:
                raise ValidationFailed.field(
                    f"tranches.{n}.due_date", translatable("give the date as YYYY-MM-DD")
                ) from None
            condition = TrancheCondition(request.form.get(f"condition.{n}") or TrancheCondition.NONE.value)
            schedule.append(
                disbursements.TrancheTerms(
                    parse_amount(amount, fund.currency, f"tranches.{n}.amount"), due_date, condition
                )
            )
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
    form = request.form.to_dict()
    try:
        role = Role(form["role"]) if form.get("role") else None
        organisation = form.get("organisation_id") or None
        members = (uuid.UUID(organisation),) if organisation else None
    except ValueError:
        return _admin_page(422, problems={"user": {"role": [translatable("choose a role")]}}, form=form)
    active = {"disable": False, "enable": True}.get(form.get("access", ""))
    try:
        users.update_user(
            current_web_actor(), user_id, None, role=role, organisation_ids=members, is_active=active
        )
    except ValidationFailed as error:
        return _admin_page(422, problems={"user": error.errors or {"role": [error.detail]}}, form=form)
    return redirect(url_for("web.admin", _anchor="users"))
