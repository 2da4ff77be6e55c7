"""A member's report page keeps what was typed and attached after a refusal, confirms success, totals
the lines; the member's home page says which reports came back and what to do next."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import empty_report, fund_with_schedule, receipt_pdf, uploaded_receipt
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, line_form, signed_in_client


def _draft(client: FlaskClient, world: DemoWorld) -> str:
    return empty_report(client, world, fund_with_schedule(client, world), "四月报销")


def test_a_refused_line_keeps_what_was_typed_and_the_receipt_then_saves_with_a_confirmation(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    report = _draft(client, world)
    member = signed_in_client(app, "member01")
    token = csrf_token_of(member, f"/reports/{report}")
    page = member.get(f"/reports/{report}").get_data(as_text=True)

    refused = member.post(
        f"/reports/{report}/lines",
        data={
            **line_form(page, token, amount="1,25.0"),
            "receipt": (io.BytesIO(receipt_pdf()), "发票一.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for typed in ("1,25.0", "康乐家政", "上门助浴服务"):
        assert f'value="{typed}"' in html
    assert "请按“1,250.50”的样子填写金额" in html
    assert "这一行尚未保存，请改正：" in html  # the summary at the top
    assert 'id="error-amount"' in html  # and at the field
    assert "已附：发票一.pdf" in html
    sha = re.search(r'name="receipt_sha256" value="([0-9a-f]{64})"', html)
    assert sha

    # Fixed, without attaching the receipt again.
    saved = member.post(
        f"/reports/{report}/lines",
        data={**line_form(html, token, receipt_sha256=sha.group(1), receipt_name="发票一.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    assert "第1行已保存。" in html
    # The line, the 合计 row, the report's total beside the organisation, and the category's share of it.
    assert html.count("¥1,250.50") == 4
    assert "合计" in html
    assert f"/receipts/{sha.group(1)}" in html

    submitted = member.post(
        f"/reports/{report}/submit", data={**line_form(html, token)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "报销单已提交。财务人员审核后，结果会显示在这里。" in submitted


def test_submitting_a_report_with_problems_shows_them_in_a_banner(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    report = _draft(client, world)
    member = signed_in_client(app, "member01")
    token = csrf_token_of(member, f"/reports/{report}")
    page = member.get(f"/reports/{report}").get_data(as_text=True)
    refused = member.post(f"/reports/{report}/submit", data=line_form(page, token))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "报销单尚未提交，请先改正：" in html
    assert 'role="alert" id="problems"' in html


def test_the_home_page_flags_returned_reports_with_the_comment_and_what_to_do(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    report = _draft(client, world)
    lines = {
        "lines": [
            {
                "category_code": "ACTIVITY",
                "amount": "¥1,250.50",
                "incurred_on": "2026-03-10",
                "payee": "康乐家政",
                "description": "上门助浴服务",
                "receipt_sha256": uploaded_receipt(client, world),
            }
        ]
    }
    current = client.get(f"/api/v1/expense-reports/{report}", headers=world.auth("member01"))
    put = client.put(
        f"/api/v1/expense-reports/{report}/lines",
        json=lines,
        headers={**world.auth("member01"), "If-Match": current.headers["ETag"]},
    )
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["lines"][0]["amount"] == "1250.50"  # the API reads what people type too
    submit = client.post(
        f"/api/v1/expense-reports/{report}/submit",
        headers={**world.keyed("member01"), "If-Match": put.headers["ETag"]},
    )
    assert submit.status_code == 200, submit.get_json()
    back = client.post(
        f"/api/v1/expense-reports/{report}/return",
        json={"comment": "请补充活动签到表"},
        headers={**world.keyed("finance1"), "If-Match": submit.headers["ETag"]},
    )
    assert back.status_code == 200, back.get_json()

    home = signed_in_client(app, "member01").get("/").get_data(as_text=True)
    assert "我的报销单" in home
    assert re.search(r"退回待修改</dt><dd>1</dd>", home)
    assert "财务人员意见： 请补充活动签到表" in home
    assert "下一步：按意见修改后重新提交。" in home
