"""Books API: journal entries, reversals, accounting periods and the trial balance."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import (
    CREATED_ID,
    Blueprint,
    ResponseSchema,
    created_links,
    enum_value_field,
    link,
    page_request,
    reader_language,
    with_etag,
    xlsx_doc,
    xlsx_response,
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.inputs.books import (
    MONEY_EXAMPLE,
    JournalEntryCreateSchema,
    PeriodCloseSchema,
    PeriodReopenSchema,
    YearReopenSchema,
)
from ledger.inputs.common import DatedReasonSchema, StrictSchema
from ledger.models.books import AccountingPeriod, EntrySource, JournalEntry, PeriodStatus
from ledger.money import Money
from ledger.services import books as service
from ledger.services import idempotency, periods, spreadsheets, trial_balance, year_end
from ledger.services.amounts import parse_amount

blp = Blueprint(
    "books",
    __name__,
    url_prefix=API_PREFIX,
    description="Double-entry books per organisation: journal entries, periods, trial balance.",
)


class PostingSchema(ResponseSchema):
    line = ma.fields.Integer()
    account_code = ma.fields.String()
    side = ma.fields.String()
    amount = ma.fields.Function(lambda p: str(Money(p.currency, p.amount_minor)), metadata=MONEY_EXAMPLE)
    currency = ma.fields.String()
    fund_id = ma.fields.UUID(allow_none=True)
    restriction = ma.fields.String(allow_none=True)


class JournalEntrySchema(ResponseSchema):
    id = ma.fields.UUID()
    organisation_id = ma.fields.UUID()
    date = ma.fields.Date(attribute="entry_date")
    description = ma.fields.String()
    source = enum_value_field(EntrySource)
    source_id = ma.fields.String(allow_none=True)
    reverses_id = ma.fields.UUID(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    created_by = ma.fields.String()
    cash_flow_line = ma.fields.String(allow_none=True)
    postings = ma.fields.List(ma.fields.Nested(PostingSchema))


class PeriodSchema(ResponseSchema):
    id = ma.fields.UUID()
    organisation_id = ma.fields.UUID()
    year = ma.fields.Integer()
    month = ma.fields.Integer()
    status = enum_value_field(PeriodStatus)
    changed_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


class TrialBalanceQuerySchema(StrictSchema):
    as_of = ma.fields.Date(load_default=None)


class TrialBalanceRowSchema(ResponseSchema):
    account_code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    currency = ma.fields.String()
    debit = ma.fields.Function(lambda r: str(r.debit), metadata=MONEY_EXAMPLE)
    credit = ma.fields.Function(lambda r: str(r.credit), metadata=MONEY_EXAMPLE)
    balance = ma.fields.Function(lambda r: str(r.balance), metadata={"description": "debit minus credit"})


class TrialBalanceSchema(ResponseSchema):
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
            restriction=line["restriction"],
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
    @created_links(
        get=link("get", f"{API_PREFIX}/journal-entries/{{entry_id}}", entry_id=CREATED_ID),
        reverse=link("post", f"{API_PREFIX}/journal-entries/{{entry_id}}/reversal", entry_id=CREATED_ID),
    )
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Post a balanced adjustment (finance officers; Idempotency-Key required)"""
        entry, created = service.post_adjustment(
            current_actor(),
            organisation_id,
            data["entry_date"],
            data["description"],
            _lines(data),
            request.headers.get(idempotency.HEADER),
            data["cash_flow_line"],
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
    @blp.arguments(DatedReasonSchema)
    @blp.response(201, JournalEntrySchema)
    @created_links(
        retried=False, get=link("get", f"{API_PREFIX}/journal-entries/{{entry_id}}", entry_id=CREATED_ID)
    )
    def post(self, data: dict[str, Any], entry_id: uuid.UUID) -> JournalEntry:
        """Correct an adjustment by posting its mirror image (finance officers)

        An entry booked by a business event is refused (409) with the action that undoes it:
        void the expense report, reverse the payment or the refund, reopen the year.
        """
        return service.reverse_journal_entry(current_actor(), entry_id, data["entry_date"], data["reason"])


@blp.route("/organisations/<uuid:organisation_id>/periods")
class Periods(MethodView):
    @blp.response(200, PeriodSchema(many=True))
    @blp.paginate(page_size=24, max_page_size=500)
    def get(
        self, organisation_id: uuid.UUID, pagination_parameters: PaginationParameters
    ) -> list[AccountingPeriod]:
        """List an organisation's accounting periods, newest first"""
        page = periods.list_periods(current_actor(), organisation_id, page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/close")
class ClosePeriod(MethodView):
    @blp.arguments(PeriodCloseSchema, required=False)
    @blp.response(200, PeriodSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID, year: int, month: int) -> Any:
        """Close an ended month: nothing more posts into it (finance officers; an admin may force it)

        Months close in order; an admin may close one while earlier months are open with
        `{"force": true, "reason": "..."}`, and the reason is recorded.
        """
        period = periods.set_period_status(
            current_actor(),
            organisation_id,
            year,
            month,
            PeriodStatus.CLOSED,
            data.get("reason"),
            None,
            force=data.get("force", False),
        )
        return with_etag(period)


@blp.route("/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/reopen")
class ReopenPeriod(MethodView):
    @blp.arguments(PeriodReopenSchema)
    @blp.response(200, PeriodSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID, year: int, month: int) -> Any:
        """Reopen a closed month, with the reason recorded (finance officers)"""
        period = periods.set_period_status(
            current_actor(), organisation_id, year, month, PeriodStatus.OPEN, data["reason"], None
        )
        return with_etag(period)


@blp.route("/organisations/<uuid:organisation_id>/trial-balance")
class TrialBalance(MethodView):
    @blp.arguments(TrialBalanceQuerySchema, location="query")
    @blp.response(200, TrialBalanceSchema)
    def get(self, query: dict[str, Any], organisation_id: uuid.UUID) -> trial_balance.TrialBalance:
        """Debit and credit totals per account at a date (default today), from the postings"""
        return trial_balance.trial_balance(current_actor(), organisation_id, query["as_of"] or date.today())


@blp.route("/organisations/<uuid:organisation_id>/trial-balance.xlsx")
class TrialBalanceSpreadsheet(MethodView):
    @blp.arguments(TrialBalanceQuerySchema, location="query")
    @blp.doc(responses=xlsx_doc("the trial balance, with a total row per currency"))
    def get(self, query: dict[str, Any], organisation_id: uuid.UUID) -> Response:
        """The trial balance at a date (default today), as a spreadsheet (XLSX)"""
        made = spreadsheets.trial_balance_download(
            current_actor(), organisation_id, query["as_of"] or date.today(), reader_language()
        )
        return xlsx_response(made.filename, made.content)


@blp.route("/organisations/<uuid:organisation_id>/journal-entries.xlsx")
class JournalSpreadsheet(MethodView):
    @blp.doc(
        responses=xlsx_doc(
            "every journal entry (newest first), a row per posting (at most 10,000 entries, else 422)"
        )
    )
    def get(self, organisation_id: uuid.UUID) -> Response:
        """The organisation's journal, as a spreadsheet (XLSX)"""
        made = spreadsheets.journal_download(current_actor(), organisation_id, reader_language())
        return xlsx_response(made.filename, made.content)


# -- year-end closing (年末结转) -------------------------------------------------------------------


class YearStateSchema(ma.Schema):
    organisation_id = ma.fields.UUID()
    year = ma.fields.Integer()
    status = enum_value_field(
        year_end.YearStatus,
        metadata={"description": "closed while the year has closing entries not reversed"},
    )
    months_closed = ma.fields.Integer(metadata={"description": "how many of the 12 months are closed"})
    open_months = ma.fields.List(
        ma.fields.String(), metadata={"description": "YYYY-MM of each month not closed (or never opened)"}
    )
    has_ended = ma.fields.Boolean(metadata={"description": "31 December has passed (in China)"})
    can_close = ma.fields.Boolean()
    can_reopen = ma.fields.Boolean()
    blocked_by = ma.fields.String(
        allow_none=True,
        metadata={"description": "why the year cannot be closed (or, when closed, reopened) now"},
    )
    closing_entry_ids = ma.fields.List(ma.fields.UUID())
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    closed_by = ma.fields.String(allow_none=True)


class YearCloseSchema(ma.Schema):
    organisation_id = ma.fields.UUID()
    year = ma.fields.Integer()
    entries = ma.fields.List(
        ma.fields.Nested(JournalEntrySchema),
        metadata={"description": "the closing entries posted (or, on reopening, their reversals)"},
    )
    state = ma.fields.Nested(YearStateSchema)


@blp.route("/organisations/<uuid:organisation_id>/years")
class Years(MethodView):
    @blp.response(200, YearStateSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=200)
    def get(
        self, organisation_id: uuid.UUID, pagination_parameters: PaginationParameters
    ) -> list[year_end.YearState]:
        """Each year of an organisation's books, newest first, and whether it is closed"""
        states = year_end.year_states(current_actor(), organisation_id)
        page = page_request(pagination_parameters)
        pagination_parameters.item_count = len(states)
        return states[page.offset : page.offset + page.page_size]


@blp.route("/organisations/<uuid:organisation_id>/years/<int:year>/close")
class CloseYear(MethodView):
    @blp.response(200, YearCloseSchema)
    def post(self, organisation_id: uuid.UUID, year: int) -> year_end.YearClose:
        """Close a year: revenue and expenses into net assets, dated 31 December (finance officers)

        Needs every month of the year closed and every earlier year with revenue or expense
        balances closed. Posts up to three entries: unrestricted revenue to 3101, expenses from
        3101, restricted revenue to 3102, each fund's lines with the fund.
        """
        return year_end.close_year(current_actor(), organisation_id, year)


@blp.route("/organisations/<uuid:organisation_id>/years/<int:year>/reopen")
class ReopenYear(MethodView):
    @blp.arguments(YearReopenSchema)
    @blp.response(200, YearCloseSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID, year: int) -> year_end.YearClose:
        """Reopen a closed year by reversing its closing entries, with the reason (finance officers)"""
        return year_end.reopen_year(current_actor(), organisation_id, year, data["reason"])
