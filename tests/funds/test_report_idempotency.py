"""Creating an expense report takes an Idempotency-Key: a retry returns the first report."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import assert_problem, send_concurrently, table_counts


def _active_fund(client: FlaskClient, world: DemoWorld) -> str:
    funds = client.get("/api/v1/funds?status=active", headers=world.auth("member01")).get_json()
    return str(funds[0]["id"])


def _create(
    client: FlaskClient, world: DemoWorld, fund: str, key: str | None, title: str = "四月报销 April"
) -> object:
    headers = dict(world.auth("member01"))
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/funds/{fund}/expense-reports", json={"title": title}, headers=headers)


def _reports(client: FlaskClient, world: DemoWorld, fund: str) -> list[dict[str, object]]:
    return client.get(
        f"/api/v1/expense-reports?fund_id={fund}&page_size=100", headers=world.auth("member01")
    ).get_json()


def test_a_retry_returns_the_first_report_and_another_body_is_a_conflict(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world = funded_world
    fund = _active_fund(client, world)
    before = len(_reports(client, world, fund))
    first = _create(client, world, fund, "retry-1")
    assert first.status_code == 201
    again = _create(client, world, fund, "retry-1")
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(_reports(client, world, fund)) == before + 1
    counts = table_counts(world.app)
    assert_problem(_create(client, world, fund, "retry-1", title="another report"), 409, "Idempotency-Key")
    assert table_counts(world.app) == counts


def test_a_create_without_a_key_is_refused_naming_the_header(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    fund = _active_fund(client, funded_world)
    counts = table_counts(funded_world.app)
    assert_problem(_create(client, funded_world, fund, None), 422, "Idempotency-Key")
    assert table_counts(funded_world.app) == counts


def test_concurrent_retries_make_one_report(app: Flask, client: FlaskClient, funded_world: DemoWorld) -> None:
    """Eight retries at once, as a client that timed out might send them: one report, seven 200s."""
    fund = _active_fund(client, funded_world)
    before = len(_reports(client, funded_world, fund))
    responses = send_concurrently(app, lambda own: _create(own, funded_world, fund, "same-key"))
    statuses = [response.status_code for response in responses]
    ids = {response.get_json().get("id", "") for response in responses}
    assert sorted(statuses) == [200] * 7 + [201], statuses
    assert len(ids) == 1
    assert len(_reports(client, funded_world, fund)) == before + 1
