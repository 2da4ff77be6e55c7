"""Funds API: funding agreements, their lifecycle, budgets and budget revisions."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import (
    CREATED_ID,
    Blueprint,
    ResponseSchema,
    created_links,
    created_with_etag,
    enum_value_field,
    idempotency_key,
    if_match_version,
    link,
    page_request,
    reader_language,
    requires_if_match,
    with_etag,
    xlsx_doc,
    xlsx_response,
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.inputs.common import MONEY, StrictSchema
from ledger.inputs.funds import (
    UPDATE_FIELDS_OPTIONAL,
    BudgetSetSchema,
    FundCreateSchema,
    FundUpdateSchema,
    RevisionCreateSchema,
    RevisionDecisionSchema,
    fund_terms_changes,
)
from ledger.models.fund import BudgetRevision, Fund, FundKind, FundStatus, RevisionStatus
from ledger.money import Money
from ledger.services import budget_revisions, fund_reports, idempotency, spreadsheets
from ledger.services import funds as service
from ledger.services.amounts import parse_amount

blp = Blueprint(
    "funds",
    __name__,
    url_prefix=API_PREFIX,
    description="Funds (incubation funds, lottery grants, procurement contracts), budgets and revisions.",
)


class FundSchema(ResponseSchema):
    id = ma.fields.UUID()
    kind = enum_value_field(FundKind)
    title = ma.fields.String()
    reference = ma.fields.String()
    funder_name = ma.fields.String()
    funder_credit_code = ma.fields.String(allow_none=True)
    funding_division_code = ma.fields.String(
        allow_none=True, metadata={"description": "The funding body's node; null: the whole deployment"}
    )
    organisation_id = ma.fields.UUID()
    currency = ma.fields.String()
    award = ma.fields.Function(lambda f: str(Money(f.currency, f.award_minor)), metadata=MONEY)
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    restricted = ma.fields.Boolean()
    restriction_purpose = ma.fields.String(allow_none=True)
    revenue_account = ma.fields.String()
    admin_cost_cap_percent = ma.fields.Function(
        lambda f: None if f.admin_cost_cap_bp is None else f"{f.admin_cost_cap_bp / 100:.2f}"
    )
    banned_categories = ma.fields.List(ma.fields.String())
    category_list_version = ma.fields.String()
    milestones = ma.fields.List(ma.fields.Dict())
    disclosure_deadline = ma.fields.Date(allow_none=True)
    awarded_on = ma.fields.Date(allow_none=True)
    signed_on = ma.fields.Date(allow_none=True)
    label_required = ma.fields.Boolean()
    status = enum_value_field(FundStatus)
    version = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()


class FundQuerySchema(StrictSchema):
    organisation_id = ma.fields.UUID()
    kind = ma.fields.Enum(FundKind, by_value=True)
    status = ma.fields.Enum(FundStatus, by_value=True)

    class Meta:
        unknown = ma.EXCLUDE  # page and page_size are read by the pager


class BudgetQuerySchema(StrictSchema):
    as_of = ma.fields.Date(
        load_default=None, metadata={"description": "the budget as it stood at the end of this day"}
    )


class BudgetSchema(ResponseSchema):
    fund_id = ma.fields.UUID()
    currency = ma.fields.String()
    as_of = ma.fields.Date(allow_none=True)
    lines = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), metadata={"example": {"TRAVEL": "12000.00"}}
    )
    total = ma.fields.String(metadata=MONEY)


class RevisionSchema(ResponseSchema):
    id = ma.fields.UUID()
    fund_id = ma.fields.UUID()
    changes = ma.fields.List(ma.fields.Dict())
    reason = ma.fields.String()
    status = enum_value_field(RevisionStatus)
    proposed_by = ma.fields.String()
    proposed_at = ma.fields.AwareDateTime()
    decided_by = ma.fields.String(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decision_note = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


def _budget_body(fund: Fund, lines: dict[str, Money], as_of: date | None = None) -> dict[str, Any]:
    return {
        "fund_id": fund.id,
        "currency": fund.currency,
        "as_of": as_of,
        "lines": {code: str(amount) for code, amount in sorted(lines.items())},
        "total": str(Money(fund.currency, sum(a.minor for a in lines.values()))),
    }


@blp.route("/funds")
class Funds(MethodView):
    @blp.arguments(FundQuerySchema, location="query")
    @blp.response(200, FundSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Fund]:
        """List the funds you may see"""
        page = service.list_funds(current_actor(), page_request(pagination_parameters), **query)
        pagination_parameters.item_count = page.total
        return page.items

    @blp.arguments(FundCreateSchema)
    @blp.response(201, FundSchema)
    @blp.alt_response(200, schema=FundSchema, description="A retry with the same Idempotency-Key and body")
    @blp.doc(parameters=[idempotency.header_parameter()])
    @created_links(
        get=link("get", f"{API_PREFIX}/funds/{{fund_id}}", fund_id=CREATED_ID),
        change=link("patch", f"{API_PREFIX}/funds/{{fund_id}}", fund_id=CREATED_ID, if_match=True),
        budget=link("get", f"{API_PREFIX}/funds/{{fund_id}}/budget", fund_id=CREATED_ID),
        set_budget=link("put", f"{API_PREFIX}/funds/{{fund_id}}/budget", fund_id=CREATED_ID),
        tranches=link("get", f"{API_PREFIX}/funds/{{fund_id}}/tranches", fund_id=CREATED_ID),
        set_tranches=link("put", f"{API_PREFIX}/funds/{{fund_id}}/tranches", fund_id=CREATED_ID),
        activate=link("post", f"{API_PREFIX}/funds/{{fund_id}}/activate", if_match=True, fund_id=CREATED_ID),
        summary=link("get", f"{API_PREFIX}/funds/{{fund_id}}/summary", fund_id=CREATED_ID),
        budget_revisions=link("get", f"{API_PREFIX}/funds/{{fund_id}}/budget-revisions", fund_id=CREATED_ID),
        file_report=link("post", f"{API_PREFIX}/funds/{{fund_id}}/expense-reports", fund_id=CREATED_ID),
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Draft a fund (admins; Idempotency-Key required)"""
        terms = service.FundTerms(**fund_terms_changes(data, data["currency"]))
        return created_with_etag(service.create_fund(current_actor(), terms, idempotency_key()))


