"""The report page records each line's invoice: an XML fills the fields in, wrong numbers are refused in
Chinese at the field, a claimed invoice names its report, and the finance officer sees near-duplicates
and records an invoice as verified."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import activated_fund, empty_report, receipt_pdf, report_line
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, line_form, signed_in_client

SAMPLE_XML = Path(__file__).resolve().parents[1] / "data" / "digital_invoice.xml"


# The add-line form with the invoice fields, left empty unless a test fills them.
NO_INVOICE = {
    "amount": "1,260.00",
    "payee": "武汉某某印务",
    "description": "活动宣传单印刷",
    "receipt_kind": "plain_receipt",
    "invoice_code": "",
    "invoice_number": "",
    "invoice_date": "",
    "invoice_amount": "",
    "seller_name": "",
    "seller_taxpayer_id": "",
}


def _line(page: str, token: str, **fields: object) -> dict[str, object]:
    return line_form(page, token, **{**NO_INVOICE, **fields})


def _value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def test_an_xml_fills_the_invoice_fields_then_the_line_is_saved_with_them(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    report = empty_report(client, world, activated_fund(client, world), "三月报销 March")
    member = signed_in_client(app, "member01")
    token = csrf_token_of(member, f"/reports/{report}")
    page = member.get(f"/reports/{report}").get_data(as_text=True)
    for label in (
        "票据类型",
        "发票代码",
        "发票号码",
        "开票日期",
        "价税合计（¥）",
        "销售方",
        "销售方纳税人识别号",
    ):
        assert label in page

    filled = member.post(
        f"/reports/{report}/lines",
        data={
            **_line(page, token, amount="", payee=""),
            "receipt": (io.BytesIO(SAMPLE_XML.read_bytes()), "发票.xml"),
        },
        content_type="multipart/form-data",
    )
    assert filled.status_code == 200
    html = filled.get_data(as_text=True)
    assert "已根据 XML 文件填写发票信息。" in html
    assert '<option value="digital_invoice" selected>数电发票</option>' in html
    assert _value(html, "invoice_number") == "24422000000012345678"
    assert _value(html, "invoice_date") == "2026-03-10"
    assert _value(html, "invoice_amount") == "1260.00"
    assert _value(html, "seller_name") == "武汉某某印务有限公司"
    assert _value(html, "seller_taxpayer_id") == "91420100MA4KX1234B"
    assert _value(html, "amount") == "1260.00"  # empty before: taken from the invoice
    assert _value(html, "payee") == "武汉某某印务有限公司"

    saved = member.post(
        f"/reports/{report}/lines",
        data={
            **_line(
                html,
                token,
                receipt_kind="digital_invoice",
                invoice_number="24422000000012345678",
                invoice_date="2026-03-10",
                invoice_amount="1260.00",
                seller_name="武汉某某印务有限公司",
                seller_taxpayer_id="91420100MA4KX1234B",
            ),
            "receipt": (io.BytesIO(receipt_pdf()), "发票.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    assert "第1行已保存。" in html
    assert '数电发票<br><span class="mono">24422000000012345678</span>' in html
    line = client.get(f"/api/v1/expense-reports/{report}", headers=world.auth("member01")).get_json()[
        "lines"
    ][0]
    assert (line["receipt_kind"], line["invoice_number"], line["invoice_amount"]) == (
        "digital_invoice",
        "24422000000012345678",
        "1260.00",
    )


def test_wrong_numbers_a_claimed_invoice_and_a_file_that_is_no_invoice_are_refused_in_chinese(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = activated_fund(client, world)
    first = empty_report(client, world, fund, "三月报销 March")
    second = empty_report(client, world, fund, "四月报销 April")
    member = signed_in_client(app, "member01")
    token = csrf_token_of(member, f"/reports/{first}")
    vat = {"receipt_kind": "vat_invoice", "invoice_code": "4200231130", "invoice_number": "01234567"}

    page = member.get(f"/reports/{first}").get_data(as_text=True)
    refused = member.post(
        f"/reports/{first}/lines",
        data={
            **_line(page, token, **{**vat, "invoice_number": "0123456"}),
            "receipt": (io.BytesIO(receipt_pdf()), "a.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "应为 8 位数字" in html
    assert 'id="error-invoice_number"' in html
    assert "发票号码" in html
    assert _value(html, "invoice_code") == "4200231130"

    sha = re.search(r'name="receipt_sha256" value="([0-9a-f]{64})"', html)
    assert sha
    ok = member.post(
        f"/reports/{first}/lines",
        data=_line(html, token, receipt_sha256=sha.group(1), **vat),
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302

    page = member.get(f"/reports/{second}").get_data(as_text=True)
    claimed = member.post(
        f"/reports/{second}/lines",
        data={**_line(page, token, **vat), "receipt": (io.BytesIO(receipt_pdf()), "b.pdf")},
        content_type="multipart/form-data",
    )
    assert claimed.status_code == 422
    assert "该发票已在报销单“三月报销 March”（FC-2026-001）中报销" in claimed.get_data(as_text=True)

    no_invoice = member.post(
        f"/reports/{second}/lines",
        data={**_line(page, token), "receipt": (io.BytesIO(b"<?xml version='1.0'?><Order/>"), "order.xml")},
        content_type="multipart/form-data",
    )
    assert no_invoice.status_code == 422
    html = no_invoice.get_data(as_text=True)
    assert "不是数电发票的 XML 文件（未找到 20 位发票号码）" in html
    assert 'id="error-receipt"' in html


def test_the_officer_sees_a_near_duplicate_and_records_the_invoice_as_verified(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = activated_fund(client, world)
    seller = {
        "invoice_date": "2026-03-10",
        "invoice_amount": "1260.00",
        "seller_name": "武汉某某印务有限公司",
    }
    reports = []
    for title, invoice in (
        (
            "三月报销 March",
            {"receipt_kind": "vat_invoice", "invoice_code": "4200231130", "invoice_number": "01234567"},
        ),
        ("四月报销 April", {"receipt_kind": "plain_receipt"}),
    ):
        report = empty_report(client, world, fund, title)
        line = report_line(client, world, "ACTIVITY", "1260.00", **invoice, **seller)
        response = client.put(
            f"/api/v1/expense-reports/{report}/lines",
            json={"lines": [line]},
            headers={**world.auth("member01"), "If-Match": "*"},
        )
        assert response.status_code == 200, response.get_json()
        assert (
            client.post(
                f"/api/v1/expense-reports/{report}/submit", headers=world.auth("member01")
            ).status_code
            == 200
        )
        reports.append(report)

    officer = signed_in_client(app, "finance1")
    html = officer.get(f"/reports/{reports[1]}").get_data(as_text=True)
    assert (
        "第1行：与报销单“三月报销 March”第 1 行的销售方、开票日期和金额相同，请核实是否为同一笔支出。" in html
    )
    assert f'href="/reports/{reports[0]}"' in html
    assert "登记发票已查验" not in html  # a plain receipt has no number to verify

    html = officer.get(f"/reports/{reports[0]}").get_data(as_text=True)
    assert "登记发票已查验" in html
    token = csrf_token_of(officer, f"/reports/{reports[0]}")
    verified = officer.post(
        f"/reports/{reports[0]}/lines/1/invoice-verification",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert verified.status_code == 200
    html = verified.get_data(as_text=True)
    assert "第1行的发票已登记为已查验。" in html
    assert "已查验：财务专员甲 Finance Officer One" in html
    assert "登记发票已查验" not in html

    # The member who filed it sees the verification, but no warning and no button.
    member_html = signed_in_client(app, "member01").get(f"/reports/{reports[1]}").get_data(as_text=True)
    assert "请核实是否为同一笔支出" not in member_html
