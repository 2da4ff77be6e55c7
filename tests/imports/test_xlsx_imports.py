"""Imports from XLSX: template -> filled in -> dry run -> commit -> the same rows, read back through the API.

The communities are spare leaves of the test district (420199001001 ... 420199001999, see
tests/conftest.py); the budget and the schedule are those of tests.builders (BUDGET, SCHEDULE).
"""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from ledger.demo import demo_credit_code
from ledger.extensions import db
from ledger.models import Community
from ledger.models.audit import AuditEntry, AuditQueueItem
from ledger.models.organisation import RegistrationType
from ledger.services.audit_verification import verify_database
from tests.builders import draft_fund, leaf
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actions(app: Flask, action: str) -> int:
    """Audit entries with ``action``, appended or still queued for the sequencer."""
    with app.app_context():
        appended = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        )
        queued = db.session.scalar(
            select(func.count()).select_from(AuditQueueItem).where(AuditQueueItem.action == action)
        )
        return int(appended or 0) + int(queued or 0)


def _template(client: FlaskClient, url: str, headers: dict[str, str]) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.data))


def _filled(book: Any, rows: list[list[Any]]) -> bytes:
    """The template with ``rows`` below its sample row (which an import leaves out)."""
    sheet = book.worksheets[0]
    for offset, row in enumerate(rows, start=3):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=offset, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: FlaskClient, url: str, content: bytes, headers: dict[str, str], *, dry_run: bool) -> Any:
    response = client.post(
        f"{url}?dry_run={'true' if dry_run else 'false'}",
        data={"file": (io.BytesIO(content), "filled.xlsx")},
        headers=headers,
        content_type="multipart/form-data",
    )
    response.get_data()
    response.close()  # closes the request's body too (a large one is spooled to a temporary file)
    return response


def test_template_heads_its_columns_in_chinese_with_a_sample_row_a_drop_down_and_a_frozen_header(
    client: FlaskClient, world: DemoWorld
) -> None:
    book = _template(client, "/api/v1/imports/communities/template", world.auth("admin"))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["社区代码", "社区名称", "城市或农村", "区划表"]
    assert sheet["A1"].comment.text.startswith("Community code / code")
    assert [c.value for c in sheet[2]] == ["420199001999", "示例社区 Sample community", "urban", None]
    assert sheet.freeze_panes == "A2"
    (validation,) = sheet.data_validations.dataValidation
    assert validation.formula1 == '"urban,rural"'
    assert str(validation.sqref) == "C2:C10001"
    english = _template(
        client, "/api/v1/imports/communities/template", {**world.auth("admin"), "Accept-Language": "en"}
    )
    assert [c.value for c in english.worksheets[0][1]][:2] == ["Community code", "Community name"]


