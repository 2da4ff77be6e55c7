"""The home page: each role's starting point."""

from __future__ import annotations

from typing import Any

from flask import render_template

from ledger.business_dates import business_today
from ledger.errors import NotFound
from ledger.models.expense_report import ReportStatus
from ledger.services import fund_reports, funds, requirements, waiting
from ledger.services.access import Permission, may
from ledger.services.actions import Action, available_actions, navigation
from ledger.services.audit_log import latest_checkpoint
from ledger.services.expense_reports import list_reports, member_work
from ledger.services.pagination import PageRequest
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint


def fund_cards(limit: int = 50) -> list[dict[str, Any]]:
    """Each visible fund with its summary and budget use per category (for the bars)."""
    visible = funds.list_funds(current_web_actor(), PageRequest(1, limit)).items
    # Summed for all the cards at once: a few grouped queries, not a dozen per fund.
    summaries, executions = fund_reports.fund_cards(visible)
    return [
        {"fund": fund, "summary": summaries[fund.id], "categories": executions[fund.id]} for fund in visible
    ]


@blueprint.get("/")
@signed_in
def home() -> str:
    actor = current_web_actor()
    places = navigation(actor)
    context: dict[str, Any] = {}
    if Action.FUNDS in places:
        context["cards"] = fund_cards()
    if may(actor, Permission.FILE_EXPENSE_REPORTS):
        context["work"] = member_work(actor)
        context["due"] = requirements.requirements_for(actor, business_today())
    if Action.QUEUE in places:
        context["waiting"] = list_reports(actor, PageRequest(1, 10), status=ReportStatus.SUBMITTED)
    if may(actor, Permission.MANAGE_DISBURSEMENTS):
        context["officer"] = waiting.officer_work(actor, business_today())
    listed = (
        context["due"].items
        if "due" in context
        else context["officer"].requirements.items
        if "officer" in context
        else []
    )
    # An annual report has no fund page: its "done" form is on the home page.
    context["due_actions"] = {s.requirement.id: available_actions(actor, s.requirement) for s in listed}
    if Action.AUDIT in places:
        try:
            context["checkpoint"] = latest_checkpoint(actor)
        except NotFound:
            context["checkpoint"] = None
    return render_template("web/home.html", **context)
