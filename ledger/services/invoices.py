"""Invoices on expense lines: the rules of each kind's numbers, the XML of a digital invoice, near-duplicates.

An invoice's identity is (kind, code, number): a digital invoice (数电发票) has a 20-digit number
and no code; a VAT invoice (增值税发票) a 10- or 12-digit code and an 8-digit number; a fiscal
receipt (财政票据) an 8-digit code and a 10-digit number. A plain receipt (收据 and other
vouchers) has no number. The expense-report service claims each identity in ``invoice_claim``
(one claim in the whole deployment); this module says what a valid identity looks like, reads a
digital invoice's XML, and finds near-duplicates (same seller, date and amount, another identity).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from sqlalchemy import or_, select

from ledger.credit_code import credit_code_problem, normalise
from ledger.errors import ValidationFailed
from ledger.extensions import db
from ledger.messages import Message, translatable
from ledger.models.expense_report import NUMBERED_KINDS, ExpenseLine, ExpenseReport, ReceiptKind, ReportStatus
from ledger.money import Money, MoneyError
from ledger.services.access import Actor, Permission, authorize, may

# (code lengths, number length) of each numbered kind; a code length of () means no code.
IDENTITY_RULES: dict[str, tuple[tuple[int, ...], int]] = {
    ReceiptKind.DIGITAL_INVOICE.value: ((), 20),
    ReceiptKind.VAT_INVOICE.value: ((10, 12), 8),
    ReceiptKind.FISCAL_RECEIPT.value: ((8,), 10),
}
LEGACY_TAXPAYER_ID_LENGTHS = (15, 17, 20)
_TAXPAYER_CHARACTERS = re.compile(r"^[0-9A-Z]+$")
MAX_XML_BYTES = 1_000_000


def identity_problems(kind: str, code: str | None, number: str | None) -> dict[str, list[Message]]:
    """What is wrong with an invoice's code and number for its kind, by field (empty when right)."""
    problems: dict[str, list[Message]] = {}
    if kind not in IDENTITY_RULES:
        if code:
            problems["invoice_code"] = [translatable("a plain receipt has no invoice code")]
        if number:
            problems["invoice_number"] = [translatable("a plain receipt has no invoice number")]
        return problems
    code_lengths, number_length = IDENTITY_RULES[kind]
    if not code_lengths and code:
        problems["invoice_code"] = [translatable("a digital invoice has no invoice code")]
    elif code_lengths and not (code and code.isascii() and code.isdigit() and len(code) in code_lengths):
        problems["invoice_code"] = [_digits(code_lengths)]
    if not (number and number.isascii() and number.isdigit() and len(number) == number_length):
        problems["invoice_number"] = [_digits((number_length,))]
    return problems


def _digits(lengths: tuple[int, ...]) -> Message:
    if len(lengths) == 2:
        return translatable("must be %(first)s or %(second)s digits", first=lengths[0], second=lengths[1])
    return translatable("must be %(count)s digits", count=lengths[0])


def taxpayer_id_problem(taxpayer_id: str) -> Message | None:
    """What is wrong with a seller's taxpayer id: an 18-character one is a Unified Social Credit Code
    (checked with its check character); 15, 17 and 20 characters are older ids, checked for characters."""
    if len(taxpayer_id) == 18:
        problem = credit_code_problem(taxpayer_id)
        return Message(problem.message) if problem is not None else None
    if len(taxpayer_id) not in LEGACY_TAXPAYER_ID_LENGTHS:
        return translatable(
            "must be 18 characters (a unified social credit code), or 15, 17 or 20 (an older taxpayer id), "
            "not %(actual)s",
            actual=len(taxpayer_id),
        )
    if not _TAXPAYER_CHARACTERS.match(taxpayer_id):
        return translatable("may hold only digits and capital letters")
    return None


def normalised_taxpayer_id(taxpayer_id: str) -> str:
    return normalise(taxpayer_id)


def claim_identity(kind: str, code: str | None, number: str | None) -> tuple[str, str, str] | None:
    """The (kind, code or '', number) a line claims, or None for a line without a numbered invoice."""
    if kind not in NUMBERED_KINDS or not number:
        return None
    return (kind, code or "", number)