@blp.route("/funds/<uuid:fund_id>")
class FundById(MethodView):
    @blp.response(200, FundSchema)
    def get(self, fund_id: uuid.UUID) -> Any:
        """Get a fund"""
        return with_etag(service.get_fund(current_actor(), fund_id))

    @blp.arguments(FundUpdateSchema(partial=UPDATE_FIELDS_OPTIONAL))
    @blp.response(200, FundSchema)
    @requires_if_match
    def patch(self, data: dict[str, Any], fund_id: uuid.UUID) -> Any:
        """Change a draft fund's terms (admins; send If-Match)"""
        actor = current_actor()
        currency = data.get("currency") or service.get_fund(actor, fund_id).currency
        fund = service.update_fund(actor, fund_id, fund_terms_changes(data, currency), if_match_version())
        return with_etag(fund)


def _status_view(action: str, summary: str) -> type[MethodView]:
    class StatusChange(MethodView):
        @blp.response(200, FundSchema)
        @requires_if_match
        def post(self, fund_id: uuid.UUID) -> Any:
            return with_etag(service.change_fund_status(current_actor(), fund_id, action, if_match_version()))

    StatusChange.post.__doc__ = summary
    StatusChange.__name__ = f"Fund{action.capitalize()}"
    return StatusChange


for _action, _summary in (
    ("activate", "Activate a draft fund whose budget adds up to the award (admins; send If-Match)"),
    ("suspend", "Suspend an active fund: no spending until resumed (admins; send If-Match)"),
    ("resume", "Resume a suspended fund (admins; send If-Match)"),
    ("close", "Close a fund with no unspent cash left (admins; send If-Match)"),
):
    blp.route(f"/funds/<uuid:fund_id>/{_action}", endpoint=f"fund_{_action}")(_status_view(_action, _summary))


