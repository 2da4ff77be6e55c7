"""Invoices on expense lines: each kind's numbers, one claim per invoice, near-duplicates, XML, verification."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from ledger.extensions import db
from ledger.models.audit import AuditEntry, AuditQueueItem
from ledger.models.expense_report import InvoiceClaim
from tests.builders import activated_fund, report_line
from tests.conftest import DemoWorld, is_postgres
from tests.helpers import assert_problem, count_rows, table_counts

SAMPLE_XML = Path(__file__).resolve().parents[1] / "data" / "digital_invoice.xml"

DIGITAL = {"receipt_kind": "digital_invoice", "invoice_number": "24422000000012345678"}
VAT = {"receipt_kind": "vat_invoice", "invoice_code": "4200231130", "invoice_number": "01234567"}
FISCAL = {"receipt_kind": "fiscal_receipt", "invoice_code": "42010125", "invoice_number": "0012345678"}
SELLER = {
    "invoice_date": "2026-03-10",
    "invoice_amount": "1260.00",
    "seller_name": "武汉某某印务有限公司",
    "seller_taxpayer_id": "91420100MA4KX1234B",
}


def _report(
    client: FlaskClient, world: DemoWorld, fund: dict[str, Any], member: str, title: str
) -> dict[str, Any]:
    created = client.post(
        f"/api/v1/funds/{fund['id']}/expense-reports", json={"title": title}, headers=world.keyed(member)
    )
    assert created.status_code == 201, created.get_json()
    return dict(created.get_json())


def _put_lines(
    client: FlaskClient, world: DemoWorld, report: dict[str, Any], member: str, lines: list[dict[str, Any]]
) -> TestResponse:
    return client.put(
        f"/api/v1/expense-reports/{report['id']}/lines",
        json={"lines": lines},
        headers={**world.auth(member), "If-Match": "*"},
    )


def _line(client: FlaskClient, world: DemoWorld, member: str = "member01", **invoice: Any) -> dict[str, Any]:
    line = report_line(client, world, "ACTIVITY", "1260.00", **invoice)
    if member != "member01":
        line["receipt_sha256"] = _receipt_of(client, world, member)
    return line


def _receipt_of(client: FlaskClient, world: DemoWorld, member: str) -> str:
    from tests.builders import post_receipt, receipt_pdf

    response = post_receipt(client, world, receipt_pdf(), user=member, member=member)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["sha256"])


def _second_fund(client: FlaskClient, world: DemoWorld) -> dict[str, Any]:
    """A fund of member02's organisation (another organisation than member01's)."""
    return activated_fund(
        client, world, organisation_id=world.member_organisation["member02"], reference="FC-2026-002"
    )


# --- Each kind's numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "invoice",
    [
        DIGITAL,
        VAT,
        {"receipt_kind": "vat_invoice", "invoice_code": "042002300111", "invoice_number": "12345678"},
        FISCAL,
        {"receipt_kind": "plain_receipt"},
        {},
        {**DIGITAL, "seller_taxpayer_id": "420102123456789"},
        {**DIGITAL, "seller_taxpayer_id": "91420100ma4kx1234b"},
    ],
)
def test_each_kind_takes_its_own_lengths(
    client: FlaskClient, world: DemoWorld, invoice: dict[str, str]
) -> None:
    fund = activated_fund(client, world)
    report = _report(client, world, fund, "member01", "三月报销 March")
    response = _put_lines(client, world, report, "member01", [_line(client, world, **invoice)])
    assert response.status_code == 200, response.get_json()
    line = response.get_json()["lines"][0]
    assert line["receipt_kind"] == invoice.get("receipt_kind", "plain_receipt")
    assert line["invoice_number"] == invoice.get("invoice_number")
    assert line["invoice_code"] == invoice.get("invoice_code")
    assert line["seller_taxpayer_id"] == (
        invoice["seller_taxpayer_id"].upper() if "seller_taxpayer_id" in invoice else None
    )


@pytest.mark.parametrize(
    ("invoice", "field", "says"),
    [
        ({**DIGITAL, "invoice_number": "2442200000001234567"}, "invoice_number", "must be 20 digits"),
        ({**DIGITAL, "invoice_code": "4200231130"}, "invoice_code", "a digital invoice has no invoice code"),
        ({"receipt_kind": "digital_invoice"}, "invoice_number", "must be 20 digits"),
        ({**VAT, "invoice_code": "42002311"}, "invoice_code", "must be 10 or 12 digits"),
        ({**VAT, "invoice_number": "1234567"}, "invoice_number", "must be 8 digits"),
        ({**VAT, "invoice_number": "1234567A"}, "invoice_number", "must be 8 digits"),
        ({**FISCAL, "invoice_code": "4201012"}, "invoice_code", "must be 8 digits"),
        ({**FISCAL, "invoice_number": "001234567"}, "invoice_number", "must be 10 digits"),
        (
            {"receipt_kind": "plain_receipt", "invoice_number": "01234567"},
            "invoice_number",
            "no invoice number",
        ),
        ({**DIGITAL, "seller_taxpayer_id": "91420100MA4KX1234C"}, "seller_taxpayer_id", "check character"),
        ({**DIGITAL, "seller_taxpayer_id": "4201021234567"}, "seller_taxpayer_id", "not 13"),
        ({**DIGITAL, "seller_taxpayer_id": "42010212345678-"}, "seller_taxpayer_id", "digits and capital"),
        ({"receipt_kind": "receipt"}, "receipt_kind", "Must be one of"),
    ],
)
def test_a_wrong_length_is_refused_at_the_field(
    client: FlaskClient, world: DemoWorld, invoice: dict[str, str], field: str, says: str
) -> None:
    fund = activated_fund(client, world)
    report = _report(client, world, fund, "member01", "三月报销 March")
    line = _line(client, world, **invoice)
    counts = table_counts(world.app)
    body = assert_problem(_put_lines(client, world, report, "member01", [line]), 422, f"lines.0.{field}")
    assert any(says in message for message in body["errors"][f"lines.0.{field}"]), body
    assert table_counts(world.app) == counts


# --- One claim per invoice ---------------------------------------------------------------------


def test_a_second_claim_in_the_same_organisation_names_the_report(
    client: FlaskClient, world: DemoWorld
) -> None:
    fund = activated_fund(client, world)
    first = _report(client, world, fund, "member01", "三月报销 March")
    assert _put_lines(client, world, first, "member01", [_line(client, world, **VAT)]).status_code == 200
    assert count_rows(world.app, InvoiceClaim) == 1
    second = _report(client, world, fund, "member01", "四月报销 April")
    lines = [_line(client, world, **DIGITAL), _line(client, world, **VAT)]
    counts = table_counts(world.app)
    body = assert_problem(_put_lines(client, world, second, "member01", lines), 422, "lines.1.invoice_number")
    assert body["code"] == "expense_report.invoice_claimed"
    assert body["errors"] == {
        "lines.1.invoice_number": [
            "this invoice is already claimed on the report “三月报销 March” (FC-2026-001)"
        ]
    }
    assert table_counts(world.app) == counts
    # The same invoice twice in one report is refused at the second line.
    body = assert_problem(
        _put_lines(client, world, second, "member01", [_line(client, world, **FISCAL)] * 2),
        422,
        "lines.1.invoice_number",
    )
    assert body["errors"]["lines.1.invoice_number"] == ["the same invoice is on line 1"]
    # Setting the first report's lines again keeps its own claim.
    assert _put_lines(client, world, first, "member01", [_line(client, world, **VAT)]).status_code == 200
    assert count_rows(world.app, InvoiceClaim) == 1


def test_a_claim_in_another_organisation_names_nothing(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    first = _report(client, world, fund, "member01", "三月报销 March")
    assert _put_lines(client, world, first, "member01", [_line(client, world, **DIGITAL)]).status_code == 200
    other_fund = _second_fund(client, world)
    other = _report(client, world, other_fund, "member02", "另一家 Another")
    line = _line(client, world, "member02", **DIGITAL)
    counts = table_counts(world.app)
    response = _put_lines(client, world, other, "member02", [line])
    body = assert_problem(response, 422, "lines.0.invoice_number")
    assert body["code"] == "expense_report.invoice_claimed"
    assert body["errors"] == {"lines.0.invoice_number": ["this invoice is already claimed"]}
    assert "三月" not in response.get_data(as_text=True)
    assert "FC-2026-001" not in response.get_data(as_text=True)
    assert table_counts(world.app) == counts


def test_a_rejected_report_releases_its_claim(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    first = _report(client, world, fund, "member01", "三月报销 March")
    assert _put_lines(client, world, first, "member01", [_line(client, world, **FISCAL)]).status_code == 200
    url = f"/api/v1/expense-reports/{first['id']}"
    assert client.post(f"{url}/submit", headers=world.auth("member01")).status_code == 200
    second = _report(client, world, fund, "member01", "四月报销 April")
    refused = _put_lines(client, world, second, "member01", [_line(client, world, **FISCAL)])
    assert_problem(refused, 422, "lines.0.invoice_number")
    rejected = client.post(
        f"{url}/reject", json={"comment": "重复报销 claimed twice"}, headers=world.auth("finance1")
    )
    assert rejected.status_code == 200, rejected.get_json()
    assert count_rows(world.app, InvoiceClaim) == 0
    again = _put_lines(client, world, second, "member01", [_line(client, world, **FISCAL)])
    assert again.status_code == 200, again.get_json()
    assert count_rows(world.app, InvoiceClaim) == 1


def test_a_voided_report_releases_its_claim(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    first = _report(client, world, fund, "member01", "三月报销 March")
    assert _put_lines(client, world, first, "member01", [_line(client, world, **VAT)]).status_code == 200
    url = f"/api/v1/expense-reports/{first['id']}"
    assert client.post(f"{url}/submit", headers=world.auth("member01")).status_code == 200
    assert client.post(f"{url}/approve", headers=world.auth("finance2")).status_code == 200
    voided = client.post(
        f"{url}/void",
        json={"date": "2026-03-20", "reason": "发票作废 invoice cancelled"},
        headers=world.auth("finance1"),
    )
    assert voided.status_code == 200, voided.get_json()
    second = _report(client, world, fund, "member01", "四月报销 April")
    assert _put_lines(client, world, second, "member01", [_line(client, world, **VAT)]).status_code == 200


# --- Near-duplicates ---------------------------------------------------------------------------


def test_same_seller_date_and_amount_is_flagged_not_refused(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    first = _report(client, world, fund, "member01", "三月报销 March")
    assert (
        _put_lines(client, world, first, "member01", [_line(client, world, **VAT, **SELLER)]).status_code
        == 200
    )
    second = _report(client, world, fund, "member01", "四月报销 April")
    plain = {"receipt_kind": "plain_receipt", **SELLER, "seller_taxpayer_id": None}
    other_seller = {**DIGITAL, **SELLER, "seller_name": "别家 Elsewhere", "seller_taxpayer_id": None}
    response = _put_lines(
        client,
        world,
        second,
        "member01",
        [_line(client, world, **plain), _line(client, world, **other_seller)],
    )
    assert response.status_code == 200, response.get_json()
    lines = response.get_json()["lines"]
    assert lines[0]["near_duplicates"] == [
        {"report_id": first["id"], "report_title": "三月报销 March", "line": 1}
    ]
    assert lines[1]["near_duplicates"] == []
    seen_first = client.get(
        f"/api/v1/expense-reports/{first['id']}", headers=world.auth("finance1")
    ).get_json()
    assert seen_first["lines"][0]["near_duplicates"] == [
        {"report_id": second["id"], "report_title": "四月报销 April", "line": 1}
    ]
    assert seen_first["lines"][0]["invoice_amount"] == "1260.00"
    assert seen_first["lines"][0]["invoice_date"] == "2026-03-10"


def test_a_near_duplicate_in_another_organisation_is_not_named(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    first = _report(client, world, fund, "member01", "三月报销 March")
    assert (
        _put_lines(client, world, first, "member01", [_line(client, world, **VAT, **SELLER)]).status_code
        == 200
    )
    other = _report(client, world, _second_fund(client, world), "member02", "另一家 Another")
    response = _put_lines(client, world, other, "member02", [_line(client, world, "member02", **SELLER)])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["lines"][0]["near_duplicates"] == [
        {"report_id": None, "report_title": None, "line": None}
    ]
    # A finance officer who sees both organisations is told which report it is.
    seen = client.get(f"/api/v1/expense-reports/{other['id']}", headers=world.auth("finance1")).get_json()
    assert seen["lines"][0]["near_duplicates"] == [
        {"report_id": first["id"], "report_title": "三月报销 March", "line": 1}
    ]


# --- A digital invoice's XML -------------------------------------------------------------------


def _parse(client: FlaskClient, world: DemoWorld, data: bytes, user: str = "member01") -> TestResponse:
    return client.post(
        "/api/v1/invoices/parse",
        data={"file": (io.BytesIO(data), "invoice.xml")},
        content_type="multipart/form-data",
        headers=world.auth(user),
    )


def test_the_sample_xml_gives_the_invoice_fields(client: FlaskClient, world: DemoWorld) -> None:
    counts = table_counts(world.app)
    response = _parse(client, world, SAMPLE_XML.read_bytes())
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "receipt_kind": "digital_invoice",
        "invoice_number": "24422000000012345678",
        "invoice_date": "2026-03-10",
        "seller_name": "武汉某某印务有限公司",
        "seller_taxpayer_id": "91420100MA4KX1234B",
        "invoice_amount": "1260.00",
    }
    assert table_counts(world.app) == counts


@pytest.mark.parametrize(
    "data",
    [
        b"<?xml version='1.0' encoding='UTF-8'?><Order><Number>42</Number></Order>",
        b"not xml at all",
        b"%PDF-1.4\n%%EOF\n",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><EInvoice><InvoiceNumber>&a;</InvoiceNumber></EInvoice>',
    ],
)
def test_an_xml_that_is_not_an_invoice_is_refused_naming_the_file(
    client: FlaskClient, world: DemoWorld, data: bytes
) -> None:
    counts = table_counts(world.app)
    assert_problem(_parse(client, world, data), 422, "file")
    assert table_counts(world.app) == counts


def test_an_auditor_does_not_parse_invoices(client: FlaskClient, world: DemoWorld) -> None:
    assert_problem(_parse(client, world, SAMPLE_XML.read_bytes(), user="auditor"), 403)


# --- Verified by an officer --------------------------------------------------------------------


def test_a_finance_officer_records_an_invoice_as_verified(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    report = _report(client, world, fund, "member01", "三月报销 March")
    lines = [_line(client, world, **DIGITAL, **SELLER), _line(client, world)]
    assert _put_lines(client, world, report, "member01", lines).status_code == 200
    url = f"/api/v1/expense-reports/{report['id']}"
    assert client.post(f"{url}/submit", headers=world.auth("member01")).status_code == 200
    # The filer does not verify; nor does anyone a line without an invoice number.
    assert_problem(client.post(f"{url}/lines/1/invoice-verification", headers=world.auth("member01")), 403)
    body = assert_problem(
        client.post(f"{url}/lines/2/invoice-verification", headers=world.auth("finance2")), 409
    )
    assert body["code"] == "expense_report.no_invoice"
    assert_problem(client.post(f"{url}/lines/3/invoice-verification", headers=world.auth("finance2")), 404)
    verified = client.post(f"{url}/lines/1/invoice-verification", headers=world.auth("finance2"))
    assert verified.status_code == 200, verified.get_json()
    line = verified.get_json()["lines"][0]
    assert line["invoice_verified_at"] is not None
    approved = client.post(f"{url}/approve", headers=world.auth("finance2"))
    assert approved.status_code == 200, approved.get_json()
    assert line["invoice_verified_by"] == approved.get_json()["decided_by"]
    assert approved.get_json()["lines"][1]["invoice_verified_by"] is None
    with world.app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action)))
        actions += list(db.session.scalars(select(AuditQueueItem.action)))
    assert actions.count("expense_report.invoice_verified") == 1
    # Verifying again changes nothing and records nothing.
    again = client.post(f"{url}/lines/1/invoice-verification", headers=world.auth("finance1"))
    assert again.status_code == 200
    assert again.get_json()["lines"][0]["invoice_verified_by"] == line["invoice_verified_by"]


# --- Two organisations at once (PostgreSQL) ----------------------------------------------------


def _at_once(
    app: Flask, world: DemoWorld, requests: list[tuple[dict[str, Any], str, list[dict[str, Any]]]]
) -> list[TestResponse]:
    """Each (report, member, lines) set at the same moment, each on its own client and thread."""
    start = threading.Barrier(len(requests))
    responses: list[TestResponse] = []
    lock = threading.Lock()

    def send(report: dict[str, Any], member: str, lines: list[dict[str, Any]]) -> None:
        own = app.test_client()
        start.wait()
        response = _put_lines(own, world, report, member, lines)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=send, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


@pytest.mark.postgres_only
@pytest.mark.skipif(not is_postgres(), reason="SQLite runs one writer at a time: there is no race to decide")
def test_two_organisations_claiming_one_invoice_at_once_one_wins(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    first = _report(client, world, activated_fund(client, world), "member01", "三月报销 March")
    second = _report(client, world, _second_fund(client, world), "member02", "另一家 Another")
    requests = [
        (first, "member01", [_line(client, world, **VAT)]),
        (second, "member02", [_line(client, world, "member02", **VAT)]),
    ]
    for attempt in range(3):
        for _holder, _member, lines in requests:
            lines[0]["invoice_number"] = f"7654321{attempt}"
        responses = _at_once(app, world, requests)
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200, 422], [r.get_json() for r in responses]
        refused = next(r for r in responses if r.status_code == 422).get_json()
        assert refused["code"] == "expense_report.invoice_claimed"
        assert list(refused["errors"]) == ["lines.0.invoice_number"]
        with app.app_context():
            holders = db.session.scalars(
                select(InvoiceClaim.report_id).where(InvoiceClaim.invoice_number == f"7654321{attempt}")
            ).all()
        assert len(holders) == 1