# --- The XML of a digital invoice ---------------------------------------------------------------


@dataclass(frozen=True)
class ParsedInvoice:
    """What a digital invoice's XML says; a field the XML does not carry is None."""

    receipt_kind: str
    invoice_number: str
    invoice_date: date | None
    seller_name: str | None
    seller_taxpayer_id: str | None
    amount: Money | None


# Element local names seen in digital-invoice layouts (the national EInvoice layout and older
# pinyin-abbreviated ones); the first present wins.
_NUMBER_NAMES = ("InvoiceNumber", "InvoiceNo", "EInvoiceNumber", "Fphm", "FPHM")
_DATE_NAMES = ("IssueTime", "IssueDate", "InvoiceDate", "Kprq", "KPRQ", "RequestTime")
_SELLER_NAMES = ("SellerName", "XsfMc", "XSFMC", "SalerName")
_SELLER_ID_NAMES = ("SellerIdNum", "SellerTaxID", "SellerTaxNo", "XsfNsrsbh", "XSFNSRSBH", "SalerTaxNum")
_TOTAL_NAMES = (
    "TotalTax-includedAmount",
    "TotalTaxIncludedAmount",
    "TotalTaxincludedAmount",
    "Jshj",
    "JSHJ",
    "TotalAmountWithTax",
)
_DATE = re.compile(r"(\d{4})\D?(\d{1,2})\D?(\d{1,2})")


def parse_invoice_xml(data: bytes, field: str = "file", currency: str = "CNY") -> ParsedInvoice:
    """Read a digital invoice's XML (UTF-8), tolerant of layout: elements are found by local name.

    Refuses (422 naming ``field``) a file that is not XML, declares a DTD or entities (they can
    expand or reach outside), or carries no 20-digit invoice number.
    """
    not_invoice = ValidationFailed.field(
        field, translatable("is not the XML of a digital invoice (no 20-digit invoice number found)")
    )
    if len(data) > MAX_XML_BYTES:
        raise ValidationFailed.field(field, translatable("is too large for an invoice's XML"))
    upper = data.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise ValidationFailed.field(
            field, translatable("an invoice's XML may not declare a DTD or entities")
        )
    try:
        root = _parse(data)
    except (ElementTree.ParseError, ValueError, UnicodeDecodeError):
        raise not_invoice from None
    texts: dict[str, str] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = element.tag.rsplit("}", 1)[-1]
        text = (element.text or "").strip()
        if text and name not in texts:
            texts[name] = text
    number = _first(texts, _NUMBER_NAMES)
    if number is None or not (number.isascii() and number.isdigit() and len(number) == 20):
        raise not_invoice
    seller_id = _first(texts, _SELLER_ID_NAMES)
    return ParsedInvoice(
        receipt_kind=ReceiptKind.DIGITAL_INVOICE.value,
        invoice_number=number,
        invoice_date=_date(_first(texts, _DATE_NAMES)),
        seller_name=_first(texts, _SELLER_NAMES),
        seller_taxpayer_id=normalise(seller_id) if seller_id else None,
        amount=_amount(_first(texts, _TOTAL_NAMES), currency),
    )


def read_invoice_xml(actor: Actor, data: bytes, field: str = "file") -> ParsedInvoice:
    """``parse_invoice_xml`` for those who file or review expense reports; nothing is stored."""
    if not may(actor, Permission.REVIEW_EXPENSE_REPORTS):
        authorize(actor, Permission.FILE_EXPENSE_REPORTS)
    return parse_invoice_xml(data, field)


def _parse(data: bytes) -> ElementTree.Element:
    try:
        from defusedxml.ElementTree import fromstring  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return _parse_refusing_declarations(data)
    parsed: ElementTree.Element = fromstring(data, forbid_dtd=True)
    return parsed


