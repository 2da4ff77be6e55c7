"""Every write that moves money takes an Idempotency-Key: adjustments and refunds as disbursements do."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.builders import ADJUSTMENT, paid_fund
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, send_concurrently, table_counts

REFUND = {"amount": "1000.00", "refunded_on": "2026-02-01", "bank_reference": "退款-0001"}


def _adjust(client: FlaskClient, world: DemoWorld, body: dict[str, Any], key: str | None) -> TestResponse:
    headers = dict(world.auth("finance1"))
    if key is not None:
        headers["Idempotency-Key"] = key
    organisation = world.member_organisation["member01"]
    return client.post(f"/api/v1/organisations/{organisation}/journal-entries", json=body, headers=headers)


def _refund(
    client: FlaskClient, world: DemoWorld, fund: dict[str, Any], body: dict[str, Any], key: str | None
) -> TestResponse:
    headers = dict(world.auth("finance2"))
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/funds/{fund['id']}/refund", json=body, headers=headers)


def _entries(client: FlaskClient, world: DemoWorld) -> list[dict[str, Any]]:
    organisation = world.member_organisation["member01"]
    return list(
        client.get(
            f"/api/v1/organisations/{organisation}/journal-entries", headers=world.auth("finance1")
        ).get_json()
    )


def test_an_adjustment_needs_a_key_and_a_retry_returns_the_first_entry(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    before = table_counts(app)
    assert_problem(_adjust(client, world, ADJUSTMENT, None), 422, "Idempotency-Key")
    assert_problem(_adjust(client, world, ADJUSTMENT, "   "), 422, "Idempotency-Key")
    assert_problem(_adjust(client, world, ADJUSTMENT, "k" * 201), 422, "Idempotency-Key")
    assert table_counts(app) == before

    first = _adjust(client, world, ADJUSTMENT, "interest-2026-03")
    assert first.status_code == 201, first.get_json()
    after_first = table_counts(app)
    retry = _adjust(client, world, ADJUSTMENT, "interest-2026-03")
    assert retry.status_code == 200
    assert retry.get_json() == first.get_json()
    # The same request in another key order is the same request.
    reordered = {
        "cash_flow_line": ADJUSTMENT["cash_flow_line"],
        "lines": ADJUSTMENT["lines"],
        "description": ADJUSTMENT["description"],
        "date": "2026-03-15",
    }
    assert _adjust(client, world, reordered, "interest-2026-03").status_code == 200
    assert table_counts(app) == after_first

    different = {**ADJUSTMENT, "description": "something else"}
    assert_problem(_adjust(client, world, different, "interest-2026-03"), 409, "Idempotency-Key")
    assert table_counts(app) == after_first
    assert [e["id"] for e in _entries(client, world)] == [first.get_json()["id"]]

    # Keys are per person: another officer's identical key is a request of their own.
    organisation = world.member_organisation["member01"]
    other = client.post(
        f"/api/v1/organisations/{organisation}/journal-entries",
        json=ADJUSTMENT,
        headers={**world.auth("finance2"), "Idempotency-Key": "interest-2026-03"},
    )
    assert other.status_code == 201
    assert other.get_json()["id"] != first.get_json()["id"]


def test_a_refund_needs_a_key_and_a_retry_returns_the_first_booking(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = paid_fund(client, world)
    before = table_counts(app)
    assert_problem(_refund(client, world, fund, REFUND, None), 422, "Idempotency-Key")
    assert table_counts(app) == before

    first = _refund(client, world, fund, REFUND, "refund-1")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["refunded"] == "1000.00"
    after_first = table_counts(app)
    retry = _refund(client, world, fund, REFUND, "refund-1")
    assert retry.status_code == 200
    assert retry.get_json() == body
    assert_problem(
        _refund(client, world, fund, {**REFUND, "amount": "999.00"}, "refund-1"), 409, "Idempotency-Key"
    )
    assert table_counts(app) == after_first

    summary = client.get(f"/api/v1/funds/{fund['id']}/summary", headers=world.auth("finance1")).get_json()
    assert summary["refunded"] == "1000.00"
    assert summary["unspent_cash"] == "39000.00"
    entry = client.get(
        f"/api/v1/journal-entries/{body['journal_entry_id']}", headers=world.auth("finance1")
    ).get_json()
    assert entry["source"] == "refund"


def test_concurrent_identical_adjustments_post_one_entry(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    responses = send_concurrently(app, lambda own: _adjust(own, world, ADJUSTMENT, "same-key"))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201], [r.get_json() for r in responses]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert len(_entries(client, world)) == 1


def test_concurrent_identical_refunds_book_one_refund(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = paid_fund(client, world)
    responses = send_concurrently(app, lambda own: _refund(own, world, fund, REFUND, "same-refund"))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201], [r.get_json() for r in responses]
    assert len({r.get_json()["journal_entry_id"] for r in responses}) == 1
    assert [e["source"] for e in _entries(client, world)].count("refund") == 1
    summary = client.get(f"/api/v1/funds/{fund['id']}/summary", headers=world.auth("finance1")).get_json()
    assert summary["refunded"] == "1000.00"
