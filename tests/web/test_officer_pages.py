"""The finance officer's pages: refusals on the page they came from, names not ids, 借方/贷方, month close."""

from __future__ import annotations

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
