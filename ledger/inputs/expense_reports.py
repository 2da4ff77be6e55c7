"""Input for expense reports: a new report, its lines, and a reviewer's comment."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ledger.inputs.common import MONEY, StrictSchema, date_in_range, refuse_money_numbers_at
from ledger.messages import Message
from ledger.models.expense_report import ReceiptKind
from ledger.services import expense_lines, invoices


class ReportCreateSchema(StrictSchema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    interim = ma.fields.Boolean(
        load_default=False, metadata={"description": "an interim report (a tranche may wait for one)"}
    )


class LineCreateSchema(StrictSchema):
    category_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    amount = ma.fields.String(required=True, metadata=MONEY)
    incurred_on = ma.fields.Date(required=True, validate=date_in_range)
    payee = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    receipt_sha256 = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Regexp(
            r"^[0-9a-f]{64}$", error="must be a receipt's SHA-256 (64 lower-case hex digits)"
        ),
    )
    receipt_kind = ma.fields.String(
        load_default=ReceiptKind.PLAIN_RECEIPT.value,
        validate=ma.validate.OneOf([kind.value for kind in ReceiptKind]),
        metadata={
            "description": "digital_invoice (数电发票: 20-digit number, no code), vat_invoice (增值税发票: "
            "10- or 12-digit code, 8-digit number), fiscal_receipt (财政票据: 8-digit code, 10-digit number) "
            "or plain_receipt (收据 and other vouchers: no number; the default)"
        },
    )
    invoice_code = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=12))
    invoice_number = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=20))
    invoice_date = ma.fields.Date(load_default=None, allow_none=True, validate=date_in_range)
    invoice_amount = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={**MONEY, "description": "the invoice's total (价税合计)"},
    )
    seller_name = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))
    seller_taxpayer_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "18 characters (a unified social credit code, checked) or 15, 17 or 20"},
    )

    @ma.pre_load
    def blank_is_none(self, data: Any, **kwargs: Any) -> Any:
        """An empty invoice field is one not given; codes and ids are read without spaces, ids upper case."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in ("invoice_code", "invoice_number", "invoice_date", "invoice_amount", "seller_name"):
            if isinstance(data.get(name), str) and not data[name].strip():
                data[name] = None
        for name in ("invoice_code", "invoice_number"):
            if isinstance(data.get(name), str):
                data[name] = data[name].strip()
        if isinstance(data.get("seller_taxpayer_id"), str):
            data["seller_taxpayer_id"] = invoices.normalised_taxpayer_id(data["seller_taxpayer_id"]) or None
        if data.get("receipt_kind") in ("", None):
            data.pop("receipt_kind", None)
        return data

    @ma.validates_schema
    def check_invoice(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Each kind's code and number lengths, and the seller's taxpayer id."""
        problems: dict[str, list[Message]] = dict(
            invoices.identity_problems(
                data.get("receipt_kind", ReceiptKind.PLAIN_RECEIPT.value),
                data.get("invoice_code"),
                data.get("invoice_number"),
            )
        )
        taxpayer_id = data.get("seller_taxpayer_id")
        if taxpayer_id and (problem := invoices.taxpayer_id_problem(taxpayer_id)) is not None:
            problems["seller_taxpayer_id"] = [problem]
        if problems:
            raise ma.ValidationError(problems)


class LinesSetSchema(StrictSchema):
    lines = ma.fields.List(
        ma.fields.Nested(LineCreateSchema),
        required=True,
        validate=ma.validate.Length(max=expense_lines.MAX_LINES),
    )

    @ma.pre_load
    def refuse_money_numbers(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("lines", "[]", "amount"), ("lines", "[]", "invoice_amount")])
        return data


class CommentSchema(StrictSchema):
    comment = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))
