"""A fund's page: its figures and budget bars, its reports, disbursements and statements."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from ledger.business_dates import business_today
from ledger.errors import Conflict, ValidationFailed
from ledger.inputs.disbursements import DisbursementCreateSchema, PaySchema
from ledger.inputs.expense_reports import ReportCreateSchema
from ledger.inputs.statements import StatementCreateSchema
from ledger.services import (
    areas,
    budget_revisions,
    disbursements,
    expense_reports,
    fund_reports,
    funds,
    requirements,
    statements,
    users,
)
from ledger.services.actions import available_actions
from ledger.services.amounts import parse_amount
from ledger.services.pagination import PageRequest
from ledger.statements.http import pdf_response
from ledger.statements.period import StatementPeriod
from ledger.web.forms import load_form
from ledger.web.session import current_web_actor, in_words, signed_in
from ledger.web.views import blueprint

# Where on the disbursement form a refusal of the service belongs; others are the form's as a whole.
DISBURSEMENT_CONFLICT_FIELDS = {
    "disbursement.over_award": "amount",
    "disbursement.tranche_taken": "tranche_id",
    "disbursement.tranche_condition": "tranche_id",
}


def fund_page(
    fund_id: uuid.UUID, status: int = 200, kept: dict[str, str] | None = None, **problems: Any
) -> tuple[str, int]:
    actor = current_web_actor()
    fund = funds.get_fund(actor, fund_id)
    summary = fund_reports.fund_summary(actor, fund.id)
    _fund, categories = fund_reports.budget_vs_actual(actor, fund.id)
    reports = expense_reports.list_reports(actor, PageRequest(1, 200), fund_id=fund.id)
    paid_out = disbursements.list_disbursements(actor, fund.id, PageRequest(1, 200))
    tranches = disbursements.list_tranches(actor, fund.id)
    revisions = budget_revisions.list_budget_revisions(actor, fund.id, PageRequest(1, 50)).items
    names = funds.categories_of(fund.category_list_version)
    due = requirements.fund_requirements(actor, fund.id, PageRequest(1, 200)).items
    today = business_today()
    page = render_template(
        "web/fund.html",
        fund=fund,
        funding_area=in_words([areas.place_of_node(fund.funding_division_code)]),
        actions=available_actions(actor, fund),
        summary=summary,
        categories=categories,
        budget_lines={c.category_code: c.revised_budget for c in categories},
        reports=reports.items,
        disbursements=paid_out.items,
        people=users.names_of(
            identity for d in paid_out.items for identity in (d.prepared_by, d.approved_by, d.paid_by)
        ),
        disbursement_actions={d.id: available_actions(actor, d) for d in paid_out.items},
        tranches=tranches,
        revisions=revisions,
        revision_actions={r.id: available_actions(actor, r) for r in revisions},
        requirements=[requirements.Stated(r, requirements.state_of(r, today)) for r in due],
        requirement_actions={r.id: available_actions(actor, r) for r in due},
        category_names=names,
        budget_categories=[names[c.category_code] for c in categories if c.category_code in names],
        today=date.today().isoformat(),
        new_key=uuid.uuid4().hex,
        problems=problems,
        problem_summary=[
            message
            for found in problems.values()
            for messages in found.values()
            if isinstance(messages, list)
            for message in messages
        ],
        kept=kept or {},
    )
    return page, status


@blueprint.get("/funds/<uuid:fund_id>")
@signed_in
def fund(fund_id: uuid.UUID) -> tuple[str, int]:
    return fund_page(fund_id)


@blueprint.post("/funds/<uuid:fund_id>/reports")
@signed_in
def create_report(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    try:
        data = load_form(ReportCreateSchema(), checkboxes=("interim",))
        made = expense_reports.create_report(
            current_web_actor(),
            fund_id,
            data["title"],
            data["interim"],
            request.form.get("idempotency_key"),  # the form's own: a second click opens the same report
        )
    except ValidationFailed as error:
        return fund_page(fund_id, 422, report=error.errors or {"title": [error.detail]})
    flash(gettext("The report is started. Add its lines one by one, then submit it."))
    return redirect(url_for("web.report", report_id=made.report.id))


@blueprint.post("/funds/<uuid:fund_id>/disbursements")
@signed_in
def prepare_disbursement(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    actor = current_web_actor()
    try:
        data = load_form(DisbursementCreateSchema())
        order = disbursements.DisbursementRequest(
            kind=data["kind"],
            amount=parse_amount(data["amount"], funds.get_fund(actor, fund_id).currency, "amount"),
            memo=data["memo"],
            tranche_id=data["tranche_id"],
        )
        disbursements.prepare_disbursement(actor, fund_id, order, request.form.get("idempotency_key"))
    except ValidationFailed as error:
        kept = request.form.to_dict()
        return fund_page(fund_id, 422, kept, disbursement=error.errors or {"amount": [error.detail]})
    except Conflict as refused:  # over the award, a tranche taken: the form again, as it was typed
        field = DISBURSEMENT_CONFLICT_FIELDS.get(refused.code, "fund")
        return fund_page(fund_id, 409, request.form.to_dict(), disbursement={field: [refused.detail]})
    flash(gettext("The disbursement is prepared. Another finance officer approves it before it is paid."))
    return redirect(url_for("web.fund", fund_id=fund_id, _anchor="disbursements"))


@blueprint.post("/disbursements/<uuid:disbursement_id>/approve")
@signed_in
def approve_disbursement(disbursement_id: uuid.UUID) -> Response:
    done = disbursements.approve_disbursement(current_web_actor(), disbursement_id)
    flash(gettext("The disbursement is approved. Mark it paid once the bank has paid it."))
    return redirect(url_for("web.fund", fund_id=done.fund_id, _anchor="disbursements"))


@blueprint.post("/disbursements/<uuid:disbursement_id>/pay")
@signed_in
def pay_disbursement(disbursement_id: uuid.UUID) -> tuple[str, int] | Response:
    actor = current_web_actor()
    try:
        data = load_form(PaySchema())
        done = disbursements.mark_paid(actor, disbursement_id, data["bank_reference"], data["paid_on"])
    except ValidationFailed as error:
        found = disbursements.get_disbursement(actor, disbursement_id)
        return fund_page(found.fund_id, 422, payment=error.errors or {"bank_reference": [error.detail]})
    flash(gettext("The disbursement is paid and booked."))
    return redirect(url_for("web.fund", fund_id=done.fund_id, _anchor="disbursements"))


@blueprint.post("/funds/<uuid:fund_id>/statement")
@signed_in
def fund_statement(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    try:
        data = load_form(StatementCreateSchema())
        period = StatementPeriod.parse(data["period"])
        issued = statements.issue_fund_use_statement(current_web_actor(), fund_id, period, data["lang"])
    except ValidationFailed as error:
        return fund_page(fund_id, 422, statement=error.errors)
    return _pdf(issued)


@blueprint.post("/organisations/<uuid:organisation_id>/statement")
@signed_in
def organisation_statement(organisation_id: uuid.UUID) -> Response:
    """The organisation's statements; the form's fields are hidden, so a refusal is the error page's."""
    data = load_form(StatementCreateSchema())
    issued = statements.issue_organisation_statements(
        current_web_actor(), organisation_id, StatementPeriod.parse(data["period"]), data["lang"]
    )
    return _pdf(issued)


def _pdf(issued: statements.IssuedStatement) -> Response:
    return pdf_response(issued)
