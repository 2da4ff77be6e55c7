"""Expense reports API: filing, submitting and reviewing reports, and their receipts."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_smorest.fields import Upload
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import (
    CREATED_ID,
    Blueprint,
    ResponseSchema,
    created_links,
    enum_value_field,
    if_match_version,
    link,
    page_request,
    reader_language,
    requires_if_match,
    xlsx_doc,
    xlsx_response,
)
from ledger.api.security import API_PREFIX, accepts_uploads, current_actor
from ledger.inputs.common import MONEY, DatedReasonSchema, StrictSchema
from ledger.inputs.expense_reports import CommentSchema, LinesSetSchema, ReportCreateSchema
from ledger.models.expense_report import ExpenseReport, Receipt, ReportStatus
from ledger.models.fund import Fund
from ledger.money import Money
from ledger.services import expense_decisions, expense_lines, idempotency, invoices, receipts, spreadsheets
from ledger.services import expense_reports as service
from ledger.services.amounts import parse_amount
from ledger.services.funds import get_fund

blp = Blueprint(
    "expense_reports",
    __name__,
    url_prefix=API_PREFIX,
    description="Expense reports with receipts: filed by organisations, reviewed by finance officers.",
)


def _optional_if_match() -> int | None:
    """Actions take If-Match when the client has it; the status checks guard them anyway."""
    return if_match_version() if "If-Match" in request.headers else None


class ReportQuerySchema(StrictSchema):
    fund_id = ma.fields.UUID()
    status = ma.fields.Enum(
        ReportStatus,
        by_value=True,
        metadata={"description": "status=submitted is the review queue, oldest first"},
    )

    class Meta:
        unknown = ma.EXCLUDE  # page and page_size are read by the pager


class LineSchema(ResponseSchema):
    number = ma.fields.Integer()
    category_code = ma.fields.String()
    amount = ma.fields.String(metadata=MONEY)
    incurred_on = ma.fields.Date()
    payee = ma.fields.String()
    description = ma.fields.String()
    receipt_sha256 = ma.fields.String(allow_none=True)
    receipt_kind = ma.fields.String()
    invoice_code = ma.fields.String(allow_none=True)
    invoice_number = ma.fields.String(allow_none=True)
    invoice_date = ma.fields.Date(allow_none=True)
    invoice_amount = ma.fields.String(allow_none=True, metadata=MONEY)
    seller_name = ma.fields.String(allow_none=True)
    seller_taxpayer_id = ma.fields.String(allow_none=True)
    invoice_verified_by = ma.fields.String(allow_none=True)
    invoice_verified_at = ma.fields.AwareDateTime(allow_none=True)
    near_duplicates = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "other lines with the same seller, invoice date and amount but another invoice: "
            "{report_id, report_title, line}, all null for a report you may not see"
        },
    )


class InvoiceUploadSchema(ResponseSchema):
    file = Upload(required=True, metadata={"description": "a digital invoice's XML (数电发票, UTF-8)"})


class ParsedInvoiceSchema(ResponseSchema):
    receipt_kind = ma.fields.String()
    invoice_number = ma.fields.String()
    invoice_date = ma.fields.Date(allow_none=True)
    seller_name = ma.fields.String(allow_none=True)
    seller_taxpayer_id = ma.fields.String(allow_none=True)
    invoice_amount = ma.fields.String(allow_none=True, metadata=MONEY)


class ReportSchema(ResponseSchema):
    id = ma.fields.UUID()
    fund_id = ma.fields.UUID()
    organisation_id = ma.fields.UUID()
    title = ma.fields.String()
    interim = ma.fields.Boolean()
    status = enum_value_field(ReportStatus)
    filed_by = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    decided_by = ma.fields.String(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    comments = ma.fields.List(ma.fields.Dict())
    journal_entry_id = ma.fields.UUID(allow_none=True)
    voided_by = ma.fields.String(allow_none=True)
    voided_at = ma.fields.AwareDateTime(allow_none=True)
    total = ma.fields.String(metadata=MONEY)
    lines = ma.fields.List(ma.fields.Nested(LineSchema))
    version = ma.fields.Integer()


class ReceiptUploadSchema(ResponseSchema):
    file = Upload(required=True, metadata={"description": "a PDF, JPEG or PNG"})


class ReceiptSchema(ResponseSchema):
    sha256 = ma.fields.String()
    media_type = ma.fields.String()
    size = ma.fields.Integer()
    organisation_id = ma.fields.UUID()
    uploaded_at = ma.fields.AwareDateTime()


def _report_body(report: ExpenseReport, fund: Fund | None = None) -> dict[str, Any]:
    fund = fund if fund is not None else get_fund(current_actor(), report.fund_id)
    near = invoices.near_duplicates(current_actor(), report)
    lines = [
        {
            "number": line.number,
            "category_code": line.category_code,
            "amount": str(Money(fund.currency, line.amount_minor)),
            "incurred_on": line.incurred_on,
            "payee": line.payee,
            "description": line.description,
            "receipt_sha256": line.receipt_sha256,
            "receipt_kind": line.receipt_kind,
            "invoice_code": line.invoice_code,
            "invoice_number": line.invoice_number,
            "invoice_date": line.invoice_date,
            "invoice_amount": (
                str(Money(fund.currency, line.invoice_amount_minor))
                if line.invoice_amount_minor is not None
                else None
            ),
            "seller_name": line.seller_name,
            "seller_taxpayer_id": line.seller_taxpayer_id,
            "invoice_verified_by": line.invoice_verified_by,
            "invoice_verified_at": line.invoice_verified_at,
            "near_duplicates": [found.as_json() for found in near.get(line.number, [])],
        }
        for line in report.lines
    ]
    total = Money(fund.currency, sum(line.amount_minor for line in report.lines))
    body = {name: getattr(report, name) for name in _REPORT_ATTRIBUTES}
    return {**body, "lines": lines, "total": str(total)}


_REPORT_ATTRIBUTES = tuple(name for name in ReportSchema().fields if name not in ("lines", "total"))


def _with_etag(report: ExpenseReport, status: int = 200) -> tuple[dict[str, Any], int, dict[str, str]]:
    return _report_body(report), status, {"ETag": f'"{report.version}"'}


@blp.route("/expense-reports")
class Reports(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
        """List the reports you may see (status=submitted: the review queue, oldest first)"""
        actor = current_actor()
        page = service.list_reports(actor, page_request(pagination_parameters), **query)
        pagination_parameters.item_count = page.total
        # A page usually holds a few funds' reports: look each fund up once, not once per report.
        funds = {fund_id: get_fund(actor, fund_id) for fund_id in {r.fund_id for r in page.items}}
        return [_report_body(r, funds[r.fund_id]) for r in page.items]


@blp.route("/expense-reports.xlsx")
class ReportsSpreadsheet(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.doc(responses=xlsx_doc("every report of the list (not a page of it; at most 10,000, else 422)"))
    def get(self, query: dict[str, Any]) -> Response:
        """The reports you may see (status=submitted: the review queue), as a spreadsheet (XLSX)"""
        made = spreadsheets.reports_download(current_actor(), reader_language(), **query)
        return xlsx_response(made.filename, made.content)


@blp.route("/funds/<uuid:fund_id>/expense-reports")
class FundReports(MethodView):
    @blp.arguments(ReportCreateSchema)
    @blp.response(201, ReportSchema)
    @blp.alt_response(200, schema=ReportSchema, description="A retry with the same Idempotency-Key and body")
    @blp.doc(parameters=[idempotency.header_parameter()])
    @created_links(
        get=link("get", f"{API_PREFIX}/expense-reports/{{report_id}}", report_id=CREATED_ID),
        set_lines=link(
            "put", f"{API_PREFIX}/expense-reports/{{report_id}}/lines", if_match=True, report_id=CREATED_ID
        ),
        submit=link("post", f"{API_PREFIX}/expense-reports/{{report_id}}/submit", report_id=CREATED_ID),
    )
    def post(self, data: dict[str, Any], fund_id: uuid.UUID) -> Any:
        """Start a draft report on a fund (organisation members; Idempotency-Key required)"""
        key = request.headers.get(idempotency.HEADER)
        made = service.create_report(current_actor(), fund_id, data["title"], data["interim"], key)
        return _with_etag(made.report, 201 if made.created else 200)


@blp.route("/expense-reports/<uuid:report_id>")
class ReportById(MethodView):
    @blp.response(200, ReportSchema)
    def get(self, report_id: uuid.UUID) -> Any:
        """Get a report with its lines and comments"""
        return _with_etag(service.get_report(current_actor(), report_id))


@blp.route("/expense-reports/<uuid:report_id>/lines")
class ReportLines(MethodView):
    @blp.arguments(LinesSetSchema)
    @blp.response(200, ReportSchema)
    @requires_if_match
    def put(self, data: dict[str, Any], report_id: uuid.UUID) -> Any:
        """Replace a draft or returned report's lines (send If-Match)"""
        actor = current_actor()
        report = service.get_report(actor, report_id)
        currency = get_fund(actor, report.fund_id).currency
        lines = [
            expense_lines.LineInput(
                category_code=line["category_code"],
                amount=parse_amount(line["amount"], currency, f"lines.{index}.amount"),
                incurred_on=line["incurred_on"],
                payee=line["payee"],
                description=line["description"],
                receipt_sha256=line["receipt_sha256"],
                receipt_kind=line["receipt_kind"],
                invoice_code=line["invoice_code"],
                invoice_number=line["invoice_number"],
                invoice_date=line["invoice_date"],
                invoice_amount=(
                    parse_amount(line["invoice_amount"], currency, f"lines.{index}.invoice_amount")
                    if line["invoice_amount"] is not None
                    else None
                ),
                seller_name=line["seller_name"],
                seller_taxpayer_id=line["seller_taxpayer_id"],
            )
            for index, line in enumerate(data["lines"])
        ]
        return _with_etag(expense_lines.set_lines(actor, report_id, lines, if_match_version()))


