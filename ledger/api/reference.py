"""Reference data API: charts of accounts and standard expense categories, by version."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import Blueprint, ResponseSchema, page_request
from ledger.api.security import API_PREFIX, current_actor
from ledger.models.reference import Account, ChartOfAccounts, ExpenseCategory, ExpenseCategoryList
from ledger.services import reference_data as service

blp = Blueprint(
    "reference",
    __name__,
    url_prefix=f"{API_PREFIX}/reference",
    description="Versioned charts of accounts and expense categories.",
)


class ChartSchema(ResponseSchema):
    version = ma.fields.String(metadata={"example": "NPO-2005"})
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    source = ma.fields.String()
    content_sha256 = ma.fields.String()


class AccountSchema(ResponseSchema):
    chart_version = ma.fields.String()
    code = ma.fields.String(metadata={"example": "1002"})
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    account_class = ma.fields.String(
        metadata={"enum": ["asset", "liability", "net_assets", "revenue", "expense"]}
    )
    normal_balance = ma.fields.String(metadata={"enum": ["debit", "credit"]})
    is_contra = ma.fields.Boolean()


class ExpenseCategoryListSchema(ResponseSchema):
    version = ma.fields.String(metadata={"example": "CFL-EC-2026"})
    chart_version = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    content_sha256 = ma.fields.String()


class ExpenseCategorySchema(ResponseSchema):
    list_version = ma.fields.String()
    code = ma.fields.String(metadata={"example": "TRAVEL"})
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    chart_version = ma.fields.String()
    account_code = ma.fields.String()
    functional_class = ma.fields.String(metadata={"enum": ["program", "management", "fundraising"]})
    sf424a_object_class = ma.fields.String(metadata={"example": "6c"})
    form990_line = ma.fields.String(metadata={"example": "17"})
    is_indirect = ma.fields.Boolean()


@blp.route("/charts")
class Charts(MethodView):
    @blp.response(200, ChartSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, pagination_parameters: PaginationParameters) -> list[ChartOfAccounts]:
        """List charts of accounts"""
        page = service.list_charts(current_actor(), page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/charts/<string:version>/accounts")
class ChartAccounts(MethodView):
    @blp.response(200, AccountSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, version: str, pagination_parameters: PaginationParameters) -> list[Account]:
        """List the accounts of a chart"""
        page = service.list_accounts(current_actor(), version, page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/expense-categories")
class CategoryLists(MethodView):
    @blp.response(200, ExpenseCategoryListSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, pagination_parameters: PaginationParameters) -> list[ExpenseCategoryList]:
        """List the versions of the standard expense categories"""
        page = service.list_category_lists(current_actor(), page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/expense-categories/<string:version>")
class Categories(MethodView):
    @blp.response(200, ExpenseCategorySchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, version: str, pagination_parameters: PaginationParameters) -> list[ExpenseCategory]:
        """List the expense categories of a version"""
        page = service.list_categories(current_actor(), version, page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items
