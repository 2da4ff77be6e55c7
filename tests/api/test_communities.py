"""Communities: leaves of the administrative tree; admin CRUD, optimistic concurrency, coverage."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import assert_problem, keyed, table_counts

# 后湖村, a village (class 220) of 后湖街道 in the illustrative list the demo does not use.
NEW = {"code": "420102012201"}


def test_admin_creates_reads_updates_and_deletes(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    created = client.post("/api/v1/communities", json=NEW, headers=keyed(admin))
    assert created.status_code == 201
    body = created.get_json()
    # The name and the kind come from the division: class 220 is rural, so the target is 5.
    assert (body["name"], body["kind"], body["division_list"]) == ("后湖村", "rural", "CFL-ILLUSTRATIVE-2024")
    assert [(d["code"], d["name"], d["level"]) for d in body["path"]] == [
        ("420000000000", "湖北省", "province"),
        ("420100000000", "武汉市", "city"),
        ("420102000000", "江岸区", "county"),
        ("420102012000", "后湖街道", "township"),
        ("420102012201", "后湖村", "community"),
    ]
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


def test_the_kind_and_name_may_differ_from_the_division(client: FlaskClient, world: DemoWorld) -> None:
    body = {"code": "420102012202", "name": "长丰社区", "kind": "urban"}
    created = client.post("/api/v1/communities", json=body, headers=world.keyed("admin")).get_json()
    assert (created["name"], created["kind"], created["organisation_target"]) == ("长丰社区", "urban", 10)


def test_a_community_moves_to_another_leaf_with_its_organisations(
    client: FlaskClient, world: DemoWorld
) -> None:
    admin = world.auth("admin")
    url = f"/api/v1/communities/{world.community_ids[0]}"
    moved = client.patch(url, json={"code": "420102001001"}, headers={**admin, "If-Match": '"1"'})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["path"][3]["name"] == "大智街道"
    organisations = client.get(f"/api/v1/organisations?community_id={world.community_ids[0]}", headers=admin)
    assert len(organisations.get_json()) == 3


def test_only_a_leaf_of_a_loaded_list_is_a_community(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.keyed("admin")
    before = table_counts(world.app)
    cases = [
        ({"code": "420102-099"}, "code"),  # not a division code
        ({"code": "420102099001"}, "code"),  # well formed, in no list
        ({"code": "420102012000"}, "code"),  # 后湖街道: a street, not a leaf
        ({"code": "420102012201", "division_list": "NBS-1999"}, "code"),  # not in that list
    ]
    for body, field in cases:
        assert_problem(client.post("/api/v1/communities", json=body, headers=admin), 422, field)
    assert table_counts(world.app) == before


def test_a_district_admin_places_communities_only_in_the_district(
    client: FlaskClient, world: DemoWorld
) -> None:
    huangpi = world.keyed("huangpi.admin")
    before = table_counts(world.app)
    assert_problem(client.post("/api/v1/communities", json=NEW, headers=huangpi), 403)
    assert table_counts(world.app) == before
    created = client.post("/api/v1/communities", json={"code": "420116001002"}, headers=huangpi)
    assert created.status_code == 201
    listed = client.get("/api/v1/communities?page_size=100", headers=world.auth("huangpi.admin")).get_json()
    assert {c["code"][:6] for c in listed} == {"420116"}


def test_communities_are_listed_under_a_node(client: FlaskClient, world: DemoWorld) -> None:
    listed = client.get("/api/v1/communities?within=420102012000", headers=world.auth("admin")).get_json()
    assert [c["name"] for c in listed] == ["百步亭花园社区", "丹水池社区"]
    assert_problem(client.get("/api/v1/communities?within=4201", headers=world.auth("admin")), 422, "within")


def test_coverage_counts_organisations_against_targets(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/communities/coverage", headers=world.auth("finance1"))
    assert response.status_code == 200
    rows = {row["community"]["code"]: row for row in response.get_json()}
    assert rows["420102012001"]["organisation_count"] == 3
    assert rows["420102012001"]["target"] == 10
    assert rows["420116200202"]["target"] == 5
    assert rows["420116200202"]["organisation_count"] == 1
    # 双泉村: 2 registered and 3 filed, the rural target of 5; nobody else meets theirs.
    assert [code for code, row in rows.items() if row["meets_target"]] == ["420116200201"]
    assert sum(row["organisation_count"] for row in rows.values()) == 15


def test_lists_are_paginated(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/communities?page=2&page_size=4", headers=world.auth("admin"))
    assert len(response.get_json()) == 2
    assert '"total": 6' in response.headers["X-Pagination"]


def test_filters(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/communities?kind=rural", headers=world.auth("admin"))
    assert {c["kind"] for c in response.get_json()} == {"rural"}
    assert len(response.get_json()) == 2
