"""Books API: journal entries, reversals, accounting periods and the trial balance."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import (
    Blueprint,
    StrictSchema,
    date_in_range,
    enum_value_field,
    page_request,
    refuse_money_numbers_at,
    with_etag,
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.models.books import AccountingPeriod, EntrySource, JournalEntry, PeriodStatus, Side
from ledger.money import Money
from ledger.services import books as service
from ledger.services import idempotency
from ledger.services.amounts import parse_amount

blp = Blueprint(
    "books",
    __name__,
    url_prefix=API_PREFIX,
    description="Double-entry books per organisation: journal entries, periods, trial balance.",
)

MONEY_EXAMPLE = {"example": "1250.00", "description": "a decimal string; never a JSON number"}


class PostingLineCreateSchema(StrictSchema):
    account_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=16))
    side = ma.fields.Enum(Side, by_value=True, required=True)
    amount = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=32), metadata=MONEY_EXAMPLE
    )
    fund_id = ma.fields.UUID(load_default=None, allow_none=True)


class JournalEntryCreateSchema(StrictSchema):
    entry_date = ma.fields.Date(required=True, data_key="date")
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    currency = ma.fields.String(load_default="CNY", validate=ma.validate.Length(equal=3))
    lines = ma.fields.List(
        ma.fields.Nested(PostingLineCreateSchema),
        required=True,
        validate=ma.validate.Length(min=2, max=service.MAX_LINES),
    )

    @ma.pre_load
    def refuse_numbers_as_money(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("lines", "[]", "amount")])
        return data

    @ma.validates("entry_date")
    def date_in_range(self, value: date, **kwargs: Any) -> None:
        date_in_range(value)


class PostingSchema(ma.Schema):
    line = ma.fields.Integer()
    account_code = ma.fields.String()
    side = ma.fields.String()
    amount = ma.fields.Function(lambda p: str(Money(p.currency, p.amount_minor)), metadata=MONEY_EXAMPLE)
    currency = ma.fields.String()
    fund_id = ma.fields.UUID(allow_none=True)
    restriction = ma.fields.String(allow_none=True)


class JournalEntrySchema(ma.Schema):
    id = ma.fields.UUID()
    organisation_id = ma.fields.UUID()
    date = ma.fields.Date(attribute="entry_date")
    description = ma.fields.String()
    source = enum_value_field(EntrySource)
    source_id = ma.fields.String(allow_none=True)
    reverses_id = ma.fields.UUID(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    created_by = ma.fields.String()
    postings = ma.fields.List(ma.fields.Nested(PostingSchema))


class ReversalCreateSchema(StrictSchema):
    entry_date = ma.fields.Date(required=True, data_key="date")
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))

    @ma.validates("entry_date")
    def date_in_range(self, value: date, **kwargs: Any) -> None:
        date_in_range(value)


class PeriodSchema(ma.Schema):
    id = ma.fields.UUID()
    organisation_id = ma.fields.UUID()
    year = ma.fields.Integer()
    month = ma.fields.Integer()
    status = enum_value_field(PeriodStatus)
    changed_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


class PeriodReopenSchema(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class TrialBalanceQuerySchema(StrictSchema):
    as_of = ma.fields.Date(load_default=None)


class TrialBalanceRowSchema(ma.Schema):
    account_code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    currency = ma.fields.String()
    debit = ma.fields.Function(lambda r: str(r.debit), metadata=MONEY_EXAMPLE)
    credit = ma.fields.Function(lambda r: str(r.credit), metadata=MONEY_EXAMPLE)
    balance = ma.fields.Function(lambda r: str(r.balance), metadata={"description": "debit minus credit"})


class TrialBalanceSchema(ma.Schema):
    organisation_id = ma.fields.UUID()
    as_of = ma.fields.Date()
    rows = ma.fields.List(ma.fields.Nested(TrialBalanceRowSchema))
    totals = ma.fields.Function(
        lambda tb: {c: {"debit": str(d), "credit": str(k)} for c, (d, k) in tb.totals().items()},
        metadata={"description": "per currency; debit always equals credit"},
    )


def _lines(data: dict[str, Any]) -> list[service.PostingLine]:
    return [
        service.PostingLine(
            account_code=line["account_code"],
            side=line["side"],
            amount=parse_amount(line["amount"], data["currency"], f"lines.{index}.amount"),
            fund_id=line["fund_id"],
        )
        for index, line in enumerate(data["lines"])
    ]


@blp.route("/organisations/<uuid:organisation_id>/journal-entries")
class JournalEntries(MethodView):
    @blp.response(200, JournalEntrySchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(
        self, organisation_id: uuid.UUID, pagination_parameters: PaginationParameters
    ) -> list[JournalEntry]:
        """List an organisation's journal entries, newest first"""
        page = service.list_journal_entries(
            current_actor(), organisation_id, page_request(pagination_parameters)
        )
        pagination_parameters.item_count = page.total
        return page.items

    @blp.arguments(JournalEntryCreateSchema)
    @blp.response(201, JournalEntrySchema)
    @blp.alt_response(
        200, schema=JournalEntrySchema, description="A retry with the same Idempotency-Key and body"
    )
    @blp.doc(parameters=[idempotency.header_parameter()])
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Post a balanced adjustment (finance officers; Idempotency-Key required)"""
        entry, created = service.post_adjustment(
            current_actor(),
            organisation_id,
            data["entry_date"],
            data["description"],
            _lines(data),
            request.headers.get(idempotency.HEADER),
        )
        return entry, 201 if created else 200


@blp.route("/journal-entries/<uuid:entry_id>")
class JournalEntryById(MethodView):
    @blp.response(200, JournalEntrySchema)
    def get(self, entry_id: uuid.UUID) -> JournalEntry:
        """Get a journal entry with its postings"""
        return service.get_journal_entry(current_actor(), entry_id)


@blp.route("/journal-entries/<uuid:entry_id>/reversal")
class Reversal(MethodView):
    @blp.arguments(ReversalCreateSchema)
    @blp.response(201, JournalEntrySchema)
    def post(self, data: dict[str, Any], entry_id: uuid.UUID) -> JournalEntry:
        """Correct an entry by posting its mirror image (finance officers)"""
        return service.reverse_journal_entry(current_actor(), entry_id, data["entry_date"], data["reason"])


@blp.route("/organisations/<uuid:organisation_id>/periods")
class Periods(MethodView):
    @blp.response(200, PeriodSchema(many=True))
    @blp.paginate(page_size=24, max_page_size=500)
    def get(
        self, organisation_id: uuid.UUID, pagination_parameters: PaginationParameters
    ) -> list[AccountingPeriod]:
        """List an organisation's accounting periods, newest first"""
        page = service.list_periods(current_actor(), organisation_id, page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/close")
class ClosePeriod(MethodView):
    @blp.response(200, PeriodSchema)
    def post(self, organisation_id: uuid.UUID, year: int, month: int) -> Any:
        """Close a month: nothing more posts into it (finance officers)"""
        period = service.set_period_status(
            current_actor(), organisation_id, year, month, PeriodStatus.CLOSED, None, None
        )
        return with_etag(period)


@blp.route("/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/reopen")
class ReopenPeriod(MethodView):
    @blp.arguments(PeriodReopenSchema)
    @blp.response(200, PeriodSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID, year: int, month: int) -> Any:
        """Reopen a closed month, with the reason recorded (finance officers)"""
        period = service.set_period_status(
            current_actor(), organisation_id, year, month, PeriodStatus.OPEN, data["reason"], None
        )
        return with_etag(period)


@blp.route("/organisations/<uuid:organisation_id>/trial-balance")
class TrialBalance(MethodView):
    @blp.arguments(TrialBalanceQuerySchema, location="query")
    @blp.response(200, TrialBalanceSchema)
    def get(self, query: dict[str, Any], organisation_id: uuid.UUID) -> service.TrialBalance:
        """Debit and credit totals per account at a date (default today), from the postings"""
        return service.trial_balance(current_actor(), organisation_id, query["as_of"] or date.today())