@blp.route("/funds/<uuid:fund_id>/budget")
class Budget(MethodView):
    @blp.arguments(BudgetQuerySchema, location="query")
    @blp.response(200, BudgetSchema)
    def get(self, query: dict[str, Any], fund_id: uuid.UUID) -> dict[str, Any]:
        """A fund's budget per category, now or as it stood on a date"""
        as_of = query["as_of"]
        fund, lines = service.read_budget(current_actor(), fund_id, as_of)
        return _budget_body(fund, lines, as_of)

    @blp.arguments(BudgetSetSchema)
    @blp.response(200, BudgetSchema)
    def put(self, data: dict[str, Any], fund_id: uuid.UUID) -> dict[str, Any]:
        """Set a draft fund's budget per category (admins)"""
        actor = current_actor()
        fund = service.get_fund(actor, fund_id)
        lines = {
            code: parse_amount(text, fund.currency, f"lines.{code}") for code, text in data["lines"].items()
        }
        return _budget_body(fund, service.set_draft_budget(actor, fund_id, lines))


@blp.route("/funds/<uuid:fund_id>/budget-revisions")
class BudgetRevisions(MethodView):
    @blp.response(200, RevisionSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, fund_id: uuid.UUID, pagination_parameters: PaginationParameters) -> list[BudgetRevision]:
        """A fund's budget revisions, newest first"""
        page = budget_revisions.list_budget_revisions(
            current_actor(), fund_id, page_request(pagination_parameters)
        )
        pagination_parameters.item_count = page.total
        return page.items

    @blp.arguments(RevisionCreateSchema)
    @blp.response(201, RevisionSchema)
    @blp.alt_response(
        200, schema=RevisionSchema, description="A retry with the same Idempotency-Key and body"
    )
    @blp.doc(parameters=[idempotency.header_parameter()])
    @created_links(
        approve=link(
            "post", f"{API_PREFIX}/budget-revisions/{{revision_id}}/approve", revision_id=CREATED_ID
        ),
        reject=link("post", f"{API_PREFIX}/budget-revisions/{{revision_id}}/reject", revision_id=CREATED_ID),
    )
    def post(self, data: dict[str, Any], fund_id: uuid.UUID) -> Any:
        """Propose moving budget between categories (small moves apply at once; Idempotency-Key required)"""
        actor = current_actor()
        fund = service.get_fund(actor, fund_id)
        changes = {
            code: parse_amount(text, fund.currency, f"changes.{code}")
            for code, text in data["changes"].items()
        }
        made = budget_revisions.propose_budget_revision(
            actor, fund_id, changes, data["reason"], idempotency_key()
        )
        return made.thing, 201 if made.created else 200


@blp.route("/budget-revisions/<uuid:revision_id>/approve")
class ApproveRevision(MethodView):
    @blp.arguments(RevisionDecisionSchema)
    @blp.response(200, RevisionSchema)
    def post(self, data: dict[str, Any], revision_id: uuid.UUID) -> BudgetRevision:
        """Approve a revision someone else proposed (finance officers)"""
        return budget_revisions.decide_budget_revision(
            current_actor(), revision_id, approve=True, note=data["note"], expected_version=None
        )


@blp.route("/budget-revisions/<uuid:revision_id>/reject")
class RejectRevision(MethodView):
    @blp.arguments(RevisionDecisionSchema)
    @blp.response(200, RevisionSchema)
    def post(self, data: dict[str, Any], revision_id: uuid.UUID) -> BudgetRevision:
        """Reject a revision someone else proposed (finance officers)"""
        return budget_revisions.decide_budget_revision(
            current_actor(), revision_id, approve=False, note=data["note"], expected_version=None
        )


class CategoryExecutionSchema(ResponseSchema):
    category_code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    budget = ma.fields.Function(lambda r: str(r.budget), metadata=MONEY)
    revised_budget = ma.fields.Function(lambda r: str(r.revised_budget), metadata=MONEY)
    approved = ma.fields.Function(lambda r: str(r.approved), metadata=MONEY)
    pending = ma.fields.Function(lambda r: str(r.pending), metadata=MONEY)
    remaining = ma.fields.Function(lambda r: str(r.remaining), metadata=MONEY)
    executed_percent = ma.fields.String(metadata={"example": "42.50"})


