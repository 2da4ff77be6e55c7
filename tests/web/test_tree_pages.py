"""The administrative tree on the pages: whose area the header names, and the admin page's tree forms.

The demo's staff work at nodes of the illustrative Wuhan list (see ``ledger/demo.py``); the test
district 测试区 / 测试街道 (``builders.leaf``) gives spare community divisions.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import leaf
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client, table_counts


def _place(html: str) -> str:
    found = re.search(r'<span class="place"[^>]*>([^<]*)</span>', html)
    assert found, "the header names no place"
    return found.group(1)


@pytest.mark.parametrize(
    ("username", "zh", "en"),
    [
        ("houhu.finance1", "后湖街道", "后湖街道"),
        ("jiangan.supervisor", "江岸区", "江岸区"),
        ("huangpi.admin", "黄陂区", "黄陂区"),
        ("admin", "全部", "all areas"),
        ("member01", "百步亭社区为老服务中心 Baibuting Elderly Care Centre", None),
    ],
)
def test_the_header_names_where_the_person_works(
    app: Flask, world: DemoWorld, username: str, zh: str, en: str | None
) -> None:
    client = signed_in_client(app, username)
    assert _place(client.get("/").get_data(as_text=True)) == zh
    if en is not None:
        client.get("/language/en")
        assert _place(client.get("/").get_data(as_text=True)) == en


def test_the_supervisor_role_reads_as_a_civil_affairs_supervisor(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "jiangan.supervisor")
    assert "民政督导" in client.get("/").get_data(as_text=True)
    client.get("/language/en")
    assert "· supervisor ·" in client.get("/").get_data(as_text=True)


def _section(html: str, name: str) -> str:
    found = re.search(rf'<section class="card" id="{name}">(.*?)</section>', html, re.S)
    assert found, name
    return found.group(1)


def test_a_district_admin_sees_and_offers_only_their_district(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "huangpi.admin")
    page = client.get("/admin/communities").get_data(as_text=True)
    communities = _section(page, "communities")
    listed = re.findall(r"<tr><td><code>(\d{12})</code>", communities)
    assert listed == ["420116001001", "420116200201", "420116200202"]
    # Each row names its street and district, from the path.
    assert "<td>城关社区</td><td>城市社区</td><td>前川街道</td><td>黄陂区</td>" in communities
    # The create form offers the one community division of 黄陂区 without a community, under its street.
    select = re.search(r'<select id="c-code" name="code".*?</select>', page, re.S)
    assert select
    assert re.findall(r'<option value="(\d{12})"', select.group(0)) == ["420116001002"]
    assert '<optgroup label="前川街道">' in select.group(0)
    page = client.get("/admin/users").get_data(as_text=True)
    users = _section(page, "users")
    usernames = set(re.findall(r"<tr><td>([a-z0-9.]+)</td>", users))
    assert usernames == {
        "huangpi.admin",
        "qianchuan.finance",
        "member08",
        "member09",
        "member10",
        "member11",
        "member12",
    }
    # The nodes they may grant: their district and its streets, and not the whole deployment.
    scopes = re.search(r'<select id="u-scopes" name="scopes" multiple[^>]*>(.*?)</select>', page, re.S)
    assert scopes
    assert re.findall(r'<option value="([^"]+)"', scopes.group(1)) == [
        "420116000000",
        "420116001000",
        "420116200000",
    ]


def test_the_whole_deployment_admin_may_grant_everywhere(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "admin")
    page = client.get("/admin/users").get_data(as_text=True)
    scopes = re.search(r'<select id="u-scopes" name="scopes" multiple[^>]*>(.*?)</select>', page, re.S)
    assert scopes
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', scopes.group(1))
    assert options[0] == ("*", "全部")
    assert ("420102012000", "\u3000\u3000\u3000后湖街道") in options
    # More community divisions than a list holds (the test district's 999): the code is typed.
    page = client.get("/admin/communities").get_data(as_text=True)
    assert '<input id="c-code" name="code"' in page


def _post(client: FlaskClient, path: str, **form: str | list[str]) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_token_of(client, "/admin/keys"), **form})
    return response.status_code, response.get_data(as_text=True)


def test_a_community_is_created_from_its_code_and_moved_to_another(app: Flask, world: DemoWorld) -> None:
    admin = signed_in_client(app, "admin")
    status, _ = _post(admin, "/admin/communities", code=leaf(7), name="", kind="", idempotency_key="c-7")
    assert status == 302
    listed = (
        app.test_client().get(f"/api/v1/communities?within={leaf(7)}", headers=world.auth("admin")).get_json()
    )
    assert [(c["code"], c["name"], c["kind"]) for c in listed] == [(leaf(7), "测试社区7", "urban")]
    made = listed[0]
    status, _ = _post(admin, f"/admin/communities/{made['id']}", code=leaf(8), version=str(made["version"]))
    assert status == 302
    moved = app.test_client().get(f"/api/v1/communities/{made['id']}", headers=world.auth("admin")).get_json()
    assert (moved["code"], moved["name"], moved["version"]) == (leaf(8), "测试社区7", 2)
    # A move to a code that is taken is refused at that community's row, writing nothing.
    before = table_counts(app)
    status, html = _post(admin, f"/admin/communities/{made['id']}", code="420102012001", version="2")
    assert status == 409
    row = re.search(rf'action="/admin/communities/{made["id"]}".*?</form>', html, re.S)
    assert row
    assert 'id="error-code"' in row.group(0)
    assert table_counts(app) == before


def test_a_district_admin_may_not_place_a_community_outside_their_district(
    app: Flask, world: DemoWorld
) -> None:
    client = signed_in_client(app, "huangpi.admin")
    before = table_counts(app)
    status, _ = _post(client, "/admin/communities", code="420102001001", idempotency_key="c-out")
    assert status == 403
    assert table_counts(app) == before


def test_an_admin_grants_scopes_inside_their_area_only(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "huangpi.admin")
    new = {"display_name": "木兰督导", "role": "supervisor", "password": "long-enough-pw-1"}
    status, _ = _post(
        client,
        "/admin/users",
        username="mulan.supervisor",
        scopes=["420116200000"],
        idempotency_key="u-1",
        **new,
    )
    assert status == 302
    users = app.test_client().get("/api/v1/users?role=supervisor", headers=world.auth("admin")).get_json()
    assert {u["username"]: u["scopes"] for u in users}["mulan.supervisor"] == ["420116200000"]
    page = client.get("/admin/users?q=mulan").get_data(as_text=True)
    assert re.search(r"<td>mulan.supervisor</td><td>木兰督导</td>\s*<td>木兰乡</td>", page)
    before = table_counts(app)
    status, html = _post(
        client,
        "/admin/users",
        username="out.supervisor",
        scopes=["420102000000"],
        idempotency_key="u-2",
        **new,
    )
    assert status == 422
    assert 'id="error-scopes"' in html
    assert table_counts(app) == before


def test_a_district_admin_drafts_a_fund_at_their_node_and_the_fund_page_names_it(
    app: Flask, funded_world: DemoWorld
) -> None:
    client = signed_in_client(app, "huangpi.admin")
    page = client.get("/admin/funds").get_data(as_text=True)
    node = re.search(r'<select id="f-node" name="funding_division_code">(.*?)</select>', page, re.S)
    assert node
    assert re.findall(r'<option value="([^"]*)"', node.group(1)) == [
        "420116000000",
        "420116001000",
        "420116200000",
    ]
    assert '<option value="420116000000" selected>黄陂区</option>' in node.group(1)
    organisation = funded_world.member_organisation["member08"]
    terms = {
        "kind": "incubation_fund",
        "title": "前川孵化",
        "reference": "HP-2026-1",
        "funder_name": "黄陂区民政局",
        "organisation_id": organisation,
        "award": "1000.00",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "restriction_purpose": "社区服务",
        "restricted": "on",
        "idempotency_key": "f-hp-1",
    }
    status, _ = _post(client, "/admin/funds", funding_division_code="420116001000", **terms)
    assert status == 302
    funds = (
        app.test_client().get("/api/v1/funds?page_size=500", headers=funded_world.auth("admin")).get_json()
    )
    made = next(f for f in funds if f["reference"] == "HP-2026-1")
    assert made["funding_division_code"] == "420116001000"
    fund_page = client.get(f"/funds/{made['id']}").get_data(as_text=True)
    assert "资助方所在区划：前川街道" in fund_page
    # Another district's node is refused at the field, writing nothing.
    before = table_counts(app)
    status, html = _post(
        client,
        "/admin/funds",
        funding_division_code="420102000000",
        **{**terms, "reference": "HP-2026-2", "idempotency_key": "f-hp-2"},
    )
    assert status == 422
    assert 'id="error-funding_division_code"' in html
    assert table_counts(app) == before
