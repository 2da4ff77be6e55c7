"""Budget revisions on a fund's page, and an organisation's books: months, years and the trial balance."""

from __future__ import annotations

import uuid
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response

from ledger.errors import ValidationFailed
from ledger.inputs.books import PeriodCloseSchema, PeriodReopenSchema, YearReopenSchema
from ledger.inputs.funds import RevisionCreateSchema, RevisionDecisionSchema
from ledger.messages import translatable
from ledger.models.books import PeriodStatus
from ledger.services import budget_revisions, funds, periods, trial_balance, year_end
from ledger.services.access import Permission, may
from ledger.services.actions import available_actions
from ledger.services.amounts import parse_amount
from ledger.services.pagination import PageRequest
from ledger.web.forms import load_form
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint
from ledger.web.views.funds import fund_page


@blueprint.post("/funds/<uuid:fund_id>/revisions")
@signed_in
def propose_revision(fund_id: uuid.UUID) -> tuple[str, int] | Response:
    """Move an amount from one budget category to another (approval needed above the threshold)."""
    actor = current_web_actor()
    form = request.form
    try:
        # The form moves one amount between two categories: the API's changes, written for a person.
        reason = load_form(RevisionCreateSchema(only=("reason",)))["reason"]
        fund = funds.get_fund(actor, fund_id)
        amount = parse_amount(form.get("amount", ""), fund.currency, "amount")
        source, target = form.get("from", ""), form.get("to", "")
        if not source or not target or source == target:
            raise ValidationFailed.field("to", translatable("choose two different categories"))
        budget_revisions.propose_budget_revision(
            actor,
            fund_id,
            {source: -amount, target: amount},
            reason,
            form.get("idempotency_key"),  # the form's own: a second click proposes nothing more
        )
    except ValidationFailed as error:
        return fund_page(fund_id, 422, revision=error.errors or {"reason": [error.detail]})
    flash(gettext("The budget change is proposed; a finance officer decides it when it needs approval."))
    return redirect(url_for("web.fund", fund_id=fund_id, _anchor="revisions"))


@blueprint.post("/revisions/<uuid:revision_id>/decide")
@signed_in
def decide_revision(revision_id: uuid.UUID) -> tuple[str, int] | Response:
    actor = current_web_actor()
    try:
        note = load_form(RevisionDecisionSchema())["note"]
    except ValidationFailed as error:
        # Shown at the revision's own row on the fund page, as every other refused field is.
        fund_id = budget_revisions.get_budget_revision(actor, revision_id).fund_id
        return fund_page(fund_id, 422, decision={str(revision_id): error.errors})
    revision = budget_revisions.decide_budget_revision(
        actor,
        revision_id,
        approve=request.form.get("decision") == "approve",
        note=note,
        expected_version=None,
    )
    flash(
        gettext("The budget change is approved.")
        if revision.status == "approved"
        else gettext("The budget change is rejected.")
    )
    return redirect(url_for("web.fund", fund_id=revision.fund_id, _anchor="revisions"))


@blueprint.get("/organisations/<uuid:organisation_id>/books")
@signed_in
def organisation_books(organisation_id: uuid.UUID) -> str:
    return _books_page(organisation_id)[0]


def _books_page(
    organisation_id: uuid.UUID, status: int = 200, problems: dict[str, dict[str, list[str]]] | None = None
) -> tuple[str, int]:
    """The books page; ``problems`` are a refused month's or year's fields, keyed ``2026-03`` or ``2026``."""
    actor = current_web_actor()
    try:
        as_of = date.fromisoformat(request.args.get("as_of", ""))
    except ValueError:
        as_of = date.today()
    trial = trial_balance.trial_balance(actor, organisation_id, as_of)
    months = periods.list_periods(actor, organisation_id, PageRequest(1, 120)).items
    years = year_end.year_states(actor, organisation_id)
    return render_template(
        "web/books.html",
        organisation_id=organisation_id,
        organisation_name=periods.existing_organisation(organisation_id).name,
        trial=trial,
        balance_totals=trial.balance_totals(),
        periods=months,
        period_actions={p.id: available_actions(actor, p) for p in months},
        years=years,
        year_actions={y.year: available_actions(actor, y) for y in years},
        closed_years={y.year for y in years if y.status is year_end.YearStatus.CLOSED},
        # Whether to say why a month or a year cannot be closed: only to those who close them.
        keeps_books=may(actor, Permission.CLOSE_PERIODS, organisation_id),
        as_of=as_of.isoformat(),
        problems=problems or {},
    ), status


