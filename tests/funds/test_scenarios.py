"""A procurement contract and an incubation fund from award to closing, through the HTTP API."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from ledger.services.audit_verification import verify_database
from tests.builders import approve_and_pay_tranche, file_and_approve_report, fund_terms, report_line
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, keyed


def _balances(client: FlaskClient, world: DemoWorld, member: str) -> dict[str, str]:
    organisation = world.member_organisation[member]
    trial = client.get(
        f"/api/v1/organisations/{organisation}/trial-balance?as_of=2026-12-31", headers=world.auth("auditor")
    ).get_json()
    assert len(trial["totals"]) <= 1
    for totals in trial["totals"].values():
        assert totals["debit"] == totals["credit"]
    return {row["account_code"]: row["balance"] for row in trial["rows"] if row["balance"] != "0.00"}


def _verified(world: DemoWorld) -> None:
    with world.app.app_context():
        result = verify_database()
    assert result.ok, result.lines()


def _set_up(
    client: FlaskClient,
    world: DemoWorld,
    terms: dict[str, Any],
    budget: dict[str, str],
    tranches: list[dict[str, str]],
) -> dict[str, Any]:
    admin = world.auth("admin")
    fund = client.post("/api/v1/funds", json=terms, headers=keyed(admin)).get_json()
    url = f"/api/v1/funds/{fund['id']}"
    assert client.put(f"{url}/budget", json={"lines": budget}, headers=admin).status_code == 200
    fund["tranches"] = client.put(f"{url}/tranches", json={"tranches": tranches}, headers=admin).get_json()
    assert client.post(f"{url}/activate", headers={**admin, "If-Match": "*"}).status_code == 200
    return dict(fund)


def test_a_procurement_contract_from_award_to_closing(client: FlaskClient, world: DemoWorld) -> None:
    member = "member04"
    terms = fund_terms(
        world,
        kind="procurement_contract",
        reference="JA-ZFCG-2026-0090",
        organisation_id=world.member_organisation[member],
        award="300000.00",
        restricted=False,
        restriction_purpose=None,
        revenue_account="4301",
        disclosure_deadline=None,
        banned_categories=[],
        milestones=[
            {"name": "签约 signed", "due_date": "2026-02-01", "amount": "150000.00"},
            {"name": "终验 acceptance", "due_date": "2026-12-15", "amount": "150000.00"},
        ],
    )
    fund = _set_up(
        client,
        world,
        terms,
        {"CONTRACTED": "150000.00", "PERSONNEL": "120000.00", "OFFICE": "30000.00"},
        [
            {"amount": "150000.00", "due_date": "2026-02-01"},
            {"amount": "150000.00", "due_date": "2026-12-15"},
        ],
    )
    approve_and_pay_tranche(client, world, fund, fund["tranches"][0], "ICBC-1", "2026-02-03")
    assert _balances(client, world, member) == {"1002": "150000.00", "4301": "-150000.00"}
    _verified(world)

    # A services contract is an exchange: spending books no restricted-net-asset release.
    lines = [
        report_line(client, world, "CONTRACTED", "12000.00"),
        report_line(client, world, "PERSONNEL", "8000.00"),
    ]
    lines = [{**line, "receipt_sha256": _member_receipt(client, world, member)} for line in lines]
    file_and_approve_report(client, world, fund, member, lines)
    assert _balances(client, world, member) == {"1002": "130000.00", "4301": "-150000.00", "5101": "20000.00"}

    # A bank fee booked to the wrong account is corrected by reversal, not edited away.
    organisation = world.member_organisation[member]
    wrong = {
        "date": "2026-03-31",
        "description": "银行手续费 bank fee",
        "lines": [
            {"account_code": "5101", "side": "debit", "amount": "25.00", "fund_id": fund["id"]},
            {"account_code": "1002", "side": "credit", "amount": "25.00", "fund_id": fund["id"]},
        ],
        "cash_flow_line": "other_operating_paid",
    }
    entry = client.post(
        f"/api/v1/organisations/{organisation}/journal-entries", json=wrong, headers=world.keyed("finance1")
    ).get_json()
    client.post(
        f"/api/v1/journal-entries/{entry['id']}/reversal",
        json={"date": "2026-03-31", "reason": "wrong account"},
        headers=world.auth("finance1"),
    )
    right = {**wrong, "lines": [{**wrong["lines"][0], "account_code": "5301"}, wrong["lines"][1]]}  # type: ignore[index]
    assert (
        client.post(
            f"/api/v1/organisations/{organisation}/journal-entries",
            json=right,
            headers=world.keyed("finance1"),
        ).status_code
        == 201
    )
    assert _balances(client, world, member) == {
        "1002": "129975.00",
        "4301": "-150000.00",
        "5101": "20000.00",
        "5301": "25.00",
    }

    # The contract ends with the second half unpaid; the cash left goes back and the fund closes.
    summary = client.get(f"/api/v1/funds/{fund['id']}/summary", headers=world.auth("member04")).get_json()
    assert (summary["disbursed"], summary["spent"], summary["unspent_cash"]) == (
        "150000.00",
        "20000.00",
        "129975.00",
    )
    assert_problem(
        client.post(f"/api/v1/funds/{fund['id']}/close", headers={**world.auth("admin"), "If-Match": "*"}),
        409,
    )
    refund = {"amount": "129975.00", "refunded_on": "2026-12-20", "bank_reference": "REFUND-1"}
    assert (
        client.post(
            f"/api/v1/funds/{fund['id']}/refund", json=refund, headers=world.keyed("finance2")
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/funds/{fund['id']}/close", headers={**world.auth("admin"), "If-Match": "*"}
        ).get_json()["status"]
        == "closed"
    )
    assert _balances(client, world, member) == {"4301": "-20025.00", "5101": "20000.00", "5301": "25.00"}
    _verified(world)


def test_an_incubation_fund_with_a_budget_revision_and_a_closed_month(
    client: FlaskClient, world: DemoWorld
) -> None:
    member = "member08"
    terms = fund_terms(
        world,
        kind="incubation_fund",
        reference="FH-2026-100",
        organisation_id=world.member_organisation[member],
        award="50000.00",
        disclosure_deadline=None,
        banned_categories=[],
    )
    fund = _set_up(
        client,
        world,
        terms,
        {"ACTIVITY": "30000.00", "SUPPLIES": "15000.00", "OFFICE": "5000.00"},
        [{"amount": "50000.00", "due_date": "2026-03-01"}],
    )
    approve_and_pay_tranche(client, world, fund, fund["tranches"][0], "HP-1", "2026-03-02")
    revision = client.post(
        f"/api/v1/funds/{fund['id']}/budget-revisions",
        json={"changes": {"SUPPLIES": "-10000.00", "ACTIVITY": "10000.00"}, "reason": "more sessions"},
        headers=world.keyed(member),
    ).get_json()
    assert revision["status"] == "proposed"  # 20% of the award: a finance officer decides
    client.post(
        f"/api/v1/budget-revisions/{revision['id']}/approve",
        json={"note": "ok"},
        headers=world.auth("finance1"),
    )
    lines = [
        {
            **report_line(client, world, "ACTIVITY", "36000.00"),
            "receipt_sha256": _member_receipt(client, world, member),
        }
    ]
    file_and_approve_report(client, world, fund, member, lines)
    assert _balances(client, world, member) == {
        # Spent in the year it was received: the release reclassifies within 4401.
        "1002": "14000.00",
        "4401": "-50000.00",
        "5101": "36000.00",
    }
    organisation = world.member_organisation[member]
    client.post(f"/api/v1/organisations/{organisation}/periods/2026/3/close", headers=world.auth("finance1"))
    late = [
        {
            **report_line(client, world, "OFFICE", "100.00"),
            "receipt_sha256": _member_receipt(client, world, member),
        }
    ]
    report = client.post(
        f"/api/v1/funds/{fund['id']}/expense-reports", json={"title": "late"}, headers=world.keyed(member)
    ).get_json()
    client.put(
        f"/api/v1/expense-reports/{report['id']}/lines",
        json={"lines": late},
        headers={**world.auth(member), "If-Match": "*"},
    )
    assert_problem(
        client.post(f"/api/v1/expense-reports/{report['id']}/submit", headers=world.auth(member)),
        422,
        "lines.0.incurred_on",
    )
    _verified(world)


def _member_receipt(client: FlaskClient, world: DemoWorld, member: str) -> str:
    from tests.builders import post_receipt, receipt_pdf

    response = post_receipt(client, world, receipt_pdf(), user=member, member=member)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["sha256"])