class BudgetVsActualSchema(ResponseSchema):
    fund_id = ma.fields.UUID()
    currency = ma.fields.String()
    categories = ma.fields.List(ma.fields.Nested(CategoryExecutionSchema))


class TranchePaymentSchema(ResponseSchema):
    number = ma.fields.Integer()
    due_date = ma.fields.String()
    amount = ma.fields.Function(lambda t: str(t.amount), metadata=MONEY)
    paid = ma.fields.Function(lambda t: str(t.paid), metadata=MONEY)


class FundSummarySchema(ResponseSchema):
    fund_id = ma.fields.Function(lambda s: str(s.fund.id))
    currency = ma.fields.Function(lambda s: s.fund.currency)
    status = ma.fields.Function(lambda s: s.fund.status)
    awarded = ma.fields.Function(lambda s: str(s.awarded), metadata=MONEY)
    disbursed = ma.fields.Function(lambda s: str(s.disbursed), metadata=MONEY)
    tranches = ma.fields.List(ma.fields.Nested(TranchePaymentSchema))
    spent = ma.fields.Function(lambda s: str(s.spent), metadata=MONEY)
    refunded = ma.fields.Function(lambda s: str(s.refunded), metadata=MONEY)
    unspent_cash = ma.fields.Function(lambda s: str(s.unspent_cash), metadata=MONEY)
    admin_costs = ma.fields.Function(lambda s: str(s.admin_costs), metadata=MONEY)
    unspent = ma.fields.Function(
        lambda s: str(s.unspent), metadata={**MONEY, "description": "received - spent - refunded"}
    )
    pending = ma.fields.Function(
        lambda s: str(s.pending), metadata={**MONEY, "description": "submitted reports awaiting a decision"}
    )
    admin_cost_percent = ma.fields.String(metadata={"description": "admin costs as a share of the award"})
    admin_cost_cap_percent = ma.fields.String(allow_none=True)
    admin_cost_within_cap = ma.fields.Boolean()
    restricted_net_assets = ma.fields.Function(
        lambda s: str(s.restricted_net_assets),
        metadata={"description": "restricted revenue received minus released"},
    )


@blp.route("/funds/<uuid:fund_id>/budget-vs-actual")
class BudgetVsActual(MethodView):
    @blp.response(200, BudgetVsActualSchema)
    def get(self, fund_id: uuid.UUID) -> dict[str, Any]:
        """Budget, revised budget, approved, pending, remaining and % executed per category"""
        fund, rows = fund_reports.budget_vs_actual(current_actor(), fund_id)
        return {"fund_id": fund.id, "currency": fund.currency, "categories": rows}


@blp.route("/funds/<uuid:fund_id>/summary")
class Summary(MethodView):
    @blp.response(200, FundSummarySchema)
    def get(self, fund_id: uuid.UUID) -> fund_reports.FundSummary:
        """Awarded, disbursed by tranche, spent, refunded, unspent, admin-cost ratio, restricted net assets"""
        return fund_reports.fund_summary(current_actor(), fund_id)


@blp.route("/funds/<uuid:fund_id>/budget-vs-actual.xlsx")
class BudgetVsActualSpreadsheet(MethodView):
    @blp.doc(responses=xlsx_doc("budget vs actual per category"))
    def get(self, fund_id: uuid.UUID) -> Response:
        """Budget vs actual per category, as a spreadsheet (XLSX)"""
        made = spreadsheets.budget_vs_actual_download(current_actor(), fund_id, reader_language())
        return xlsx_response(made.filename, made.content)


@blp.route("/funds/<uuid:fund_id>/summary.xlsx")
class SummarySpreadsheet(MethodView):
    @blp.doc(responses=xlsx_doc("the fund's summary and its tranches"))
    def get(self, fund_id: uuid.UUID) -> Response:
        """The fund's summary (a sheet of figures, a sheet of tranches), as a spreadsheet (XLSX)"""
        made = spreadsheets.summary_download(current_actor(), fund_id, reader_language())
        return xlsx_response(made.filename, made.content)
