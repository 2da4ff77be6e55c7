"""Communities: admin CRUD, optimistic concurrency, coverage against the 10/5 target."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import assert_problem, keyed

NEW = {"code": "420102-099", "name": "新村社区", "kind": "rural", "district": "江岸区 Jiang'an District"}


def test_admin_creates_reads_updates_and_deletes(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    created = client.post("/api/v1/communities", json=NEW, headers=keyed(admin))
    assert created.status_code == 201
    body = created.get_json()
    assert body["organisation_target"] == 5
    assert created.headers["ETag"] == '"1"'
    url = f"/api/v1/communities/{body['id']}"

    changed = client.patch(url, json={"kind": "urban"}, headers={**admin, "If-Match": '"1"'})
    assert changed.status_code == 200
    assert changed.get_json()["organisation_target"] == 10
    assert changed.headers["ETag"] == '"2"'

    assert client.delete(url, headers={**admin, "If-Match": '"2"'}).status_code == 204
    assert_problem(client.get(url, headers=admin), 404)


def test_a_stale_or_missing_if_match_is_refused(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    url = f"/api/v1/communities/{world.community_ids[0]}"
    assert_problem(client.patch(url, json={"name": "x"}, headers=admin), 428)
    assert client.patch(url, json={"name": "first"}, headers={**admin, "If-Match": '"1"'}).status_code == 200
    assert_problem(client.patch(url, json={"name": "second"}, headers={**admin, "If-Match": '"1"'}), 412)
    assert client.get(url, headers=admin).get_json()["name"] == "first"


def test_codes_are_unique(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    assert client.post("/api/v1/communities", json=NEW, headers=keyed(admin)).status_code == 201
    assert_problem(client.post("/api/v1/communities", json=NEW, headers=keyed(admin)), 409, "code")


def test_a_community_with_organisations_cannot_be_deleted(client: FlaskClient, world: DemoWorld) -> None:
    url = f"/api/v1/communities/{world.community_ids[0]}"
    assert_problem(client.delete(url, headers={**world.auth("admin"), "If-Match": "*"}), 409)


def test_coverage_counts_organisations_against_targets(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/communities/coverage", headers=world.auth("finance1"))
    assert response.status_code == 200
    rows = {row["community"]["code"]: row for row in response.get_json()}
    assert rows["420102-001"]["organisation_count"] == 3
    assert rows["420102-001"]["target"] == 10
    assert rows["420116-202"]["target"] == 5
    assert rows["420116-202"]["organisation_count"] == 1
    assert not any(row["meets_target"] for row in rows.values())
    assert sum(row["organisation_count"] for row in rows.values()) == 12


def test_lists_are_paginated(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/communities?page=2&page_size=4", headers=world.auth("admin"))
    assert len(response.get_json()) == 2
    assert '"total": 6' in response.headers["X-Pagination"]


def test_filters(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/communities?kind=rural", headers=world.auth("admin"))
    assert {c["kind"] for c in response.get_json()} == {"rural"}
    assert len(response.get_json()) == 2
