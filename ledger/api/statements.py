"""Statements API: each statement's figures as JSON (GET), and the signed-off PDF (POST).

Reading the figures changes nothing. Issuing the PDF is an audited action: it is drawn from a
signed audit checkpoint and recorded in the trail with the document's SHA-256, hence POST.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView

from ledger.api.common import Blueprint, reader_language, xlsx_doc, xlsx_response
from ledger.api.security import API_PREFIX, current_actor
from ledger.inputs.statements import (
    AttestationCreateSchema,
    DisclosureCreateSchema,
    DisclosureQuerySchema,
    PeriodQuerySchema,
    StatementCreateSchema,
)
from ledger.services import spreadsheets
from ledger.services import statements as service
from ledger.statements.http import pdf_response
from ledger.statements.period import StatementPeriod

blp = Blueprint(
    "statements",
    __name__,
    url_prefix=API_PREFIX,
    description="Compliance statements: figures as JSON, PDF/A-3b documents drawn from a signed checkpoint",
)

PDF_RESPONSE = {
    "200": {
        "description": "the statement as PDF/A-3b, its figures attached as statement.json",
        "content": {"application/pdf": {}},
    }
}


FIGURES_RESPONSE = {
    "200": {
        "description": "the statement's figures (amounts as decimal strings); the PDF embeds the same object",
        "content": {"application/json": {"schema": {"type": "object", "required": ["statement"]}}},
    }
}


@blp.route("/funds/<uuid:fund_id>/statements/fund-use")
class FundUseStatement(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.doc(responses=FIGURES_RESPONSE)
    def get(self, query: dict[str, Any], fund_id: uuid.UUID) -> dict[str, Any]:
        """The fund-use statement's figures for a period (资金使用情况表)"""
        return service.fund_use_report(current_actor(), fund_id, StatementPeriod.parse(query["period"]))

    @blp.arguments(StatementCreateSchema)
    @blp.doc(responses=PDF_RESPONSE)
    def post(self, data: dict[str, Any], fund_id: uuid.UUID) -> Response:
        """Issue the fund-use statement as a PDF (recorded in the audit trail)"""
        period = StatementPeriod.parse(data["period"])
        return pdf_response(service.issue_fund_use_statement(current_actor(), fund_id, period, data["lang"]))


@blp.route("/funds/<uuid:fund_id>/statements/fund-use.xlsx")
class FundUseSpreadsheet(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.doc(responses=xlsx_doc("the fund-use statement's figures (totals, categories, payments)"))
    def get(self, query: dict[str, Any], fund_id: uuid.UUID) -> Response:
        """The fund-use statement's figures for a period, as a spreadsheet (XLSX)"""
        period = StatementPeriod.parse(query["period"])
        made = spreadsheets.fund_use_download(current_actor(), fund_id, period, reader_language())
        return xlsx_response(made.filename, made.content)


@blp.route("/organisations/<uuid:organisation_id>/statements/financial")
class OrganisationStatements(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.doc(responses=FIGURES_RESPONSE)
    def get(self, query: dict[str, Any], organisation_id: uuid.UUID) -> dict[str, Any]:
        """Balance sheet, statement of activities and cash-flow statement (会民非01/02/03表) for a period"""
        period = StatementPeriod.parse(query["period"])
        return service.organisation_report(current_actor(), organisation_id, period)

    @blp.arguments(StatementCreateSchema)
    @blp.doc(responses=PDF_RESPONSE)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Response:
        """Issue the organisation's balance sheet, statement of activities and cash flows as a PDF"""
        period = StatementPeriod.parse(data["period"])
        issued = service.issue_organisation_statements(current_actor(), organisation_id, period, data["lang"])
        return pdf_response(issued)


@blp.route("/statements/lottery-disclosure")
class LotteryDisclosure(MethodView):
    @blp.arguments(DisclosureQuerySchema, location="query")
    @blp.doc(responses=FIGURES_RESPONSE)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """A funder's welfare-lottery usage disclosure for a year (彩票公益金使用情况公告)"""
        return service.lottery_disclosure_report(current_actor(), query["funder"], query["year"])

    @blp.arguments(DisclosureCreateSchema)
    @blp.doc(responses=PDF_RESPONSE)
    def post(self, data: dict[str, Any]) -> Response:
        """Issue the lottery-fund usage disclosure as a PDF"""
        issued = service.issue_lottery_disclosure(current_actor(), data["funder"], data["year"], data["lang"])
        return pdf_response(issued)


@blp.route("/statements/lottery-disclosure.xlsx")
class LotteryDisclosureSpreadsheet(MethodView):
    @blp.arguments(DisclosureQuerySchema, location="query")
    @blp.doc(responses=xlsx_doc("the disclosure's projects and spending by category"))
    def get(self, query: dict[str, Any]) -> Response:
        """A funder's welfare-lottery disclosure figures for a year, as a spreadsheet (XLSX)"""
        made = spreadsheets.lottery_disclosure_download(
            current_actor(), query["funder"], query["year"], reader_language()
        )
        return xlsx_response(made.filename, made.content)


@blp.route("/audit/attestation")
class Attestation(MethodView):
    @blp.doc(responses=FIGURES_RESPONSE)
    def get(self) -> dict[str, Any]:
        """Verify the audit trail now and return the result (auditors)"""
        return service.attestation_report(current_actor())

    # Optional body: its one field has a default, so an empty POST is a complete request.
    @blp.arguments(AttestationCreateSchema, required=False)
    @blp.doc(responses=PDF_RESPONSE)
    def post(self, data: dict[str, Any]) -> Response:
        """Issue an audit attestation as a PDF: a fresh checkpoint, verified, for an auditor to sign"""
        return pdf_response(service.issue_attestation(current_actor(), data["lang"]))