@blueprint.post("/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>")
@signed_in
def change_period(organisation_id: uuid.UUID, year: int, month: int) -> tuple[str, int] | Response:
    """Close a month, or reopen it with the reason the form asks for."""
    closing = request.form.get("action") == "close"
    status = PeriodStatus.CLOSED if closing else PeriodStatus.OPEN
    try:
        data = load_form(PeriodCloseSchema() if closing else PeriodReopenSchema())
        periods.set_period_status(
            current_web_actor(),
            organisation_id,
            year,
            month,
            status,
            data.get("reason"),
            None,
            force=data.get("force", False),
        )
    except ValidationFailed as error:
        return _books_page(organisation_id, 422, {f"{year}-{month:02d}": error.errors})
    period = f"{year}-{month:02d}"
    flash(
        gettext("%(period)s is closed: nothing more is booked in it.", period=period)
        if closing
        else gettext("%(period)s is reopened; the reason is recorded.", period=period)
    )
    return redirect(url_for("web.organisation_books", organisation_id=organisation_id))


@blueprint.get("/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/close")
@signed_in
def confirm_period_close(organisation_id: uuid.UUID, year: int, month: int) -> str:
    """The confirmation step: the month to be closed and its figures, before closing it."""
    actor = current_web_actor()
    preview = trial_balance.month_to_close(actor, organisation_id, year, month)
    return render_template(
        "web/period_close.html",
        organisation_id=organisation_id,
        organisation_name=periods.existing_organisation(organisation_id).name,
        preview=preview,
        month_label=f"{year}-{month:02d}",
        movement_totals=preview.movements.totals(),
        balance_totals=preview.at_month_end.balance_totals(),
    )


@blueprint.get("/organisations/<uuid:organisation_id>/years/<int:year>/close")
@signed_in
def confirm_year_close(organisation_id: uuid.UUID, year: int) -> str:
    """The confirmation step: the closing entries the year-end close would post, before posting them."""
    actor = current_web_actor()
    plan = year_end.preview_year_close(actor, organisation_id, year)
    fund_ids = {line.fund_id for entry in plan for line in entry.lines if line.fund_id is not None}
    state = year_end.year_state(actor, organisation_id, year)
    return render_template(
        "web/year_close.html",
        organisation_id=organisation_id,
        year=year,
        state=state,
        actions=available_actions(actor, state),
        plan=plan,
        fund_references={fund_id: funds.get_fund(actor, fund_id).reference for fund_id in fund_ids},
    )


@blueprint.post("/organisations/<uuid:organisation_id>/years/<int:year>/close")
@signed_in
def close_year(organisation_id: uuid.UUID, year: int) -> Response:
    """Close the year (年末结转): revenue and expenses into net assets."""
    closed = year_end.close_year(current_web_actor(), organisation_id, year)
    count = len(closed.entries)
    flash(
        ngettext(
            "%(year)s is closed: %(num)s closing entry posted.",
            "%(year)s is closed: %(num)s closing entries posted.",
            count,
            year=year,
        )
    )
    return redirect(url_for("web.organisation_books", organisation_id=organisation_id, _anchor="years"))


@blueprint.post("/organisations/<uuid:organisation_id>/years/<int:year>/reopen")
@signed_in
def reopen_year(organisation_id: uuid.UUID, year: int) -> tuple[str, int] | Response:
    """Reopen a closed year by reversing its closing entries, with the reason the form asks for."""
    try:
        reason = load_form(YearReopenSchema())["reason"]
        year_end.reopen_year(current_web_actor(), organisation_id, year, reason)
    except ValidationFailed as error:
        return _books_page(organisation_id, 422, {str(year): error.errors})
    flash(gettext("%(year)s is reopened: its closing entries are reversed.", year=year))
    return redirect(url_for("web.organisation_books", organisation_id=organisation_id, _anchor="years"))
