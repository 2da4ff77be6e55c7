"""Every page in the reader's language: the catalog's Chinese by default, English when chosen,
and the refusals of the services and of marshmallow translated with their values."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.demo import DEMO_PASSWORD
from ledger.messages import translatable
from ledger.web.translated import in_reader_language
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client, table_counts

# The demo's valid code is 51420000MJH200395N: this one ends in the wrong check character.
WRONG_CHECK_CHARACTER = "51420000MJH2003954"


def _in_english(client: FlaskClient) -> None:
    assert client.get("/language/en").status_code == 302


def _post_organisation(client: FlaskClient, world: DemoWorld) -> str:
    response = client.post(
        "/admin/organisations",
        data={
            "name": "新社区服务社",
            "credit_code": WRONG_CHECK_CHARACTER,
            "registration_type": "social_group",
            "community_id": world.community_ids[0],
            "idempotency_key": uuid.uuid4().hex,
            "csrf_token": csrf_token_of(client, "/admin/organisations"),
        },
    )
    assert response.status_code == 422
    return response.get_data(as_text=True)


def test_a_chinese_page_shows_the_credit_code_refusal_in_chinese(app: Flask, world: DemoWorld) -> None:
    admin = signed_in_client(app, "admin", DEMO_PASSWORD)
    before = table_counts(app)
    page = _post_organisation(admin, world)
    assert 'id="error-credit_code"' in page
    assert "校验码为 &#39;4&#39;，应为 &#39;N&#39;" in page
    assert "check character" not in page
    assert '<html lang="zh-Hans">' in page
    assert table_counts(app) == before


def test_the_same_refusal_in_english_when_english_is_chosen(app: Flask, world: DemoWorld) -> None:
    admin = signed_in_client(app, "admin", DEMO_PASSWORD)
    _in_english(admin)
    page = _post_organisation(admin, world)
    assert "check character is &#39;4&#39;, expected &#39;N&#39;" in page
    assert "校验码" not in page
    assert '<html lang="en">' in page
    assert "Unified Social Credit Code" in page


def test_accept_language_chooses_english_until_the_switch_says_otherwise(
    app: Flask, world: DemoWorld
) -> None:
    client = app.test_client()
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True
    )
    assert "登录" in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    client.get("/language/zh")
    assert "登录" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def _active_fund_id(app: Flask, world: DemoWorld) -> str:
    client = app.test_client()
    listed = client.get("/api/v1/funds", headers=world.auth("finance1")).get_json()
    funds = listed["items"] if isinstance(listed, dict) else listed
    return next(f["id"] for f in funds if f["status"] == "active")


@pytest.mark.parametrize(
    ("english", "expected", "absent"),
    [
        (False, ["超出资助余额", "剩余 ¥", "far too much"], "more than is left"),
        (True, ["more than is left of the award", "is left", "far too much"], "超出"),
    ],
)
def test_a_domain_refusal_in_the_readers_language(
    app: Flask, funded_world: DemoWorld, english: bool, expected: list[str], absent: str
) -> None:
    fund_id = _active_fund_id(app, funded_world)
    officer = signed_in_client(app, "finance1", DEMO_PASSWORD)
    if english:
        _in_english(officer)
    before = table_counts(app)
    response = officer.post(
        f"/funds/{fund_id}/disbursements",
        data={
            "kind": "reimbursement",
            "amount": "99999999.00",
            "memo": "far too much",
            "idempotency_key": uuid.uuid4().hex,
            "csrf_token": csrf_token_of(officer, f"/funds/{fund_id}"),
        },
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    for text in expected:
        assert text in page
    assert absent not in page
    assert table_counts(app) == before


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Missing data for required field.", "此项为必填项。"),
        ("Not a valid date.", "不是有效的日期。"),
        ("Longer than maximum length 200.", "长度不能超过 200 个字符。"),
        ("Length must be between 1 and 64.", "长度必须在 1 到 64 个字符之间。"),
        ("Must be one of: urban, rural.", "必须是以下之一：urban, rural。"),
        (
            "Must be greater than or equal to 1 and less than or equal to 100.",
            "必须大于或等于 1 且小于或等于 100。",
        ),
        ("something no catalog knows", "something no catalog knows"),
    ],
)
def test_marshmallow_messages_are_translated_with_their_values(
    app: Flask, english: str, chinese: str
) -> None:
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert in_reader_language(english) == chinese
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert in_reader_language(english) == english


def test_a_message_is_english_text_and_translated_with_its_parameters(app: Flask) -> None:
    message = translatable("the period %(period)s is closed", period="2026-01")
    assert message == "the period 2026-01 is closed"
    nested = translatable("%(field)s: %(message)s", field="date", message=message)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert in_reader_language(nested) == "date：会计期间 2026-01 已结账"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert in_reader_language(nested) == "date: the period 2026-01 is closed"


def test_why_a_year_cannot_close_reads_in_the_pages_language(app: Flask, funded_world: DemoWorld) -> None:
    """The demo's 2026 has open months: the books page says so in Chinese, and in English when chosen."""
    officer = signed_in_client(app, "finance1", DEMO_PASSWORD)
    books = f"/organisations/{funded_world.member_organisation['member01']}/books"
    chinese = officer.get(books).get_data(as_text=True)
    assert "尚未结账，2026 年不能结转：请先结清本年各月。" in chinese
    assert "✓ 借贷平衡" in chinese  # the demo's books balance, as TrialBalance.is_balanced says
    assert "cannot be closed while" not in chinese
    assert officer.get("/language/en").status_code == 302
    assert "The year 2026 cannot be closed while" in officer.get(books).get_data(as_text=True)