def test_communities_round_trip_dry_run_writes_nothing_commit_writes_each_row_with_its_audit_entry(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    admin = world.auth("admin")
    url = "/api/v1/imports/communities"
    content = _filled(
        _template(client, f"{url}/template", admin),
        [[leaf(11), "导入社区一", "urban"], [leaf(12), "导入社区二", "rural"], [int(leaf(13)), None, None]],
    )
    before = table_counts(app)
    checked = _upload(client, url, content, admin, dry_run=True)
    assert checked.status_code == 200, checked.get_json()
    report = checked.get_json()
    assert report["dry_run"] is True
    assert report["row_count"] == 3
    assert [p["row"] for p in report["preview"]] == [3, 4, 5]
    assert report["preview"][2]["values"] == {"code": leaf(13)}
    assert table_counts(app) == before

    created_before = _actions(app, "community.created")
    committed = _upload(client, url, content, admin, dry_run=False)
    assert committed.status_code == 200, committed.get_json()
    assert committed.get_json()["sha256"] == report["sha256"]
    listed = client.get("/api/v1/communities?within=420199001000&page_size=100", headers=admin).get_json()
    got = {c["code"]: (c["name"], c["kind"]) for c in listed}
    assert got == {
        leaf(11): ("导入社区一", "urban"),
        leaf(12): ("导入社区二", "rural"),
        leaf(13): ("测试社区13", "urban"),
    }
    assert _actions(app, "community.created") == created_before + 3
    assert _actions(app, "import.committed") == 1

    again = _upload(client, url, content, admin, dry_run=False)
    body = assert_problem(again, 422)
    assert [(e["row"], e["column"], e["field"]) for e in body["errors"]] == [
        (3, "A", "code"),
        (4, "A", "code"),
        (5, "A", "code"),
    ]
    assert _actions(app, "community.created") == created_before + 3


def test_organisations_round_trip(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    url = "/api/v1/imports/organisations"
    code = demo_credit_code("420199", RegistrationType.SOCIAL_GROUP, 900001)
    # The community by its division code (百步亭花园社区), as people know it, not by its id.
    row = ["导入的协会", "420102012001", "registered", code, "social_group", "2025-04-01"]
    committed = _upload(
        client, url, _filled(_template(client, f"{url}/template", admin), [row]), admin, dry_run=False
    )
    assert committed.status_code == 200, committed.get_json()
    listed = client.get("/api/v1/organisations?page_size=500", headers=admin).get_json()
    (made,) = [o for o in listed if o["credit_code"] == code]
    assert (made["name"], made["community_id"], made["registration_type"], made["status"]) == (
        "导入的协会",
        world.community_ids[0],
        "social_group",
        "registered",
    )


def test_an_organisations_community_is_named_by_a_code_of_the_importers_area(
    client: FlaskClient, world: DemoWorld
) -> None:
    url = "/api/v1/imports/organisations"
    supervisor = world.auth("huangpi.admin")  # 黄陂区's admin: 江岸区's communities are not theirs
    code = demo_credit_code("420199", RegistrationType.SOCIAL_GROUP, 900002)
    other = demo_credit_code("420199", RegistrationType.SOCIAL_GROUP, 900003)
    short = demo_credit_code("420199", RegistrationType.SOCIAL_GROUP, 900004)
    rows = [
        ["城关协会", "420116001001", "registered", code, "social_group", "2025-04-01"],  # 城关社区, 黄陂区
        ["江岸的协会", "420102012001", "registered", other, "social_group", "2025-04-01"],  # 江岸区
        ["短代码协会", "4201", "registered", short, "social_group", "2025-04-01"],
    ]
    checked = _upload(
        client, url, _filled(_template(client, f"{url}/template", supervisor), rows), supervisor, dry_run=True
    )
    body = assert_problem(checked, 422)
    assert [(e["row"], e["column"], e["field"], e["detail"]) for e in body["errors"]] == [
        (4, "B", "community_code", "您的辖区内没有社区 420102012001"),
        (5, "B", "community_code", "长度必须为 12 个字符。"),
    ]


def test_users_round_trip_with_several_organisations_in_one_cell(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    """A member's organisations are named as people know them: by credit code, or a filed
    organisation (which may have none) by its filing number."""
    admin = world.auth("admin")
    url = "/api/v1/imports/users"
    organisations = client.get("/api/v1/organisations?page_size=500", headers=admin).get_json()
    registered = next(o for o in organisations if o["credit_code"])
    filed = next(o for o in organisations if o["filing_number"] and not o["credit_code"])
    first, second = registered["id"], filed["id"]
    codes = f"{registered['credit_code'].lower()}, {filed['filing_number']}"
    rows = [
        ["import.member", "导入成员", "org_member", "a-long-enough-password-1", codes, None],
        ["import.officer", "导入财务", "finance_officer", "a-long-enough-password-2", None, "420199001000"],
    ]
    unknown = [
        ["import.nobody", "无组织", "org_member", "a-long-enough-password-3", "51420102MJH2003950", None]
    ]
    refused = _upload(
        client, url, _filled(_template(client, f"{url}/template", admin), unknown), admin, dry_run=True
    )
    assert [(e["row"], e["column"], e["field"], e["detail"]) for e in refused.get_json()["errors"]] == [
        (3, "E", "organisation_codes", "您的辖区内没有组织 51420102MJH2003950")
    ]
    created_before = _actions(app, "user.created")
    committed = _upload(
        client, url, _filled(_template(client, f"{url}/template", admin), rows), admin, dry_run=False
    )
    assert committed.status_code == 200, committed.get_json()
    assert all("password" not in p["values"] for p in committed.get_json()["preview"])
    listed = client.get("/api/v1/users?page_size=500", headers=admin).get_json()
    by_name = {u["username"]: u for u in listed}
    assert sorted(by_name["import.member"]["organisation_ids"]) == sorted([first, second])
    assert by_name["import.officer"]["role"] == "finance_officer"
    assert by_name["import.officer"]["scopes"] == ["420199001000"]
    assert _actions(app, "user.created") == created_before + 2
    with app.app_context():
        assert verify_database(receipts=False).ok
    login = client.post(
        "/api/v1/auth/login", json={"username": "import.member", "password": "a-long-enough-password-1"}
    )
    assert login.status_code in (200, 201), login.get_json()


def test_budget_and_schedule_of_a_draft_fund_round_trip(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    admin = world.auth("admin")
    fund = draft_fund(client, world)
    url = f"/api/v1/funds/{fund['id']}/imports"
    budget = [["ACTIVITY", "60,000.00"], ["PERSONNEL", 30000], ["OFFICE", "10000.00"]]
    done = _upload(
        client,
        f"{url}/budget",
        _filled(_template(client, f"{url}/budget/template", admin), budget),
        admin,
        dry_run=False,
    )
    assert done.status_code == 200, done.get_json()
    lines = client.get(f"/api/v1/funds/{fund['id']}/budget", headers=admin).get_json()["lines"]
    assert {k: v for k, v in lines.items()} == {
        "ACTIVITY": "60000.00",
        "PERSONNEL": "30000.00",
        "OFFICE": "10000.00",
    }

    schedule = [
        ["40000.00", "2026-01-15", "none"],
        ["40000", "2026-06-15", "approved_interim_report"],
        ["20000.00", "2026-12-01", None],
    ]
    done = _upload(
        client,
        f"{url}/tranches",
        _filled(_template(client, f"{url}/tranches/template", admin), schedule),
        admin,
        dry_run=False,
    )
    assert done.status_code == 200, done.get_json()
    tranches = client.get(f"/api/v1/funds/{fund['id']}/tranches", headers=admin).get_json()
    assert [(t["amount"], t["due_date"], t["condition"]) for t in tranches] == [
        ("40000.00", "2026-01-15", "none"),
        ("40000.00", "2026-06-15", "approved_interim_report"),
        ("20000.00", "2026-12-01", "none"),
    ]
    assert _actions(app, "import.committed") == 2
    with app.app_context():  # the trail replays to the tables, imported rows included
        assert verify_database(receipts=False).ok


def test_budget_over_the_award_and_an_unknown_category_are_both_reported(
    client: FlaskClient, world: DemoWorld
) -> None:
    admin = world.auth("admin")
    fund = draft_fund(client, world)  # award 100,000.00
    url = f"/api/v1/funds/{fund['id']}/imports/budget"
    rows = [["ACTIVITY", "90000.00"], ["NO-SUCH", "5000.00"], ["OFFICE", "20000.00"], ["TRAVEL", "ten"]]
    refused = _upload(
        client,
        url,
        _filled(_template(client, f"{url}/template", admin), rows),
        {**admin, "Accept-Language": "en"},
        dry_run=True,
    )
    body = assert_problem(refused, 422)
    found = {(e["row"], e["column"], e["field"]) for e in body["errors"]}
    assert (4, "A", "category_code") in found  # NO-SUCH
    assert (6, "B", "amount") in found  # "ten"
    assert (None, "B", "amount") in found  # 90,000 + 5,000 + 20,000 > 100,000
    lines = client.get(f"/api/v1/funds/{fund['id']}/budget", headers=admin).get_json()["lines"]
    assert lines == {}


def test_a_thousand_rows_with_three_bad_ones_write_nothing_and_report_all_three(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    admin = world.auth("admin")
    url = "/api/v1/imports/communities"
    rows: list[list[Any]] = [[leaf(n), None, None] for n in range(1, 998)]
    rows.insert(100, ["999999999999", None, None])  # row 103: no such division (column A)
    rows.insert(500, [leaf(998), None, "suburban"])  # row 503: not a kind (column C)
    rows.insert(900, [leaf(999), "名" * 201, None])  # row 903: a name too long (column B)
    assert len(rows) == 1000
    content = _filled(_template(client, f"{url}/template", admin), rows)
    before = table_counts(app)
    created_before = _actions(app, "community.created")
    for dry_run in (True, False):
        refused = _upload(client, url, content, {**admin, "Accept-Language": "zh"}, dry_run=dry_run)
        body = assert_problem(refused, 422)
        assert [(e["row"], e["column"], e["field"]) for e in body["errors"]] == [
            (103, "A", "code"),
            (503, "C", "kind"),
            (903, "B", "name"),
        ]
        assert body["errors"][1]["header"] == "城市或农村"
        assert body["errors"][1]["detail"] == "必须是以下之一：urban, rural。"
        assert body["code"] == "import.invalid"
    assert table_counts(app) == before
    assert _actions(app, "community.created") == created_before
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Community).where(Community.code.startswith("420199"))
            )
            == 0
        )


def test_duplicates_within_the_file_name_the_first_row(client: FlaskClient, world: DemoWorld) -> None:
    admin = {**world.auth("admin"), "Accept-Language": "en"}
    url = "/api/v1/imports/communities"
    content = _filled(_template(client, f"{url}/template", admin), [[leaf(21)], [leaf(22)], [f" {leaf(21)}"]])
    body = assert_problem(_upload(client, url, content, admin, dry_run=True), 422)
    assert [(e["row"], e["column"], e["code"], e["detail"]) for e in body["errors"]] == [
        (5, "A", "import.duplicate", "the same as row 3")
    ]
