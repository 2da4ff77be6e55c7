"""What is due: states on hand-worked dates, the schedule written on activation, done by filing,
by hand and withdrawn, who may do what, and refused input that writes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.extensions import db
from ledger.models.audit import AuditEntry
from ledger.models.requirement import Requirement
from ledger.models.user import User
from ledger.replay.compare import rows_of
from ledger.services.access import Actor
from ledger.services.audit_verification import verify_database
from ledger.services.requirements import (
    RequirementState,
    requirements_for,
    requirements_needing_reminder,
    state_clause,
    state_of,
)
from tests.builders import activated_fund, fund_with_schedule, report_line
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts

FUNDER = "武汉市民政局 Wuhan Civil Affairs Bureau"


def _requirements(
    client: FlaskClient, world: DemoWorld, fund_id: str, user: str = "finance1"
) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/funds/{fund_id}/requirements", headers=world.auth(user))
    assert response.status_code == 200, response.get_json()
    return list(response.get_json())


def _plain(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["kind"], r["due_on"], r["covers_year"], r["responsible_role"]) for r in items]


def test_the_state_on_hand_worked_days() -> None:
    due_30_june = Requirement(due_on=date(2026, 6, 30))
    assert state_of(due_30_june, date(2026, 5, 30)) is RequirementState.UPCOMING  # 31 days ahead
    assert state_of(due_30_june, date(2026, 5, 31)) is RequirementState.DUE  # 30 days ahead
    assert state_of(due_30_june, date(2026, 6, 1)) is RequirementState.DUE
    assert state_of(due_30_june, date(2026, 6, 30)) is RequirementState.DUE  # the day itself
    assert state_of(due_30_june, date(2026, 7, 1)) is RequirementState.OVERDUE
    done = Requirement(due_on=date(2026, 6, 30), done_at=date(2026, 7, 3))
    assert state_of(done, date(2026, 7, 4)) is RequirementState.DONE
    withdrawn = Requirement(due_on=date(2026, 6, 30), withdrawn_at=date(2026, 5, 3))
    assert state_of(withdrawn, date(2026, 7, 4)) is RequirementState.WITHDRAWN


def test_activating_a_fund_writes_its_schedule_in_the_same_entry(
    client: FlaskClient, world: DemoWorld
) -> None:
    fund = fund_with_schedule(client, world)  # a lottery grant for 2026, tranche 2 after an interim report
    found = _requirements(client, world, fund["id"])
    assert _plain(found) == [
        ("tranche_condition", "2026-06-15", None, "member"),
        ("interim_report", "2026-07-02", None, "member"),  # 1 January + 182 days: the midpoint
        ("final_report", "2027-01-30", None, "member"),  # 31 December + 30 days
        ("lottery_disclosure", "2027-06-30", 2026, "officer"),
    ]
    assert found[0]["tranche_id"] == fund["tranches"][1]["id"]
    assert (found[3]["title"], found[3]["title_en"]) == (
        "2026年度彩票公益金使用情况公告",
        "Lottery-fund usage disclosure for 2026",
    )
    with world.app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "fund.activated").order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None
        carried = [
            row for row in rows_of(json.loads(bytes(entry.canonical))) if row["table"] == "requirement"
        ]
        assert sorted(str(row["key"][0]) for row in carried) == sorted(r["id"] for r in found)


def test_a_short_fund_owes_a_final_report_only_and_a_fund_over_two_years_two_disclosures(
    client: FlaskClient, world: DemoWorld
) -> None:
    short = activated_fund(
        client,
        world,
        kind="incubation_fund",
        reference="FH-SHORT",
        period_end="2026-06-30",
        disclosure_deadline=None,
    )
    assert _plain(_requirements(client, world, short["id"])) == [
        ("final_report", "2026-07-30", None, "member")
    ]
    across = activated_fund(
        client, world, reference="FC-ACROSS", period_start="2025-07-01", period_end="2026-06-30"
    )
    assert _plain(_requirements(client, world, across["id"])) == [
        ("interim_report", "2025-12-30", None, "member"),  # 1 July 2025 + 182 days
        ("lottery_disclosure", "2026-06-30", 2025, "officer"),
        ("final_report", "2026-07-30", None, "member"),
        ("lottery_disclosure", "2027-06-30", 2026, "officer"),
    ]


def _submit(client: FlaskClient, world: DemoWorld, fund: dict[str, Any], title: str, *, interim: bool) -> str:
    made = client.post(
        f"/api/v1/funds/{fund['id']}/expense-reports",
        json={"title": title, "interim": interim},
        headers=world.keyed("member01"),
    ).get_json()
    url = f"/api/v1/expense-reports/{made['id']}"
    lines = [report_line(client, world, "ACTIVITY", "500.00")]
    saved = client.put(
        f"{url}/lines", json={"lines": lines}, headers={**world.auth("member01"), "If-Match": "*"}
    )
    assert saved.status_code == 200, saved.get_json()
    assert client.post(f"{url}/submit", headers=world.auth("member01")).status_code == 200
    return str(made["id"])


def test_filing_an_interim_report_and_its_approval_fulfil_what_waited(
    client: FlaskClient, world: DemoWorld
) -> None:
    fund = fund_with_schedule(client, world)
    _submit(client, world, fund, "三月报销 ordinary", interim=False)
    assert [r["state"] for r in _requirements(client, world, fund["id"])][:2] == ["overdue", "overdue"]
    interim = _submit(client, world, fund, "中期报告 interim", interim=True)
    found = {r["kind"]: r for r in _requirements(client, world, fund["id"])}
    assert found["interim_report"]["state"] == "done"
    assert found["interim_report"]["done_by_ref"] == f"expense_report:{interim}"
    assert found["tranche_condition"]["state"] == "overdue"  # submitted is not yet approved
    approved = client.post(f"/api/v1/expense-reports/{interim}/approve", headers=world.auth("finance2"))
    assert approved.status_code == 200
    found = {r["kind"]: r for r in _requirements(client, world, fund["id"])}
    assert found["tranche_condition"]["state"] == "done"
    assert found["tranche_condition"]["done_by_ref"] == f"expense_report:{interim}"
    with world.app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(2)))
        assert actions == ["requirement.done", "expense_report.approved"]
        result = verify_database()
    assert result.ok, result.lines()


def test_the_disclosure_due_30_june_is_done_once_the_years_disclosure_is_issued(
    client: FlaskClient, world: DemoWorld
) -> None:
    fund = activated_fund(client, world, period_start="2025-07-01", period_end="2026-06-30")
    disclosure_2025 = next(r for r in _requirements(client, world, fund["id"]) if r["covers_year"] == 2025)
    assert disclosure_2025["due_on"] == "2026-06-30"
    with world.app.app_context():
        row = db.session.get(Requirement, uuid.UUID(disclosure_2025["id"]))
        assert row is not None
        assert state_of(row, date(2026, 5, 30)) is RequirementState.UPCOMING
        assert state_of(row, date(2026, 6, 1)) is RequirementState.DUE
        assert state_of(row, date(2026, 7, 1)) is RequirementState.OVERDUE
    issued = client.post(
        "/api/v1/statements/lottery-disclosure",
        json={"funder": FUNDER, "year": 2025},
        headers=world.auth("finance2"),
    )
    assert issued.status_code == 200
    by_year = {r["covers_year"]: r for r in _requirements(client, world, fund["id"]) if r["covers_year"]}
    assert by_year[2025]["state"] == "done"
    assert by_year[2025]["done_by_ref"].startswith("statement:")
    assert len(by_year[2025]["done_by_ref"]) == len("statement:") + 64
    assert by_year[2026]["state"] == "upcoming"
    with world.app.app_context():
        row = db.session.get(Requirement, uuid.UUID(disclosure_2025["id"]))
        assert row is not None
        assert state_of(row, date(2026, 7, 1)) is RequirementState.DONE


def test_the_fund_use_statement_after_the_period_is_the_final_report(
    client: FlaskClient, world: DemoWorld
) -> None:
    fund = activated_fund(client, world, period_start="2025-01-01", period_end="2025-12-31")
    url = f"/api/v1/funds/{fund['id']}/statements/fund-use"
    early = client.post(url, json={"period": "2025-01..2025-06"}, headers=world.auth("member01"))
    assert early.status_code == 200
    final = next(r for r in _requirements(client, world, fund["id"]) if r["kind"] == "final_report")
    assert (final["due_on"], final["state"]) == ("2026-01-30", "overdue")  # half a year is not the end
    whole = client.post(url, json={"period": "2025-01..2025-12"}, headers=world.auth("member01"))
    assert whole.status_code == 200
    final = next(r for r in _requirements(client, world, fund["id"]) if r["kind"] == "final_report")
    assert final["state"] == "done"
    assert final["done_by_ref"].startswith("statement:")


def test_officers_add_change_mark_and_withdraw_members_mark_their_annual_report(
    client: FlaskClient, world: DemoWorld
) -> None:
    fund = activated_fund(client, world)
    url = f"/api/v1/funds/{fund['id']}/requirements"
    annual = client.post(
        url, json={"kind": "annual_report", "covers_year": 2025}, headers=world.auth("finance1")
    )
    assert annual.status_code == 201, annual.get_json()
    body = annual.get_json()
    assert (body["fund_id"], body["due_on"], body["responsible_role"]) == (None, "2026-05-31", "member")
    assert (body["title"], body["title_en"]) == ("2025年度工作报告（年报）", "Annual report for 2025")
    again = client.post(
        url, json={"kind": "annual_report", "covers_year": 2025}, headers=world.auth("finance2")
    )
    assert_problem(again, 409, "covers_year")
    assert_problem(
        client.post(
            url, json={"kind": "interim_report", "due_on": "2026-09-30"}, headers=world.auth("member01")
        ),
        403,
    )

    extra = client.post(
        url,
        json={"kind": "interim_report", "due_on": "2026-09-30"},
        headers=world.auth("finance1"),
    ).get_json()
    assert (extra["title"], extra["title_en"]) == ("中期报告", "Interim report")
    item = f"/api/v1/requirements/{extra['id']}"
    assert_problem(
        client.post(f"{item}/done", json={"note": "by phone"}, headers=world.auth("member01")), 409
    )
    moved = client.patch(
        item, json={"due_on": "2026-10-31"}, headers={**world.auth("finance1"), "If-Match": '"1"'}
    )
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["due_on"], moved.headers["ETag"]) == ("2026-10-31", '"2"')
    stale = client.patch(
        item, json={"due_on": "2026-11-30"}, headers={**world.auth("finance1"), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    # A title typed over the service's own is one text for every reader.
    retitled = client.patch(
        item, json={"title": "中期服务评估"}, headers={**world.auth("finance1"), "If-Match": '"2"'}
    )
    assert (retitled.get_json()["title"], retitled.get_json()["title_en"]) == ("中期服务评估", None)
    assert_problem(
        client.post(f"{item}/withdrawal", json={"note": " "}, headers=world.auth("finance1")), 422, "note"
    )
    withdrawn = client.post(
        f"{item}/withdrawal", json={"note": "合并到结项报告"}, headers=world.auth("finance1")
    )
    assert withdrawn.get_json()["state"] == "withdrawn"
    assert_problem(client.post(f"{item}/done", json={"note": "late"}, headers=world.auth("finance1")), 409)

    filed = client.post(
        f"/api/v1/requirements/{body['id']}/done",
        json={"note": "已在民政系统提交年报"},
        headers=world.auth("member01"),
    )
    assert filed.status_code == 200, filed.get_json()
    assert (filed.get_json()["state"], filed.get_json()["done_by_ref"]) == ("done", "marked")
    with world.app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(5)))
        assert actions == [
            "requirement.done",
            "requirement.withdrawn",
            "requirement.changed",
            "requirement.changed",
            "requirement.created",
        ]


def test_another_organisation_sees_nothing_and_bad_input_writes_nothing(
    client: FlaskClient, world: DemoWorld
) -> None:
    fund = activated_fund(client, world)
    mine = _requirements(client, world, fund["id"], "member01")
    assert len(mine) == 3
    assert_problem(
        client.get(f"/api/v1/funds/{fund['id']}/requirements", headers=world.auth("member04")), 404
    )
    assert_problem(client.get(f"/api/v1/requirements/{mine[0]['id']}", headers=world.auth("member04")), 404)
    assert client.get("/api/v1/requirements", headers=world.auth("member04")).get_json() == []
    assert_problem(
        client.post(
            f"/api/v1/requirements/{mine[0]['id']}/done", json={"note": "x"}, headers=world.auth("member04")
        ),
        404,
    )
    outside = client.post(
        f"/api/v1/funds/{fund['id']}/requirements",
        json={"kind": "interim_report", "due_on": "2026-09-30"},
        headers=world.auth("qianchuan.finance"),
    )
    assert_problem(outside, 404)

    before = table_counts(world.app)
    url = f"/api/v1/funds/{fund['id']}/requirements"
    officer = world.auth("finance1")
    assert_problem(
        client.post(url, json={"kind": "interim_report", "due_on": "tomorrow"}, headers=officer),
        422,
        "due_on",
    )
    assert_problem(
        client.post(url, json={"kind": "birthday", "due_on": "2026-09-30"}, headers=officer), 422, "kind"
    )
    assert_problem(client.post(url, json={"kind": "interim_report"}, headers=officer), 422, "due_on")
    assert_problem(client.post(url, json={"kind": "annual_report"}, headers=officer), 422, "covers_year")
    assert_problem(
        client.post(url, json={"kind": "tranche_condition", "due_on": "2026-09-30"}, headers=officer),
        422,
        "tranche_id",
    )
    assert_problem(
        client.post(
            url,
            json={
                "kind": "final_report",
                "due_on": "2026-09-30",
                "responsible_user_id": fund["organisation_id"],
            },
            headers=officer,
        ),
        422,
        "responsible_user_id",
    )
    assert_problem(client.get("/api/v1/requirements?state=late", headers=officer), 422, "query.state")
    assert table_counts(world.app) == before


def test_the_lists_for_a_person_and_for_reminders(client: FlaskClient, world: DemoWorld) -> None:
    fund = fund_with_schedule(client, world)
    with world.app.app_context():
        member = Actor.of(db.session.scalars(select(User).where(User.username == "member01")).one())
        officer = Actor.of(db.session.scalars(select(User).where(User.username == "finance1")).one())
        on = date(2026, 6, 20)  # tranche 2's condition (15 June) overdue, the interim report (2 July) due
        waiting = requirements_for(member, on)
        assert [(s.requirement.kind, s.state) for s in waiting.items] == [
            ("tranche_condition", RequirementState.OVERDUE),
            ("interim_report", RequirementState.DUE),
        ]
        assert (waiting.overdue, waiting.due) == (1, 1)
        followed = requirements_for(officer, on)  # a member's overdue item; no officer item is due yet
        assert [s.requirement.kind for s in followed.items] == ["tranche_condition"]
        reminders = [(r.fund_id, r.kind, state) for r, state in requirements_needing_reminder(on)]
        assert (uuid.UUID(fund["id"]), "interim_report", RequirementState.DUE) in reminders
        # The SQL rule and the Python rule agree on every row and every state.
        for state in RequirementState:
            by_sql = set(db.session.scalars(select(Requirement.id).where(state_clause(state, on))))
            by_python = {r.id for r in db.session.scalars(select(Requirement)) if state_of(r, on) is state}
            assert by_sql == by_python, state
    overdue = client.get("/api/v1/requirements?state=overdue", headers=world.auth("member01")).get_json()
    assert [r["kind"] for r in overdue if r["fund_id"] == fund["id"]] == [
        "tranche_condition",
        "interim_report",
    ]


def test_the_nth_interim_report_fulfils_the_nth_interim_requirement_once(
    client: FlaskClient, world: DemoWorld
) -> None:
    fund = activated_fund(client, world)  # its interim report is due 2026-07-02
    added = client.post(
        f"/api/v1/funds/{fund['id']}/requirements",
        json={"kind": "interim_report", "due_on": "2026-10-15"},
        headers=world.auth("finance1"),
    )
    assert added.status_code == 201
    first = _submit(client, world, fund, "第一次中期 first interim", interim=True)
    returned = client.post(
        f"/api/v1/expense-reports/{first}/return",
        json={"comment": "补签到表"},
        headers=world.auth("finance2"),
    )
    assert returned.status_code == 200, returned.get_json()
    again = client.post(f"/api/v1/expense-reports/{first}/submit", headers=world.auth("member01"))
    assert again.status_code == 200
    interims = [r for r in _requirements(client, world, fund["id"]) if r["kind"] == "interim_report"]
    assert [(r["due_on"], r["done_by_ref"]) for r in interims] == [
        ("2026-07-02", f"expense_report:{first}"),
        ("2026-10-15", None),  # submitted again, the first report fulfils nothing more
    ]
    second = _submit(client, world, fund, "第二次中期 second interim", interim=True)
    interims = [r for r in _requirements(client, world, fund["id"]) if r["kind"] == "interim_report"]
    assert [r["done_by_ref"] for r in interims] == [f"expense_report:{first}", f"expense_report:{second}"]
