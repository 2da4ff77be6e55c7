"""Undoing what a business event booked: voids, returned payments, returned refunds.

Each event has its own undo, which reverses everything the event booked and changes the business
state with it; the generic reversal refuses such entries. Figures are the demo's, worked by hand:
the elders fund (restricted lottery grant, member01) received 40,000.00 on 2026-01-16 and
40,000.00 on 2026-06-18, and its Q1 report (ACTIVITY 3,200.00 + PERSONNEL 4,500.00 + OFFICE
380.00 = 8,080.00, March) is approved: 80,000.00 − 8,080.00 = 71,920.00 held.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from ledger.services.audit_verification import verify_database
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts


def _get(client: FlaskClient, world: DemoWorld, url: str, user: str = "finance1") -> Any:
    response = client.get(url, headers=world.auth(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _fund(client: FlaskClient, world: DemoWorld, reference: str) -> dict[str, Any]:
    funds = _get(client, world, "/api/v1/funds")
    return next(f for f in funds if f["reference"] == reference)


def _approved_report(client: FlaskClient, world: DemoWorld, fund_id: str) -> dict[str, Any]:
    reports = _get(client, world, f"/api/v1/expense-reports?fund_id={fund_id}&status=approved")
    assert len(reports) == 1
    return reports[0]


def test_the_generic_reversal_refuses_what_an_event_booked(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world = funded_world
    elders = _fund(client, world, "FC-WH-2026-017")
    report = _approved_report(client, world, elders["id"])
    before = table_counts(world.app)
    refused = assert_problem(
        client.post(
            f"/api/v1/journal-entries/{report['journal_entry_id']}/reversal",
            json={"date": "2026-07-01", "reason": "try"},
            headers=world.auth("finance1"),
        ),
        409,
        "entry",
    )
    assert "void the expense report" in refused["detail"]
    assert table_counts(world.app) == before


def test_voiding_a_report_reverses_its_spending_and_release(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world = funded_world
    elders = _fund(client, world, "FC-WH-2026-017")
    report = _approved_report(client, world, elders["id"])
    summary = _get(client, world, f"/api/v1/funds/{elders['id']}/summary")
    assert (summary["spent"], summary["unspent_cash"], summary["restricted_net_assets"]) == (
        "8080.00",
        "71920.00",
        "71920.00",
    )
    url = f"/api/v1/expense-reports/{report['id']}/void"
    body = {"date": "2026-07-01", "reason": "重复报销 claimed twice"}
    before = table_counts(world.app)
    assert_problem(
        client.post(url, json={**body, "reason": " "}, headers=world.auth("finance1")), 422, "reason"
    )
    assert_problem(client.post(url, json=body, headers=world.auth("member01")), 403)
    assert_problem(client.post(url, json={**body, "date": "2026-01-20"}, headers=world.auth("finance1")), 422)
    assert table_counts(world.app) == before

    voided = client.post(url, json=body, headers=world.auth("finance1"))
    assert voided.status_code == 200, voided.get_json()
    assert (voided.get_json()["status"], voided.get_json()["comments"][-1]["comment"]) == (
        "voided",
        body["reason"],
    )
    summary = _get(client, world, f"/api/v1/funds/{elders['id']}/summary")
    assert (
        summary["spent"],
        summary["unspent_cash"],
        summary["restricted_net_assets"],
        summary["admin_costs"],
    ) == (
        "0.00",
        "80000.00",
        "80000.00",
        "0.00",
    )
    approved = {
        c["category_code"]: c["approved"]
        for c in _get(client, world, f"/api/v1/funds/{elders['id']}/budget-vs-actual")["categories"]
    }
    assert approved == {"ACTIVITY": "0.00", "OFFICE": "0.00", "PERSONNEL": "0.00"}
    trial = _get(
        client, world, f"/api/v1/organisations/{elders['organisation_id']}/trial-balance?as_of=2026-07-31"
    )
    balances = {row["account_code"]: row["balance"] for row in trial["rows"]}
    # 80,000.00 received; the expense booked and reversed; 4401 back to all restricted.
    assert (balances["1002"], balances["4401"], balances["5101"], balances["5201"]) == (
        "80000.00",
        "-80000.00",
        "0.00",
        "0.00",
    )
    # Up to the void's date the report still counted: the books are as they were on 2026-06-30.
    march = _get(client, world, f"/api/v1/funds/{elders['id']}/statements/fund-use?period=2026-01..2026-06")
    assert (march["spending"]["cumulative"], march["unspent"]["held_in_bank"]) == ("8080.00", "71920.00")

    before = table_counts(world.app)
    assert_problem(client.post(url, json=body, headers=world.auth("finance1")), 409)
    assert table_counts(world.app) == before


def test_a_returned_payment_is_reversed_once(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    rehab = _fund(client, world, "JA-ZFCG-2026-0088")
    paid = [
        d for d in _get(client, world, f"/api/v1/funds/{rehab['id']}/disbursements") if d["status"] == "paid"
    ]
    assert len(paid) == 1
    url = f"/api/v1/disbursements/{paid[0]['id']}/reversal"
    body = {"date": "2026-03-31", "reason": "账号错误 the bank returned it"}
    reversed_ = client.post(url, json=body, headers=world.auth("finance2"))
    assert reversed_.status_code == 200, reversed_.get_json()
    assert (reversed_.get_json()["status"], reversed_.get_json()["reversed_on"]) == ("reversed", "2026-03-31")
    summary = _get(client, world, f"/api/v1/funds/{rehab['id']}/summary")
    # 150,000.00 received and returned; the 12,000.00 spent in March came from the bank anyway.
    assert (summary["disbursed"], summary["spent"], summary["unspent_cash"]) == (
        "0.00",
        "12000.00",
        "-12000.00",
    )
    before = table_counts(world.app)
    assert_problem(client.post(url, json=body, headers=world.auth("finance2")), 409)
    assert table_counts(world.app) == before
    with world.app.app_context():
        result = verify_database()
    assert result.ok, result.lines()


def test_adjustment_restrictions_are_checked_against_the_fund(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world = funded_world
    elders = _fund(client, world, "FC-WH-2026-017")
    rehab = _fund(client, world, "JA-ZFCG-2026-0088")
    url = f"/api/v1/organisations/{elders['organisation_id']}/journal-entries"

    def entry(restriction: str | None, fund: dict[str, Any]) -> dict[str, Any]:
        return {
            "date": "2026-07-02",
            "description": "interest",
            "lines": [
                {"account_code": "1122", "side": "debit", "amount": "10.00"},
                {
                    "account_code": fund["revenue_account"],
                    "side": "credit",
                    "amount": "10.00",
                    "fund_id": fund["id"],
                    "restriction": restriction,
                },
            ],
        }

    before = table_counts(world.app)
    assert_problem(
        client.post(url, json=entry(None, elders), headers=world.keyed("finance1")),
        422,
        "lines.1.restriction",
    )
    rehab_url = f"/api/v1/organisations/{rehab['organisation_id']}/journal-entries"
    assert_problem(
        client.post(rehab_url, json=entry("restricted", rehab), headers=world.keyed("finance1")),
        422,
        "lines.1.restriction",
    )
    assert_problem(
        client.post(
            url,
            json={**entry("restricted", elders), "cash_flow_line": "grants_received"},
            headers=world.keyed("finance1"),
        ),
        422,
        "cash_flow_line",
    )
    assert table_counts(world.app) == before
    posted = client.post(url, json=entry("restricted", elders), headers=world.keyed("finance1"))
    assert posted.status_code == 201, posted.get_json()
    summary = _get(client, world, f"/api/v1/funds/{elders['id']}/summary")
    assert summary["restricted_net_assets"] == "71930.00"  # 71,920.00 + 10.00 restricted revenue


def test_budget_moves_without_approval_count_together(client: FlaskClient, funded_world: DemoWorld) -> None:
    """After-school fund: award 50,000.00, so moves up to 5,000.00 in all apply without approval."""
    world = funded_world
    fund = _fund(client, world, "FH-HP-2026-003")
    url = f"/api/v1/funds/{fund['id']}/budget-revisions"

    def move(amount: str) -> Any:
        response = client.post(
            url,
            json={"changes": {"ACTIVITY": f"-{amount}", "SUPPLIES": amount}, "reason": "more materials"},
            headers=world.keyed("member08"),
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    assert move("3000.00")["status"] == "approved"
    assert move("2000.00")["status"] == "approved"  # 5,000.00 in all: still within
    assert move("0.01")["status"] == "proposed"  # 5,000.01: a finance officer decides
