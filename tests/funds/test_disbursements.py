"""Disbursements: schedules, separation of duties, idempotent creation, booking on payment."""

from __future__ import annotations

import threading

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import (
    SCHEDULE,
    draft_fund,
    first_tranche,
    fund_with_schedule,
    prepare_disbursement,
)
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts


def test_schedule_rules(client: FlaskClient, world: DemoWorld) -> None:
    fund = draft_fund(client, world)
    url, admin = f"/api/v1/funds/{fund['id']}/tranches", world.auth("admin")
    too_much = [*SCHEDULE, {"amount": "0.01", "due_date": "2026-12-30"}]
    assert_problem(client.put(url, json={"tranches": too_much}, headers=admin), 422, "tranches")
    assert_problem(
        client.put(url, json={"tranches": [{"amount": 5, "due_date": "2026-01-01"}]}, headers=admin),
        400,
        "tranches.0.amount",
    )
    assert_problem(client.put(url, json={"tranches": SCHEDULE}, headers=world.auth("finance1")), 403)
    assert [t["number"] for t in client.put(url, json={"tranches": SCHEDULE}, headers=admin).get_json()] == [
        1,
        2,
        3,
    ]


def test_prepare_approve_pay_books_the_money(client: FlaskClient, world: DemoWorld) -> None:
    fund = fund_with_schedule(client, world)
    first = prepare_disbursement(client, world, fund, first_tranche(fund), "pay-1")
    assert first.status_code == 201, first.get_json()
    disbursement = first.get_json()
    retry = prepare_disbursement(client, world, fund, first_tranche(fund), "pay-1")
    assert retry.status_code == 200
    assert retry.get_json()["id"] == disbursement["id"]
    other_body = {**first_tranche(fund), "memo": "something else"}
    assert_problem(prepare_disbursement(client, world, fund, other_body, "pay-1"), 409, "Idempotency-Key")
    url = f"/api/v1/disbursements/{disbursement['id']}"
    own = assert_problem(client.post(f"{url}/approve", headers=world.auth("finance1")), 403)
    assert own["code"] == "access.self_approval"
    assert_problem(
        client.post(
            f"{url}/pay",
            json={"bank_reference": "B1", "paid_on": "2026-01-16"},
            headers=world.auth("finance2"),
        ),
        409,
    )
    assert client.post(f"{url}/approve", headers=world.auth("finance2")).get_json()["status"] == "approved"
    paid = client.post(
        f"{url}/pay",
        json={"bank_reference": "ICBC-20260116-001", "paid_on": "2026-01-16"},
        headers=world.auth("finance1"),
    )
    assert paid.status_code == 200, paid.get_json()
    assert paid.get_json()["status"] == "paid"
    organisation = world.member_organisation["member01"]
    entry = client.get(
        f"/api/v1/journal-entries/{paid.get_json()['journal_entry_id']}", headers=world.auth("member01")
    ).get_json()
    assert entry["source"] == "disbursement_paid"
    assert [(p["account_code"], p["side"], p["amount"], p["restriction"]) for p in entry["postings"]] == [
        ("1002", "debit", "40000.00", None),
        ("4401", "credit", "40000.00", "restricted"),
    ]
    trial = client.get(
        f"/api/v1/organisations/{organisation}/trial-balance?as_of=2026-12-31", headers=world.auth("auditor")
    ).get_json()
    assert {r["account_code"]: r["balance"] for r in trial["rows"]} == {
        "1002": "40000.00",
        "4401": "-40000.00",
    }
    assert_problem(
        client.post(f"/api/v1/funds/{fund['id']}/close", headers={**world.auth("admin"), "If-Match": "*"}),
        409,
    )
    assert_problem(client.post(f"{url}/cancel", json={"reason": "oops"}, headers=world.auth("finance1")), 409)


def test_never_more_than_the_award_never_twice_a_tranche(client: FlaskClient, world: DemoWorld) -> None:
    fund = fund_with_schedule(client, world)
    assert prepare_disbursement(client, world, fund, first_tranche(fund), "a").status_code == 201
    assert_problem(prepare_disbursement(client, world, fund, first_tranche(fund), "b"), 409)
    big = {"kind": "reimbursement", "amount": "60000.01", "memo": "too much"}
    over = assert_problem(prepare_disbursement(client, world, fund, big, "c"), 409)
    assert over["code"] == "disbursement.over_award"
    assert over["detail"] == "That is more than is left of the award: ¥60,000.00 is left."
    fits = {"kind": "reimbursement", "amount": "60000.00", "memo": "the rest"}
    assert prepare_disbursement(client, world, fund, fits, "d").status_code == 201
    assert_problem(prepare_disbursement(client, world, fund, {**fits, "amount": "0.01"}, "e"), 409)


