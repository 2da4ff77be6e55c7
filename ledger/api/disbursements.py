"""Disbursements API: tranche schedules, and payments prepared, approved, paid or cancelled."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import request
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
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.inputs.common import MONEY, DatedReasonSchema
from ledger.inputs.disbursements import (
    CancelSchema,
    DisbursementCreateSchema,
    PaySchema,
    RefundSchema,
    ScheduleSetSchema,
)
from ledger.models.disbursement import (
    Disbursement,
    DisbursementKind,
    DisbursementStatus,
    Tranche,
    TrancheCondition,
)
from ledger.money import Money
from ledger.services import disbursements as service
from ledger.services import idempotency
from ledger.services.amounts import parse_amount
from ledger.services.funds import get_fund

blp = Blueprint(
    "disbursements",
    __name__,
    url_prefix=API_PREFIX,
    description="Payment schedules and disbursements, with separation of duties and idempotent creation.",
)


class DisbursementSchema(ResponseSchema):
    id = ma.fields.UUID()
    fund_id = ma.fields.UUID()
    organisation_id = ma.fields.UUID()
    kind = enum_value_field(DisbursementKind)
    tranche_id = ma.fields.UUID(allow_none=True)
    amount = ma.fields.Function(lambda d: str(Money(d.currency, d.amount_minor)), metadata=MONEY)
    currency = ma.fields.String()
    status = enum_value_field(DisbursementStatus)
    memo = ma.fields.String()
    prepared_by = ma.fields.String()
    prepared_at = ma.fields.AwareDateTime()
    approved_by = ma.fields.String(allow_none=True)
    paid_by = ma.fields.String(allow_none=True)
    paid_on = ma.fields.Date(allow_none=True)
    bank_reference = ma.fields.String(allow_none=True)
    journal_entry_id = ma.fields.UUID(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    reversed_on = ma.fields.Date(allow_none=True)
    reversal_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


def _tranche_body(tranche: Tranche, currency: str) -> dict[str, Any]:
    return {
        "id": tranche.id,
        "number": tranche.number,
        "amount": str(Money(currency, tranche.amount_minor)),
        "due_date": tranche.due_date,
        "condition": tranche.condition,
    }


class TrancheOutSchema(ResponseSchema):
    id = ma.fields.UUID()
    number = ma.fields.Integer()
    amount = ma.fields.String(metadata=MONEY)
    due_date = ma.fields.Date()
    condition = enum_value_field(TrancheCondition)


@blp.route("/funds/<uuid:fund_id>/tranches")
class Tranches(MethodView):
    @blp.response(200, TrancheOutSchema(many=True))
    def get(self, fund_id: uuid.UUID) -> list[dict[str, Any]]:
        """A fund's payment schedule"""
        actor = current_actor()
        currency = get_fund(actor, fund_id).currency
        return [_tranche_body(t, currency) for t in service.list_tranches(actor, fund_id)]

    @blp.arguments(ScheduleSetSchema)
    @blp.response(200, TrancheOutSchema(many=True))
    def put(self, data: dict[str, Any], fund_id: uuid.UUID) -> list[dict[str, Any]]:
        """Set a draft fund's payment schedule (admins)"""
        actor = current_actor()
        currency = get_fund(actor, fund_id).currency
        terms = [
            service.TrancheTerms(
                parse_amount(t["amount"], currency, f"tranches.{i}.amount"), t["due_date"], t["condition"]
            )
            for i, t in enumerate(data["tranches"])
        ]
        return [_tranche_body(t, currency) for t in service.set_tranches(actor, fund_id, terms)]


