"""Funds: drafting, budgets, the lifecycle, budget revisions and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from ledger.services.audit_verification import verify_database
from tests.builders import BUDGET, activated_fund, draft_fund, fund_terms
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts


def _budget(client: FlaskClient, world: DemoWorld, fund_id: str, query: str = "") -> dict[str, Any]:
    return dict(
        client.get(f"/api/v1/funds/{fund_id}/budget{query}", headers=world.auth("finance1")).get_json()
    )


def test_a_lottery_grant_is_drafted_budgeted_and_activated(client: FlaskClient, world: DemoWorld) -> None:
    fund = draft_fund(client, world)
    assert fund["status"] == "draft"
    assert fund["award"] == "100000.00"
    assert fund["label_required"] is True
    assert fund["admin_cost_cap_percent"] == "10.00"
    admin = world.auth("admin")
    short = {"ACTIVITY": "60000.00"}
    assert (
        client.put(f"/api/v1/funds/{fund['id']}/budget", json={"lines": short}, headers=admin).status_code
        == 200
    )
    refused = client.post(f"/api/v1/funds/{fund['id']}/activate", headers={**admin, "If-Match": "*"})
    assert_problem(refused, 409, "budget")
    budget = client.put(
        f"/api/v1/funds/{fund['id']}/budget", json={"lines": BUDGET}, headers=admin
    ).get_json()
    assert budget["total"] == "100000.00"
    assert (
        client.post(f"/api/v1/funds/{fund['id']}/activate", headers={**admin, "If-Match": "*"}).get_json()[
            "status"
        ]
        == "active"
    )
    assert_problem(
        client.patch(f"/api/v1/funds/{fund['id']}", json={"title": "x"}, headers={**admin, "If-Match": "*"}),
        409,
    )
    assert_problem(
        client.put(f"/api/v1/funds/{fund['id']}/budget", json={"lines": BUDGET}, headers=admin), 409
    )


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"award": 100000}, 400, "award"),
        ({"award": "100000.001"}, 422, "award"),
        ({"award": "0.00"}, 422, "award"),
        ({"award": "-5.00"}, 422, "award"),
        ({"period_end": "2025-12-31"}, 422, "period_end"),
        ({"period_start": "1999-01-01"}, 422, "period_start"),
        ({"funder_credit_code": "11100000000000019X"}, 422, "funder_credit_code"),
        ({"restriction_purpose": None}, 422, "restriction_purpose"),
        ({"banned_categories": ["NO_SUCH"]}, 422, "banned_categories"),
        ({"disclosure_deadline": None}, 422, "disclosure_deadline"),
        ({"admin_cost_cap_percent": "120"}, 422, "admin_cost_cap_percent"),
        ({"admin_cost_cap_percent": "ten"}, 422, "admin_cost_cap_percent"),
        ({"revenue_account": "5101"}, 422, "revenue_account"),
        ({"kind": "loan"}, 422, "kind"),
        ({"currency": "XYZ"}, 422, "currency"),
        ({"milestones": [{"name": "m", "due_date": "2026-06-30", "amount": "1.00"}]}, 422, "milestones"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(
    client: FlaskClient, world: DemoWorld, changes: dict[str, Any], status: int, field: str
) -> None:
    before = table_counts(world.app)
    response = client.post("/api/v1/funds", json=fund_terms(world, **changes), headers=world.keyed("admin"))
    assert_problem(response, status, field)
    assert table_counts(world.app) == before


def test_a_procurement_contract_carries_its_milestones(client: FlaskClient, world: DemoWorld) -> None:
    milestones = [
        {"name": "首期 first tranche", "due_date": "2026-02-01", "amount": "150000.00"},
        {"name": "中期 interim", "due_date": "2026-07-01", "amount": "90000.00"},
        {"name": "尾款 final", "due_date": "2026-12-15", "amount": "60000.00"},
    ]
    fund = draft_fund(
        client,
        world,
        kind="procurement_contract",
        reference="ZFCG-2026-88",
        award="300000.00",
        milestones=milestones,
        disclosure_deadline=None,
        revenue_account="4301",
        banned_categories=[],
    )
    assert [m["amount"] for m in fund["milestones"]] == ["150000.00", "90000.00", "60000.00"]
    assert fund["revenue_account"] == "4301"
    too_much = [*milestones, {"name": "extra", "due_date": "2026-12-20", "amount": "0.01"}]
    response = client.post(
        "/api/v1/funds",
        json=fund_terms(
            world,
            kind="procurement_contract",
            reference="ZFCG-2026-89",
            award="300000.00",
            milestones=too_much,
            disclosure_deadline=None,
        ),
        headers=world.keyed("admin"),
    )
    assert_problem(response, 422, "milestones")
    # On an edit, the fields are optional but a milestone sent is a whole one.
    half = [{"name": "首期 first tranche", "amount": "150000.00"}]
    edited = client.patch(
        f"/api/v1/funds/{fund['id']}",
        json={"milestones": half},
        headers={**world.auth("admin"), "If-Match": "*"},
    )
    assert_problem(edited, 422, "milestones.0.due_date")


def test_budget_rules(client: FlaskClient, world: DemoWorld) -> None:
    fund = draft_fund(client, world)
    url, admin = f"/api/v1/funds/{fund['id']}/budget", world.auth("admin")
    assert_problem(
        client.put(url, json={"lines": {"FUNDRAISING": "1.00"}}, headers=admin), 422, "lines.FUNDRAISING"
    )
    assert_problem(client.put(url, json={"lines": {"NOPE": "1.00"}}, headers=admin), 422, "lines.NOPE")
    assert_problem(client.put(url, json={"lines": {"ACTIVITY": "100000.01"}}, headers=admin), 422, "lines")
    assert_problem(client.put(url, json={"lines": {"ACTIVITY": 5}}, headers=admin), 400, "lines.ACTIVITY")
    assert_problem(
        client.put(url, json={"lines": {"ACTIVITY": "-1.00"}}, headers=admin), 422, "lines.ACTIVITY"
    )


def test_small_reallocations_apply_at_once_and_history_is_kept(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    before = _budget(client, world, fund["id"])
    response = client.post(
        f"/api/v1/funds/{fund['id']}/budget-revisions",
        json={"changes": {"ACTIVITY": "-5000.00", "PRINTING": "5000.00"}, "reason": "more leaflets"},
        headers=world.keyed("member01"),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "approved"
    after = _budget(client, world, fund["id"])
    assert after["lines"]["ACTIVITY"] == "55000.00"
    assert after["lines"]["PRINTING"] == "5000.00"
    assert after["total"] == before["total"] == "100000.00"
    yesterday = _budget(client, world, fund["id"], "?as_of=2000-01-01")
    assert yesterday["lines"] == {}


def test_large_reallocations_wait_for_another_finance_officer(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    change = {"changes": {"ACTIVITY": "-20000.00", "PERSONNEL": "20000.00"}, "reason": "hire a social worker"}
    proposed = client.post(
        f"/api/v1/funds/{fund['id']}/budget-revisions", json=change, headers=world.keyed("finance1")
    ).get_json()
    assert proposed["status"] == "proposed"
    assert _budget(client, world, fund["id"])["lines"]["PERSONNEL"] == "30000.00"
    url = f"/api/v1/budget-revisions/{proposed['id']}"
    assert_problem(client.post(f"{url}/approve", json={}, headers=world.auth("finance1")), 403)
    assert_problem(client.post(f"{url}/approve", json={}, headers=world.auth("member01")), 403)
    assert_problem(client.post(f"{url}/approve", json={}, headers=world.auth("admin")), 403)
    approved = client.post(
        f"{url}/approve", json={"note": "agreed with the funder"}, headers=world.auth("finance2")
    )
    assert approved.get_json()["status"] == "approved"
    assert _budget(client, world, fund["id"])["lines"]["PERSONNEL"] == "50000.00"
    assert_problem(client.post(f"{url}/reject", json={}, headers=world.auth("finance2")), 409)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ACTIVITY": "-100.00", "PRINTING": "50.00"}, "changes"),
        ({"OFFICE": "-10000.01", "PRINTING": "10000.01"}, "changes.OFFICE"),
        ({"ACTIVITY": "-100.00", "FUNDRAISING": "100.00"}, "changes.FUNDRAISING"),
        ({"ACTIVITY": "0.00"}, "changes.ACTIVITY"),
    ],
)
def test_revision_rules(client: FlaskClient, world: DemoWorld, changes: dict[str, str], field: str) -> None:
    fund = activated_fund(client, world)
    before = table_counts(world.app)
    response = client.post(
        f"/api/v1/funds/{fund['id']}/budget-revisions",
        json={"changes": changes, "reason": "r"},
        headers=world.keyed("member01"),
    )
    assert_problem(response, 422, field)
    assert table_counts(world.app) == before


def test_lifecycle_rules(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    url, admin = f"/api/v1/funds/{fund['id']}", world.auth("admin")
    assert_problem(client.post(f"{url}/activate", headers={**admin, "If-Match": "*"}), 409)
    assert (
        client.post(f"{url}/suspend", headers={**admin, "If-Match": "*"}).get_json()["status"] == "suspended"
    )
    change = {"changes": {"ACTIVITY": "-1.00", "PRINTING": "1.00"}, "reason": "r"}
    assert_problem(client.post(f"{url}/budget-revisions", json=change, headers=world.keyed("member01")), 409)
    assert client.post(f"{url}/resume", headers={**admin, "If-Match": "*"}).get_json()["status"] == "active"
    # Cash received for the fund and not spent blocks closing.
    entry = {
        "date": "2026-02-01",
        "description": "first tranche",
        "lines": [
            {"account_code": "1002", "side": "debit", "amount": "50000.00", "fund_id": fund["id"]},
            {
                "account_code": "4401",
                "side": "credit",
                "amount": "50000.00",
                "fund_id": fund["id"],
                "restriction": "restricted",
            },
        ],
        "cash_flow_line": "grants_received",
    }
    organisation = world.member_organisation["member01"]
    assert (
        client.post(
            f"/api/v1/organisations/{organisation}/journal-entries",
            json=entry,
            headers=world.keyed("finance1"),
        ).status_code
        == 201
    )
    closing = assert_problem(client.post(f"{url}/close", headers={**admin, "If-Match": "*"}), 409)
    assert "¥50,000.00 of this fund is unspent" in closing["detail"]
    stale = client.post(f"{url}/suspend", headers={**admin, "If-Match": '"1"'})
    assert_problem(stale, 412)
    assert_problem(client.post(f"{url}/suspend", headers=admin), 428)


def test_who_sees_and_manages_funds(client: FlaskClient, world: DemoWorld) -> None:
    fund = draft_fund(client, world)
    other = draft_fund(
        client, world, reference="FC-2026-002", organisation_id=world.member_organisation["member02"]
    )
    assert [f["id"] for f in client.get("/api/v1/funds", headers=world.auth("member01")).get_json()] == [
        fund["id"]
    ]
    assert_problem(client.get(f"/api/v1/funds/{other['id']}", headers=world.auth("member01")), 403)
    assert_problem(client.get(f"/api/v1/funds/{other['id']}/budget", headers=world.auth("member01")), 403)
    assert len(client.get("/api/v1/funds", headers=world.auth("auditor")).get_json()) == 2
    for username in ("finance1", "auditor", "member01"):
        assert_problem(
            client.post(
                "/api/v1/funds",
                json=fund_terms(world, reference=f"X-{username}"),
                headers=world.keyed(username),
            ),
            403,
        )
    assert_problem(
        client.post("/api/v1/funds", json=fund_terms(world), headers=world.keyed("admin")), 409, "reference"
    )


def test_the_trail_replays_funds_and_budgets(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    client.post(
        f"/api/v1/funds/{fund['id']}/budget-revisions",
        json={"changes": {"ACTIVITY": "-100.00", "PRINTING": "100.00"}, "reason": "r"},
        headers=world.keyed("member01"),
    )
    with world.app.app_context():
        assert verify_database().ok
    from sqlalchemy import text

    from ledger.extensions import db

    with world.app.app_context():
        db.session.execute(text("UPDATE fund SET title = 'quietly renamed'"))
        db.session.commit()
        result = verify_database()
    assert any(d.table == "fund" and d.field == "title" for d in result.differences)


def test_postings_name_only_the_organisations_own_funds(client: FlaskClient, world: DemoWorld) -> None:
    other = draft_fund(
        client, world, reference="FC-2026-003", organisation_id=world.member_organisation["member02"]
    )
    entry = {
        "date": "2026-02-01",
        "description": "wrong fund",
        "lines": [
            {"account_code": "1002", "side": "debit", "amount": "1.00", "fund_id": other["id"]},
            {
                "account_code": "4401",
                "side": "credit",
                "amount": "1.00",
                "fund_id": "00000000-0000-0000-0000-000000000000",
            },
        ],
    }
    organisation = world.member_organisation["member01"]
    response = client.post(
        f"/api/v1/organisations/{organisation}/journal-entries", json=entry, headers=world.keyed("finance1")
    )
    assert_problem(response, 422, "lines.0.fund_id", "lines.1.fund_id")