def test_conditions_and_inactive_funds(client: FlaskClient, world: DemoWorld) -> None:
    fund = fund_with_schedule(client, world)
    second = {
        "kind": "tranche_advance",
        "amount": "40000.00",
        "memo": "second",
        "tranche_id": fund["tranches"][1]["id"],
    }
    body = assert_problem(prepare_disbursement(client, world, fund, second, "k1"), 409)
    assert "approved interim expense report" in body["detail"]
    wrong_amount = {**first_tranche(fund), "amount": "39999.99"}
    assert_problem(prepare_disbursement(client, world, fund, wrong_amount, "k2"), 422, "amount")
    client.post(f"/api/v1/funds/{fund['id']}/suspend", headers={**world.auth("admin"), "If-Match": "*"})
    assert_problem(prepare_disbursement(client, world, fund, first_tranche(fund), "k3"), 409)
    draft = draft_fund(client, world, reference="FC-DRAFT")
    assert_problem(
        prepare_disbursement(
            client, world, draft, {"kind": "reimbursement", "amount": "1.00", "memo": "m"}, "k4"
        ),
        409,
    )


def test_bad_requests_write_nothing(client: FlaskClient, world: DemoWorld) -> None:
    fund = fund_with_schedule(client, world)
    before = table_counts(world.app)
    url = f"/api/v1/funds/{fund['id']}/disbursements"
    assert_problem(
        client.post(url, json=first_tranche(fund), headers=world.auth("finance1")), 422, "Idempotency-Key"
    )
    assert_problem(
        prepare_disbursement(client, world, fund, {**first_tranche(fund), "amount": 40000}, "x"),
        400,
        "amount",
    )
    assert_problem(
        prepare_disbursement(client, world, fund, {**first_tranche(fund), "amount": "-1.00"}, "x"),
        422,
        "amount",
    )
    assert_problem(
        prepare_disbursement(
            client,
            world,
            fund,
            {"kind": "reimbursement", "amount": "1.00", "memo": "m", "tranche_id": fund["tranches"][0]["id"]},
            "x",
        ),
        422,
        "tranche_id",
    )
    assert_problem(
        prepare_disbursement(client, world, fund, first_tranche(fund), "x" * 201), 422, "Idempotency-Key"
    )
    for username in ("member01", "admin", "auditor"):
        assert_problem(
            prepare_disbursement(client, world, fund, first_tranche(fund), "x", user=username), 403
        )
    assert table_counts(world.app) == before


def test_members_see_their_own_disbursements_only(client: FlaskClient, world: DemoWorld) -> None:
    fund = fund_with_schedule(client, world)
    created = prepare_disbursement(client, world, fund, first_tranche(fund), "m1").get_json()
    assert (
        client.get(f"/api/v1/disbursements/{created['id']}", headers=world.auth("member01")).status_code
        == 200
    )
    assert (
        len(
            client.get(f"/api/v1/funds/{fund['id']}/disbursements", headers=world.auth("member01")).get_json()
        )
        == 1
    )
    assert_problem(client.get(f"/api/v1/disbursements/{created['id']}", headers=world.auth("member02")), 403)
    assert_problem(
        client.get(f"/api/v1/funds/{fund['id']}/disbursements", headers=world.auth("member02")), 403
    )


def test_concurrent_identical_requests_make_one_disbursement(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = fund_with_schedule(client, world)
    start = threading.Barrier(8)
    statuses: list[int] = []
    ids: set[str] = set()
    lock = threading.Lock()

    def retry() -> None:
        own = app.test_client()
        start.wait()
        response = prepare_disbursement(own, world, fund, first_tranche(fund), "same-key")
        with lock:
            statuses.append(response.status_code)
            ids.add(response.get_json().get("id", ""))

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 7 + [201], statuses
    assert len(ids) == 1
    listed = client.get(
        f"/api/v1/funds/{fund['id']}/disbursements", headers=world.auth("finance2")
    ).get_json()
    assert len(listed) == 1