@blp.route("/funds/<uuid:fund_id>/disbursements")
class Disbursements(MethodView):
    @blp.response(200, DisbursementSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, fund_id: uuid.UUID, pagination_parameters: PaginationParameters) -> list[Disbursement]:
        """A fund's disbursements, newest first"""
        page = service.list_disbursements(current_actor(), fund_id, page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items

    @blp.arguments(DisbursementCreateSchema)
    @blp.response(201, DisbursementSchema)
    @blp.alt_response(
        200, schema=DisbursementSchema, description="A retry with the same Idempotency-Key and body"
    )
    @blp.doc(parameters=[idempotency.header_parameter()])
    @created_links(
        get=link("get", f"{API_PREFIX}/disbursements/{{disbursement_id}}", disbursement_id=CREATED_ID),
        approve=link(
            "post", f"{API_PREFIX}/disbursements/{{disbursement_id}}/approve", disbursement_id=CREATED_ID
        ),
        cancel=link(
            "post", f"{API_PREFIX}/disbursements/{{disbursement_id}}/cancel", disbursement_id=CREATED_ID
        ),
    )
    def post(self, data: dict[str, Any], fund_id: uuid.UUID) -> Any:
        """Prepare a disbursement (finance officers; Idempotency-Key required)"""
        actor = current_actor()
        fund = get_fund(actor, fund_id)  # held: the service and the answer find it in the session
        order = service.DisbursementRequest(
            kind=data["kind"],
            amount=parse_amount(data["amount"], fund.currency, "amount"),
            memo=data["memo"],
            tranche_id=data["tranche_id"],
        )
        key = request.headers.get(idempotency.HEADER)
        prepared = service.prepare_disbursement(actor, fund_id, order, key)
        return prepared.disbursement, 201 if prepared.created else 200


@blp.route("/disbursements/<uuid:disbursement_id>")
class DisbursementById(MethodView):
    @blp.response(200, DisbursementSchema)
    def get(self, disbursement_id: uuid.UUID) -> Disbursement:
        """Get a disbursement"""
        return service.get_disbursement(current_actor(), disbursement_id)


@blp.route("/disbursements/<uuid:disbursement_id>/approve")
class ApproveDisbursement(MethodView):
    @blp.response(200, DisbursementSchema)
    def post(self, disbursement_id: uuid.UUID) -> Disbursement:
        """Approve a disbursement someone else prepared (finance officers)"""
        return service.approve_disbursement(current_actor(), disbursement_id)


@blp.route("/disbursements/<uuid:disbursement_id>/pay")
class PayDisbursement(MethodView):
    @blp.arguments(PaySchema)
    @blp.response(200, DisbursementSchema)
    def post(self, data: dict[str, Any], disbursement_id: uuid.UUID) -> Disbursement:
        """Mark an approved disbursement paid, with the bank's reference; this books it"""
        return service.mark_paid(current_actor(), disbursement_id, data["bank_reference"], data["paid_on"])


@blp.route("/disbursements/<uuid:disbursement_id>/cancel")
class CancelDisbursement(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, DisbursementSchema)
    def post(self, data: dict[str, Any], disbursement_id: uuid.UUID) -> Disbursement:
        """Cancel a disbursement that is not yet paid"""
        return service.cancel_disbursement(current_actor(), disbursement_id, data["reason"])


@blp.route("/disbursements/<uuid:disbursement_id>/reversal")
class ReversePayment(MethodView):
    @blp.arguments(DatedReasonSchema)
    @blp.response(200, DisbursementSchema)
    def post(self, data: dict[str, Any], disbursement_id: uuid.UUID) -> Disbursement:
        """The bank returned a paid disbursement: reverse its booking (finance officers)"""
        return service.reverse_payment(current_actor(), disbursement_id, data["entry_date"], data["reason"])


class RefundResultSchema(ResponseSchema):
    fund_id = ma.fields.UUID()
    refunded = ma.fields.String(metadata=MONEY)
    journal_entry_id = ma.fields.UUID()


@blp.route("/funds/<uuid:fund_id>/refund")
class Refund(MethodView):
    @blp.arguments(RefundSchema)
    @blp.response(201, RefundResultSchema)
    @blp.alt_response(
        200, schema=RefundResultSchema, description="A retry with the same Idempotency-Key and body"
    )
    @blp.doc(parameters=[idempotency.header_parameter()])
    @created_links(
        journal_entry=link(
            "get", f"{API_PREFIX}/journal-entries/{{entry_id}}", entry_id="$response.body#/journal_entry_id"
        ),
        reverse=link(
            "post",
            f"{API_PREFIX}/funds/{{fund_id}}/refunds/{{entry_id}}/reversal",
            fund_id="$response.body#/fund_id",
            entry_id="$response.body#/journal_entry_id",
        ),
    )
    def post(self, data: dict[str, Any], fund_id: uuid.UUID) -> Any:
        """Book unspent money returned to the funder (finance officers; Idempotency-Key required)"""
        actor = current_actor()
        amount = parse_amount(data["amount"], get_fund(actor, fund_id).currency, "amount")
        refunded = service.refund_unspent(
            actor,
            fund_id,
            amount,
            data["refunded_on"],
            data["bank_reference"],
            request.headers.get(idempotency.HEADER),
        )
        body = {"fund_id": refunded.fund.id, "refunded": str(amount), "journal_entry_id": refunded.entry.id}
        return body, 201 if refunded.created else 200


class RefundReversalSchema(ResponseSchema):
    fund_id = ma.fields.UUID()
    refund_entry_id = ma.fields.UUID()
    journal_entry_id = ma.fields.UUID()


@blp.route("/funds/<uuid:fund_id>/refunds/<uuid:entry_id>/reversal")
class ReverseRefund(MethodView):
    @blp.arguments(DatedReasonSchema)
    @blp.response(201, RefundReversalSchema)
    @created_links(
        retried=False,
        journal_entry=link(
            "get", f"{API_PREFIX}/journal-entries/{{entry_id}}", entry_id="$response.body#/journal_entry_id"
        ),
    )
    def post(self, data: dict[str, Any], fund_id: uuid.UUID, entry_id: uuid.UUID) -> Any:
        """The bank returned a refund to the funder: reverse the refund's booking (finance officers)"""
        reversal = service.reverse_refund(
            current_actor(), fund_id, entry_id, data["entry_date"], data["reason"]
        )
        return {"fund_id": fund_id, "refund_entry_id": entry_id, "journal_entry_id": reversal.id}, 201