def _parse_refusing_declarations(data: bytes) -> ElementTree.Element:
    """The standard library's expat, building the tree itself, with a DTD, an entity declaration or
    an external entity refused as it is met (the byte check already refused them: a second lock)."""
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(encoding="utf-8", namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_declaration
    parser.EntityDeclHandler = _refuse_declaration
    parser.ExternalEntityRefHandler = _refuse_declaration
    parser.StartElementHandler = lambda name, attributes: builder.start(name, attributes)
    parser.EndElementHandler = lambda name: builder.end(name)
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise ValueError(str(error)) from None
    return builder.close()


def _refuse_declaration(*args: object) -> int:
    raise ValueError("an invoice's XML may not declare a DTD or entities")


def looks_like_xml(data: bytes) -> bool:
    """Whether an uploaded file is XML (an invoice's XML rather than a PDF or an image)."""
    head = data[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _first(texts: dict[str, str], names: Iterable[str]) -> str | None:
    for name in names:
        if name in texts:
            return texts[name]
    return None


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    found = _DATE.search(text)
    if found is None:
        return None
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None


def _amount(text: str | None, currency: str) -> Money | None:
    if text is None:
        return None
    cleaned = text.replace(",", "").replace("¥", "").strip()
    try:
        return Money.parse(cleaned, currency)
    except MoneyError:
        return None


# --- Near-duplicates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NearDuplicate:
    """Another line with the same seller, invoice date and amount but another identity.

    ``report_id``, ``report_title`` and ``line`` are None when the reader may not see that report.
    """

    report_id: uuid.UUID | None
    report_title: str | None
    line: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "report_id": str(self.report_id) if self.report_id else None,
            "report_title": self.report_title,
            "line": self.line,
        }


def _comparable(line: ExpenseLine) -> bool:
    return (
        line.invoice_date is not None
        and line.invoice_amount_minor is not None
        and bool(line.seller_name or line.seller_taxpayer_id)
    )


def _same_seller(a: ExpenseLine, b: ExpenseLine) -> bool:
    return bool(
        (a.seller_name and b.seller_name and a.seller_name.strip() == b.seller_name.strip())
        or (a.seller_taxpayer_id and a.seller_taxpayer_id == b.seller_taxpayer_id)
    )


def _identity(line: ExpenseLine) -> tuple[str, str, str] | None:
    return claim_identity(line.receipt_kind, line.invoice_code, line.invoice_number)


def near_duplicates(actor: Actor, report: ExpenseReport) -> dict[int, list[NearDuplicate]]:
    """Each line's near-duplicates (by line number) among lines of reports that still count.

    Same seller (name or taxpayer id), same invoice date, same amount, and a different identity or
    a plain receipt on either side. A report of an organisation ``actor`` may not see is not named.
    """
    lines = [line for line in report.lines if _comparable(line)]
    if not lines:
        return {}
    keys = {(line.invoice_date, line.invoice_amount_minor) for line in lines}
    candidates = db.session.execute(
        select(ExpenseLine, ExpenseReport.title, ExpenseReport.organisation_id)
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .where(
            or_(
                *(
                    (ExpenseLine.invoice_date == day) & (ExpenseLine.invoice_amount_minor == amount)
                    for day, amount in keys
                )
            ),
            ExpenseReport.status.not_in([ReportStatus.REJECTED.value, ReportStatus.VOIDED.value]),
        )
        .order_by(ExpenseReport.created_at, ExpenseReport.id, ExpenseLine.number)
    ).all()
    found: dict[int, list[NearDuplicate]] = {}
    for line in lines:
        for other, title, organisation_id in candidates:
            if other.id == line.id or not _comparable(other):
                continue
            if (other.invoice_date, other.invoice_amount_minor) != (
                line.invoice_date,
                line.invoice_amount_minor,
            ):
                continue
            if not _same_seller(line, other):
                continue
            mine, theirs = _identity(line), _identity(other)
            if mine is not None and mine == theirs:
                continue  # the same invoice: the claim refuses it, it is no near-duplicate
            if may(actor, Permission.READ_FUNDS, organisation_id):
                found.setdefault(line.number, []).append(NearDuplicate(other.report_id, title, other.number))
            else:
                found.setdefault(line.number, []).append(NearDuplicate(None, None, None))
    return found
