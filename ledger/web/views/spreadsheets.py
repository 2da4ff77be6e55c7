"""Spreadsheet (XLSX) downloads from the pages: the same downloads as the API's ``….xlsx`` endpoints.

Each calls the service the page's figures come from (``ledger.services.spreadsheets``), with the
signed-in person's access and the page's language; docs/spreadsheets.md lists them.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Response, request

from ledger.exports.spreadsheet import CONTENT_TYPE
from ledger.models.expense_report import ReportStatus
from ledger.services import spreadsheets
from ledger.web.i18n import language
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint


def spreadsheet_response(made: spreadsheets.Download) -> Response:
    response = Response(made.content, mimetype=CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@blueprint.post("/queue.xlsx")
@signed_in
def queue_xlsx() -> Response:
    made = spreadsheets.reports_download(
        current_web_actor(),
        language(),
        fund_id=_uuid(request.args.get("fund")),
        status=ReportStatus.SUBMITTED,
    )
    return spreadsheet_response(made)


@blueprint.post("/funds/<uuid:fund_id>/budget-vs-actual.xlsx")
@signed_in
def budget_vs_actual_xlsx(fund_id: uuid.UUID) -> Response:
    return spreadsheet_response(
        spreadsheets.budget_vs_actual_download(current_web_actor(), fund_id, language())
    )


@blueprint.post("/funds/<uuid:fund_id>/summary.xlsx")
@signed_in
def fund_summary_xlsx(fund_id: uuid.UUID) -> Response:
    return spreadsheet_response(spreadsheets.summary_download(current_web_actor(), fund_id, language()))


@blueprint.post("/organisations/<uuid:organisation_id>/trial-balance.xlsx")
@signed_in
def trial_balance_xlsx(organisation_id: uuid.UUID) -> Response:
    try:
        as_of = date.fromisoformat(request.args.get("as_of", ""))
    except ValueError:
        as_of = date.today()
    made = spreadsheets.trial_balance_download(current_web_actor(), organisation_id, as_of, language())
    return spreadsheet_response(made)


@blueprint.post("/organisations/<uuid:organisation_id>/journal.xlsx")
@signed_in
def journal_xlsx(organisation_id: uuid.UUID) -> Response:
    return spreadsheet_response(
        spreadsheets.journal_download(current_web_actor(), organisation_id, language())
    )
