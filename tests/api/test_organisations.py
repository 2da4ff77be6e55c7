"""Organisations: credit-code checks, admin CRUD, and what each role may see."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import assert_problem, keyed


def _body(world: DemoWorld, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "武汉市江岸区新星社工服务中心",
        "credit_code": "52420000MJH233402K",
        "registration_type": "social_service_organisation",
        "community_id": world.community_ids[1],
    }
    body.update(changes)
    return body


def test_registering_normalises_the_code(client: FlaskClient, world: DemoWorld) -> None:
    response = client.post(
        "/api/v1/organisations",
        json=_body(world, credit_code=" 52420000mjh233402k "),
        headers=world.keyed("admin"),
    )
    assert response.status_code == 201
    assert response.get_json()["credit_code"] == "52420000MJH233402K"


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("52420000MJH233402", "must be 18 characters long, not 17"),
        ("52420000MJH2334O2K", "character 'O' at position 16 is not allowed"),
        ("5242X000MJH233402K", "position 5 must be a digit"),
        ("52420000MJH233402A", "check character is 'A', expected 'K'"),
    ],
)
def test_a_wrong_code_is_a_422_that_says_what_is_wrong(
    client: FlaskClient, world: DemoWorld, code: str, says: str
) -> None:
    response = client.post(
        "/api/v1/organisations", json=_body(world, credit_code=code), headers=world.keyed("admin")
    )
    body = assert_problem(response, 422, "credit_code")
    assert says in body["errors"]["credit_code"][0]


def test_a_code_registers_once(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    assert client.post("/api/v1/organisations", json=_body(world), headers=keyed(admin)).status_code == 201
    assert_problem(
        client.post("/api/v1/organisations", json=_body(world, name="x"), headers=keyed(admin)),
        409,
        "credit_code",
    )


def test_update_and_delete_follow_if_match(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    created = client.post("/api/v1/organisations", json=_body(world), headers=keyed(admin)).get_json()
    url = f"/api/v1/organisations/{created['id']}"
    response = client.patch(url, json={"name": "改名后的服务中心"}, headers={**admin, "If-Match": '"1"'})
    assert response.status_code == 200
    assert_problem(
        client.patch(url, json={"credit_code": "bad"}, headers={**admin, "If-Match": '"2"'}),
        422,
        "credit_code",
    )
    assert client.get(url, headers=admin).get_json()["name"] == "改名后的服务中心"
    assert client.delete(url, headers={**admin, "If-Match": '"2"'}).status_code == 204


def test_an_organisation_with_members_cannot_be_deleted(client: FlaskClient, world: DemoWorld) -> None:
    url = f"/api/v1/organisations/{world.member_organisation['member01']}"
    assert_problem(client.delete(url, headers={**world.auth("admin"), "If-Match": "*"}), 409)


def test_an_org_member_sees_only_their_own_organisation(client: FlaskClient, world: DemoWorld) -> None:
    own = world.member_organisation["member05"]
    listed = client.get("/api/v1/organisations", headers=world.auth("member05")).get_json()
    assert [o["id"] for o in listed] == [own]
    assert client.get(f"/api/v1/organisations/{own}", headers=world.auth("member05")).status_code == 200
    for other in world.organisation_ids:
        if other != own:
            response = client.get(f"/api/v1/organisations/{other}", headers=world.auth("member05"))
            assert_problem(response, 403)


def test_staff_roles_see_every_organisation(client: FlaskClient, world: DemoWorld) -> None:
    for username in ("admin", "finance1", "auditor"):
        response = client.get("/api/v1/organisations", headers=world.auth(username))
        assert len(response.get_json()) == 15  # the demo's 12 registered and 3 filed


def test_filter_by_community(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get(
        f"/api/v1/organisations?community_id={world.community_ids[0]}", headers=world.auth("auditor")
    )
    assert len(response.get_json()) == 3
