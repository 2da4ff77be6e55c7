"""What is due, on the pages: the fund's list with state badges and the officer's forms, the
member's home with counts and their annual report's form, refusals shown at the field."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import fund_with_schedule
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client, table_counts


def _listed(client: FlaskClient, world: DemoWorld, fund_id: str) -> list[dict[str, Any]]:
    return list(
        client.get(f"/api/v1/funds/{fund_id}/requirements", headers=world.auth("finance1")).get_json()
    )


def test_the_fund_page_lists_what_is_due_and_an_officer_adds_and_marks(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = fund_with_schedule(client, world)
    officer = signed_in_client(app, "finance1")
    page = officer.get(f"/funds/{fund['id']}").get_data(as_text=True)
    section = page.split('id="requirements"', 1)[1].split("</section>", 1)[0]
    assert "<h2>应办事项</h2>" in section
    # The titles the service writes are in the reader's language only.
    assert "结项报告" in section
    assert "Final report" not in section
    english = officer.get(f"/funds/{fund['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    english_section = english.split('id="requirements"', 1)[1].split("</section>", 1)[0]
    assert "Final report" in english_section
    assert "结项报告" not in english_section
    assert "2027-01-30" in section
    assert (
        '<span class="badge status-upcoming">未到期</span>' in section
    )  # the 2027 disclosure, the final report
    assert "彩票公益金使用情况公告" in section  # the kind's words
    assert "添加应办事项" in section
    # The review queue lists what is overdue too: here the interim report, due 2 July 2026.
    queue = officer.get("/queue").get_data(as_text=True).split('id="overdue"', 1)[1]
    assert "中期报告" in queue
    assert "Interim report" not in queue
    assert "2026-07-02" in queue

    token = csrf_token_of(officer, f"/funds/{fund['id']}")
    before = table_counts(app)
    refused = officer.post(
        f"/funds/{fund['id']}/requirements",
        data={"kind": "interim_report", "due_on": "", "csrf_token": token},
    )
    assert refused.status_code == 422
    assert 'id="error-due_on"' in refused.get_data(as_text=True)
    assert "请填写截止日期" in refused.get_data(as_text=True)
    assert table_counts(app) == before

    added = officer.post(
        f"/funds/{fund['id']}/requirements",
        data={
            "kind": "interim_report",
            "due_on": "2026-10-15",
            "title": "第二次中期报告",
            "csrf_token": token,
        },
    )
    assert added.status_code == 302
    second = next(r for r in _listed(client, world, fund["id"]) if r["title"] == "第二次中期报告")
    assert second["due_on"] == "2026-10-15"
    done = officer.post(
        f"/requirements/{second['id']}/done", data={"note": "电话确认已提交", "csrf_token": token}
    )
    assert done.status_code == 302
    page = officer.get(f"/funds/{fund['id']}").get_data(as_text=True)
    assert "已记为完成：第二次中期报告。" in page
    assert (
        '<span class="badge status-done">已完成</span><br><span class="muted">电话确认已提交</span>' in page
    )


def test_a_member_sees_what_is_due_at_home_and_files_the_annual_report(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = fund_with_schedule(client, world)
    added = client.post(
        f"/api/v1/funds/{fund['id']}/requirements",
        json={"kind": "annual_report", "covers_year": 2025, "due_on": "2099-01-01"},
        headers=world.auth("finance1"),
    ).get_json()
    member = signed_in_client(app, "member01")
    home = member.get("/").get_data(as_text=True)
    section = home.split('id="due"', 1)[1].split("</section>", 1)[0]
    # Whatever today is, 2026's tranche condition (15 June) and interim report (2 July) are overdue.
    assert "<dt>已逾期</dt><dd>2</dd>" in section
    assert "中期报告" in section
    assert "Interim report" not in section
    assert '<span class="badge status-overdue">已逾期</span>' in section
    assert "2025年度工作报告" not in section  # due in 2099: not listed yet
    # The member's own organisation is the only one whose member may mark it filed.
    token = csrf_token_of(member, "/")
    filed = member.post(
        f"/requirements/{added['id']}/done", data={"note": "已在年报系统提交", "csrf_token": token}
    )
    assert filed.status_code == 302
    stored = client.get(f"/api/v1/requirements/{added['id']}", headers=world.auth("member01")).get_json()
    assert (stored["state"], stored["done_note"]) == ("done", "已在年报系统提交")
    # Nothing else is the member's to mark: the interim report is done by filing it.
    interim = next(r for r in _listed(client, world, fund["id"]) if r["kind"] == "interim_report")
    refused = member.post(f"/requirements/{interim['id']}/done", data={"note": "x", "csrf_token": token})
    assert refused.status_code == 409
