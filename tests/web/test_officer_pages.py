"""The finance officer's pages: refusals on the page they came from, names not ids, 借方/贷方, month close."""

from __future__ import annotations

import re
import uuid

from flask import Flask

from ledger.demo import DEMO_PASSWORD
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client, table_counts


def _active_fund_id(app: Flask, world: DemoWorld) -> str:
    listed = app.test_client().get("/api/v1/funds", headers=world.auth("finance1")).get_json()
    funds = listed["items"] if isinstance(listed, dict) else listed
    return next(f["id"] for f in funds if f["status"] == "active")


def test_over_the_award_is_shown_on_the_fund_page_with_the_form_kept(
    app: Flask, funded_world: DemoWorld
) -> None:
    fund_id = _active_fund_id(app, funded_world)
    officer = signed_in_client(app, "finance1", DEMO_PASSWORD)
    before = table_counts(app)
    response = officer.post(
        f"/funds/{fund_id}/disbursements",
        data={
            "kind": "reimbursement",
            "amount": "99999999.00",
            "memo": "远远超出",
            "idempotency_key": uuid.uuid4().hex,
            "csrf_token": csrf_token_of(officer, f"/funds/{fund_id}"),
        },
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="problem-summary"' in page
    assert 'id="error-amount"' in page
    assert "超出资助余额：剩余 ¥" in page
    assert 'value="99999999.00"' in page
    assert 'value="远远超出"' in page
    assert "数据已被他人更改" not in page
    assert table_counts(app) == before


def test_the_queue_names_the_organisation_and_the_books_say_whose(
    app: Flask, funded_world: DemoWorld
) -> None:
    officer = signed_in_client(app, "finance1", DEMO_PASSWORD)
    queue = officer.get("/queue").get_data(as_text=True)
    assert "组织" in queue
    organisation = funded_world.member_organisation["member01"]
    books = officer.get(f"/organisations/{organisation}/books").get_data(as_text=True)
    assert "的账簿" in books
    assert "借方余额" in books
    assert "贷方余额" in books
    assert "重新开账" not in books


def _form_action(page: str, ending: str) -> str:
    found = re.search(rf'action="(/[^"]*{ending})"', page)
    assert found, ending
    return found.group(1)


def test_each_action_is_confirmed_on_the_page_it_leads_to(app: Flask, funded_world: DemoWorld) -> None:
    """Prepare, approve (by another officer), decide a report: each says what it did, in Chinese."""
    fund_id = _active_fund_id(app, funded_world)
    preparer = signed_in_client(app, "finance1", DEMO_PASSWORD)
    prepared = preparer.post(
        f"/funds/{fund_id}/disbursements",
        data={
            "kind": "reimbursement",
            "amount": "100.00",
            "memo": "确认提示",
            "idempotency_key": uuid.uuid4().hex,
            "csrf_token": csrf_token_of(preparer, f"/funds/{fund_id}"),
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert '<p class="card ok" role="status">✓ 拨付单已制单，须由另一位财务人员审批后付款。</p>' in prepared

    approver = signed_in_client(app, "finance2", DEMO_PASSWORD)
    fund_page = approver.get(f"/funds/{fund_id}").get_data(as_text=True)
    approved = approver.post(
        _form_action(fund_page, "/approve"),
        data={"csrf_token": csrf_token_of(approver, f"/funds/{fund_id}")},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "✓ 拨付单已审批。银行付款后请登记已付款。" in approved
    # Shown once: the next page has no banner.
    assert "✓" not in approver.get(f"/funds/{fund_id}").get_data(as_text=True).split("<main", 1)[1][:400]

    queue = approver.get("/queue").get_data(as_text=True)
    report_path = re.search(r'href="(/reports/[0-9a-f-]{36})"', queue)
    assert report_path
    report_page = approver.get(report_path.group(1)).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', report_page)
    assert version
    decided = approver.post(
        f"{report_path.group(1)}/decide",
        data={
            "decision": "return",
            "comment": "请补充发票",
            "version": version.group(1),
            "csrf_token": csrf_token_of(approver, report_path.group(1)),
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "✓ 报销单已连同您的意见退回该组织。" in decided