@blp.route("/expense-reports/<uuid:report_id>/lines/<int:number>/invoice-verification")
class LineInvoiceVerification(MethodView):
    @blp.response(200, ReportSchema)
    def post(self, report_id: uuid.UUID, number: int) -> Any:
        """Record that a line's invoice was verified (finance officers of its organisation; not the filer)

        The official check is the tax administration's online service; this records who checked and when.
        """
        return _with_etag(expense_lines.verify_invoice(current_actor(), report_id, number))


@blp.route("/invoices/parse")
class InvoiceParse(MethodView):
    @accepts_uploads
    @blp.arguments(InvoiceUploadSchema, location="files")
    @blp.response(200, ParsedInvoiceSchema)
    def post(self, files: dict[str, Any]) -> dict[str, Any]:
        """Read a digital invoice's XML and return its fields, to fill a line with (nothing is stored)"""
        upload = files["file"]
        try:
            data = upload.read()
        finally:
            upload.close()
        parsed = invoices.read_invoice_xml(current_actor(), data, "file")
        return {
            "receipt_kind": parsed.receipt_kind,
            "invoice_number": parsed.invoice_number,
            "invoice_date": parsed.invoice_date,
            "seller_name": parsed.seller_name,
            "seller_taxpayer_id": parsed.seller_taxpayer_id,
            "invoice_amount": str(parsed.amount) if parsed.amount is not None else None,
        }


