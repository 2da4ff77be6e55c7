"""Expense reports from filing to booking, every rule at submit and approval, and receipts."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from ledger.services.audit_verification import verify_database
from tests.builders import (
    activated_fund,
    draft_report,
    first_tranche,
    fund_with_schedule,
    post_receipt,
    prepare_disbursement,
    receipt_pdf,
    report_line,
)
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts


def _upload_closing(client: FlaskClient, world: DemoWorld, data: bytes) -> Any:
    """Upload a body large enough for the test client to spool it to a file, and close that file."""
    from werkzeug.test import EnvironBuilder

    organisation = world.member_organisation["member01"]
    builder = EnvironBuilder(
        path=f"/api/v1/organisations/{organisation}/receipts",
        method="POST",
        data={"file": (io.BytesIO(data), "receipt.pdf")},
        content_type="multipart/form-data",
        headers=world.auth("member01"),
    )
    try:
        environ = builder.get_environ()
        response = client.open(environ)
        response.close()
        return response
    finally:
        environ["wsgi.input"].close()
        builder.close()


def _balances(client: FlaskClient, world: DemoWorld) -> dict[str, str]:
    organisation = world.member_organisation["member01"]
    trial = client.get(
        f"/api/v1/organisations/{organisation}/trial-balance?as_of=2026-12-31", headers=world.auth("auditor")
    ).get_json()
    return {row["account_code"]: row["balance"] for row in trial["rows"]}


def test_a_report_is_filed_returned_fixed_approved_and_booked(client: FlaskClient, world: DemoWorld) -> None:
    fund = fund_with_schedule(client, world)
    first = prepare_disbursement(client, world, fund, first_tranche(fund), "t1").get_json()
    client.post(f"/api/v1/disbursements/{first['id']}/approve", headers=world.auth("finance2"))
    client.post(
        f"/api/v1/disbursements/{first['id']}/pay",
        json={"bank_reference": "B1", "paid_on": "2026-01-16"},
        headers=world.auth("finance1"),
    )

    report = draft_report(
        client,
        world,
        fund,
        [report_line(client, world, "ACTIVITY", "3000.00"), report_line(client, world, "OFFICE", "500.00")],
        interim=True,
    )
    url = f"/api/v1/expense-reports/{report['id']}"
    assert report["total"] == "3500.00"
    submitted = client.post(f"{url}/submit", headers=world.auth("member01"))
    assert submitted.status_code == 200, submitted.get_json()
    queue = client.get("/api/v1/expense-reports?status=submitted", headers=world.auth("finance1")).get_json()
    assert [r["id"] for r in queue] == [report["id"]]
    assert_problem(client.post(f"{url}/approve", headers=world.auth("member01")), 403)
    returned = client.post(
        f"{url}/return", json={"comment": "发票抬头不对 wrong invoice title"}, headers=world.auth("finance1")
    )
    assert returned.get_json()["status"] == "returned"
    assert returned.get_json()["comments"][0]["comment"] == "发票抬头不对 wrong invoice title"

    fixed_lines = [
        report_line(client, world, "ACTIVITY", "2800.00"),
        report_line(client, world, "OFFICE", "500.00"),
    ]
    fixed = client.put(
        f"{url}/lines",
        json={"lines": fixed_lines},
        headers={**world.auth("member01"), "If-Match": returned.headers["ETag"]},
    )
    assert fixed.status_code == 200, fixed.get_json()
    assert client.post(f"{url}/submit", headers=world.auth("member01")).status_code == 200
    approved = client.post(f"{url}/approve", headers=world.auth("finance1"))
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved"

    assert _balances(client, world) == {
        # The restriction is met in the year the grant was received: the release is a
        # reclassification within 4401 (restricted -> unrestricted), so 4401 still nets -40000.00.
        "1002": "36700.00",
        "4401": "-40000.00",
        "5101": "2800.00",
        "5201": "500.00",
    }
    # The approved interim report lets the second tranche through.
    second = {
        "kind": "tranche_advance",
        "amount": "40000.00",
        "memo": "second",
        "tranche_id": fund["tranches"][1]["id"],
    }
    assert prepare_disbursement(client, world, fund, second, "t2").status_code == 201
    with world.app.app_context():
        result = verify_database()
    assert result.ok, result.lines()


def _expect_submit_problem(
    client: FlaskClient,
    world: DemoWorld,
    fund: dict[str, Any],
    lines: list[dict[str, Any]],
    field: str,
    says: str,
) -> None:
    report = draft_report(client, world, fund, lines)
    before = table_counts(world.app)
    body = assert_problem(
        client.post(f"/api/v1/expense-reports/{report['id']}/submit", headers=world.auth("member01")),
        422,
        field,
    )
    assert any(says in message for message in body["errors"][field]), body
    assert table_counts(world.app) == before


@pytest.mark.parametrize(
    ("category", "amount", "changes", "field", "says"),
    [
        ("FUNDRAISING", "10.00", {}, "lines.0.category_code", "may not be spent on FUNDRAISING"),
        ("PRINTING", "10.00", {}, "lines.0.category_code", "not in this fund's budget"),
        ("NOPE", "10.00", {}, "lines.0.category_code", "not a standard expense category"),
        ("ACTIVITY", "60000.01", {}, "lines.0.amount", "left in the budget"),
        (
            "ACTIVITY",
            "10.00",
            {"incurred_on": "2025-12-31"},
            "lines.0.incurred_on",
            "outside the fund's period",
        ),
        ("ACTIVITY", "10.00", {"receipt_sha256": None}, "lines.0.receipt_sha256", "attach the receipt"),
    ],
)
def test_each_rule_names_the_line(
    client: FlaskClient,
    world: DemoWorld,
    category: str,
    amount: str,
    changes: dict[str, Any],
    field: str,
    says: str,
) -> None:
    fund = activated_fund(client, world)
    _expect_submit_problem(
        client, world, fund, [report_line(client, world, category, amount, **changes)], field, says
    )


def test_pending_reports_count_against_the_budget(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    first = draft_report(client, world, fund, [report_line(client, world, "ACTIVITY", "50000.00")])
    assert (
        client.post(
            f"/api/v1/expense-reports/{first['id']}/submit", headers=world.auth("member01")
        ).status_code
        == 200
    )
    _expect_submit_problem(
        client,
        world,
        fund,
        [report_line(client, world, "ACTIVITY", "10000.01")],
        "lines.0.amount",
        "budget - approved - pending",
    )


def test_the_admin_cost_cap(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world, admin_cost_cap_percent="5")
    _expect_submit_problem(
        client,
        world,
        fund,
        [report_line(client, world, "OFFICE", "5000.01")],
        "lines",
        "over the cap of 5.00%",
    )


def test_a_closed_period(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    organisation = world.member_organisation["member01"]
    client.post(f"/api/v1/organisations/{organisation}/periods/2026/3/close", headers=world.auth("finance1"))
    _expect_submit_problem(
        client,
        world,
        fund,
        [report_line(client, world, "ACTIVITY", "1.00")],
        "lines.0.incurred_on",
        "2026-03 is closed",
    )


def test_a_receipt_is_claimed_once(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    line = report_line(client, world, "ACTIVITY", "10.00")
    first = draft_report(client, world, fund, [line])
    assert (
        client.post(
            f"/api/v1/expense-reports/{first['id']}/submit", headers=world.auth("member01")
        ).status_code
        == 200
    )
    _expect_submit_problem(client, world, fund, [line], "lines.0.receipt_sha256", "already claimed")
    twice = report_line(client, world, "ACTIVITY", "1.00")
    _expect_submit_problem(
        client, world, fund, [twice, twice], "lines.1.receipt_sha256", "same receipt is on line 1"
    )


def test_only_members_file_and_only_finance_officers_decide(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    for username in ("finance1", "admin", "auditor", "member02"):
        response = client.post(
            f"/api/v1/funds/{fund['id']}/expense-reports", json={"title": "x"}, headers=world.keyed(username)
        )
        assert_problem(response, 403)
    report = draft_report(client, world, fund, [report_line(client, world, "ACTIVITY", "10.00")])
    client.post(f"/api/v1/expense-reports/{report['id']}/submit", headers=world.auth("member01"))
    for username in ("admin", "auditor", "member01"):
        assert_problem(
            client.post(f"/api/v1/expense-reports/{report['id']}/approve", headers=world.auth(username)), 403
        )
    assert_problem(client.get(f"/api/v1/expense-reports/{report['id']}", headers=world.auth("member02")), 403)
    assert client.get("/api/v1/expense-reports", headers=world.auth("member02")).get_json() == []


def test_receipts_are_checked_encrypted_and_guarded(client: FlaskClient, world: DemoWorld) -> None:
    marker = f"SECRET-RECEIPT-{uuid.uuid4().hex}"
    stored = post_receipt(client, world, receipt_pdf(marker))
    assert stored.status_code == 201
    sha = stored.get_json()["sha256"]
    instance = Path(world.app.instance_path) / "receipts"
    files = [p for p in instance.rglob("*") if p.is_file()]
    assert files
    assert not any(marker.encode() in p.read_bytes() for p in files)
    download = client.get(f"/api/v1/receipts/{sha}", headers=world.auth("member01"))
    assert download.status_code == 200
    assert marker.encode() in download.get_data()
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"/api/v1/receipts/{sha}", headers=world.auth("finance1")).status_code == 200
    assert_problem(client.get(f"/api/v1/receipts/{sha}", headers=world.auth("member02")), 403)
    assert_problem(client.get("/api/v1/receipts/../../etc/passwd", headers=world.auth("member01")), 404)
    before = table_counts(world.app)
    assert_problem(post_receipt(client, world, b"<html><script>alert(1)</script></html>"), 415, "file")
    assert_problem(post_receipt(client, world, b""), 422, "file")
    assert_problem(post_receipt(client, world, receipt_pdf(), user="member02"), 403)
    assert_problem(_upload_closing(client, world, os.urandom(11 * 1024 * 1024)), 413)
    assert table_counts(world.app) == before
    json_instead = client.post(
        f"/api/v1/organisations/{world.member_organisation['member01']}/receipts",
        json={"file": "x"},
        headers=world.auth("member01"),
    )
    assert_problem(json_instead, 415)


def test_a_decision_on_a_report_not_submitted_says_so_plainly(client: FlaskClient, world: DemoWorld) -> None:
    """Found by the property tests: the message read "is returnd"."""
    fund = fund_with_schedule(client, world)
    report = draft_report(client, world, fund, [report_line(client, world, "ACTIVITY", "10.00")])
    for action, word in (("approve", "approved"), ("return", "returned"), ("reject", "rejected")):
        body = None if action == "approve" else {"comment": "c"}
        problem = assert_problem(
            client.post(
                f"/api/v1/expense-reports/{report['id']}/{action}", json=body, headers=world.auth("finance1")
            ),
            409,
        )
        assert f"Only a submitted report is {word}; this report is not submitted." == problem["detail"]
        assert problem["code"] == "expense_report.not_submitted"
