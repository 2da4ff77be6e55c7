"""The administration pages: one page each, with search, paging, values in words and a message after a change."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from ledger.web.views.admin import SECTIONS
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client, table_counts

RAW_VALUES = re.compile(
    r">(social_group|social_service_organisation|foundation|life_services|culture_sports|lottery_grant|"
    r"incubation_fund|procurement_contract|org_member|finance_officer|registered|filed|deregistered|urban|rural)<"
)


def test_admin_is_the_communities_page_and_each_page_has_the_nav(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "admin")
    assert client.get("/admin").headers["Location"].endswith("/admin/communities")
    for section in SECTIONS:
        page = client.get(f"/admin/{section}").get_data(as_text=True)
        assert f'href="/admin/{section}" aria-current="page"' in page
        assert all(f'href="/admin/{other}"' in page for other in SECTIONS)
        assert not RAW_VALUES.search(page), (section, RAW_VALUES.search(page))


@pytest.mark.parametrize(
    ("section", "search", "shown", "hidden"),
    [
        ("communities", "百步亭", "420102012001", "420102012002"),
        ("communities", "4201162002", "420116200201", "420102012001"),
        ("users", "houhu", "houhu.finance2", "member01"),
        ("organisations", "100%_", "共 0 条", "<tbody><tr>"),
    ],
)
def test_a_search_keeps_the_matching_rows(
    app: Flask, world: DemoWorld, section: str, search: str, shown: str, hidden: str
) -> None:
    page = (
        signed_in_client(app, "admin")
        .get(f"/admin/{section}", query_string={"q": search})
        .get_data(as_text=True)
    )
    assert shown in page or section == "organisations"
    assert hidden not in page


def test_users_come_twenty_to_a_page(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "admin")
    first = client.get("/admin/users").get_data(as_text=True)
    assert "第 1 页，共 2 页" in first
    assert first.count('class="inline user-row"') == 20
    assert 'href="/admin/users?page=2" rel="next"' in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "<td>qianchuan.finance</td>" in second
    assert "<td>admin</td>" not in second
    # A page past the last shows the last.
    assert "第 2 页，共 2 页" in client.get("/admin/users?page=99").get_data(as_text=True)


def test_values_are_shown_in_words(app: Flask, funded_world: DemoWorld) -> None:
    client = signed_in_client(app, "admin")
    organisations = client.get("/admin/organisations").get_data(as_text=True)
    assert "社会团体" in organisations or "社会服务机构" in organisations
    assert "已登记" in organisations
    assert "已备案" in organisations
    funds = client.get("/admin/funds").get_data(as_text=True)
    assert "公益创投资金" in funds or "彩票公益金资助" in funds
    users = client.get("/admin/users").get_data(as_text=True)
    assert "财务人员" in users or "组织成员" in users


def test_a_refusal_is_summed_up_at_the_top_and_a_change_is_confirmed(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "admin")
    token = csrf_token_of(client, "/admin/users")
    form = {
        "csrf_token": token,
        "username": "",
        "display_name": "新人",
        "role": "auditor",
        "password": "x",
        "idempotency_key": "t-1",
    }
    refused = client.post("/admin/users", data=form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    summary = html.index('id="problems"')
    assert summary < html.index('id="error-username"')
    assert 'href="#error-username">用户名：' in html
    done = client.post(
        "/admin/users", data={**form, "username": "new.auditor", "password": "long-enough-pw-1"}
    )
    assert done.status_code == 302, re.findall(r"href=\"#error[^>]*>([^<]*)", done.get_data(as_text=True))
    assert done.headers["Location"].endswith("/admin/users")
    assert "已添加用户 new.auditor。" in client.get("/admin/users?q=new.").get_data(as_text=True)


def test_the_fund_form_records_the_award_and_signing_days(app: Flask, world: DemoWorld) -> None:
    """The days the open data dates the award and the contract by are typed on the page, checked in
    order by the same rule as the API, and shown on the fund's card."""
    client = signed_in_client(app, "admin")
    terms = {
        "csrf_token": csrf_token_of(client, "/admin/funds"),
        "kind": "incubation_fund",
        "title": "社区公益创投",
        "reference": "WEB-2026-031",
        "funder_name": "江岸区民政局",
        "organisation_id": world.member_organisation["member01"],
        "award": "50000.00",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "restriction_purpose": "社区服务",
        "restricted": "on",
        "awarded_on": "2025-12-20",
        "signed_on": "2025-12-18",
        "idempotency_key": "f-web-31",
    }
    before = table_counts(app)
    refused = client.post("/admin/funds", data=terms)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert re.search(r'id="error-signed_on"[^>]*>[^<]*不能早于授予决定日期', html)
    assert 'value="2025-12-18"' in html
    assert table_counts(app) == before
    made = client.post(
        "/admin/funds", data={**terms, "signed_on": "2025-12-28", "idempotency_key": "f-web-32"}
    )
    assert made.status_code == 302
    fund_page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "授予日期 2025-12-20" in fund_page
    assert "签约日期 2025-12-28" in fund_page