@blp.route("/expense-reports/<uuid:report_id>/submit")
class SubmitReport(MethodView):
    @blp.response(200, ReportSchema)
    def post(self, report_id: uuid.UUID) -> Any:
        """Submit a report for review; every rule is checked and each problem names its line"""
        return _with_etag(expense_decisions.submit_report(current_actor(), report_id, _optional_if_match()))


@blp.route("/expense-reports/<uuid:report_id>/approve")
class ApproveReport(MethodView):
    @blp.response(200, ReportSchema)
    def post(self, report_id: uuid.UUID) -> Any:
        """Approve and book a submitted report (finance officers); the rules are checked again"""
        return _with_etag(expense_decisions.approve_report(current_actor(), report_id, _optional_if_match()))


@blp.route("/expense-reports/<uuid:report_id>/void")
class VoidReport(MethodView):
    @blp.arguments(DatedReasonSchema)
    @blp.response(200, ReportSchema)
    def post(self, data: dict[str, Any], report_id: uuid.UUID) -> Any:
        """Void an approved report: its spending and restriction release are reversed on the date given

        Finance officers who did not file it; the reason is kept with the report.
        """
        return _with_etag(
            expense_decisions.void_report(
                current_actor(), report_id, data["entry_date"], data["reason"], _optional_if_match()
            )
        )


@blp.route("/expense-reports/<uuid:report_id>/return")
class ReturnReport(MethodView):
    @blp.arguments(CommentSchema)
    @blp.response(200, ReportSchema)
    def post(self, data: dict[str, Any], report_id: uuid.UUID) -> Any:
        """Return a submitted report with a comment; it can be fixed and submitted again"""
        return _with_etag(
            expense_decisions.return_report(current_actor(), report_id, data["comment"], _optional_if_match())
        )


@blp.route("/expense-reports/<uuid:report_id>/reject")
class RejectReport(MethodView):
    @blp.arguments(CommentSchema)
    @blp.response(200, ReportSchema)
    def post(self, data: dict[str, Any], report_id: uuid.UUID) -> Any:
        """Reject a submitted report with a comment"""
        return _with_etag(
            expense_decisions.reject_report(current_actor(), report_id, data["comment"], _optional_if_match())
        )


@blp.route("/organisations/<uuid:organisation_id>/receipts")
class Receipts(MethodView):
    @accepts_uploads
    @blp.arguments(ReceiptUploadSchema, location="files")
    @blp.response(201, ReceiptSchema)
    @created_links(
        retried=False,
        download=link("get", f"{API_PREFIX}/receipts/{{sha256}}", sha256="$response.body#/sha256"),
    )
    def post(self, files: dict[str, Any], organisation_id: uuid.UUID) -> Receipt:
        """Upload a receipt (PDF, JPEG or PNG, checked by content); it is stored encrypted"""
        upload = files["file"]
        try:
            data = upload.read()
        finally:
            upload.close()  # large uploads are spooled to a temporary file
        return receipts.upload_receipt(current_actor(), organisation_id, data)


@blp.route("/receipts/<string:sha256>")
class ReceiptById(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "the receipt as uploaded",
                "content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}},
            }
        }
    )
    def get(self, sha256: str) -> Response:
        """Download a receipt (its organisation, finance officers, auditors, admins)"""
        receipt, data = receipts.read_receipt(current_actor(), sha256)
        response = Response(data, mimetype=receipt.media_type)
        response.headers["Content-Disposition"] = f'attachment; filename="receipt-{receipt.sha256[:12]}"'
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response.headers["Cache-Control"] = "private, no-store"
        return response
