"""Users: roles, memberships, and the rules around them."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import assert_problem, keyed


def test_admin_creates_an_org_member_with_a_membership(client: FlaskClient, world: DemoWorld) -> None:
    organisation = world.organisation_ids[0]
    response = client.post(
        "/api/v1/users",
        json={
            "username": "Bookkeeper.Li",
            "display_name": "李会计",
            "role": "org_member",
            "password": "a-long-enough-password",
            "organisation_ids": [organisation],
        },
        headers=world.keyed("admin"),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "bookkeeper.li"
    assert body["organisation_ids"] == [organisation]
    assert "password" not in body
    assert "password_hash" not in body
    login = client.post(
        "/api/v1/auth/login", json={"username": "bookkeeper.li", "password": "a-long-enough-password"}
    )
    assert login.status_code == 200


def test_membership_rules(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    base = {"display_name": "x", "password": "a-long-enough-password"}
    no_org = client.post(
        "/api/v1/users", json={**base, "username": "m1", "role": "org_member"}, headers=keyed(admin)
    )
    assert_problem(no_org, 422, "organisation_ids")
    staff_with_org = client.post(
        "/api/v1/users",
        json={
            **base,
            "username": "f3",
            "role": "finance_officer",
            "organisation_ids": [world.organisation_ids[0]],
        },
        headers=keyed(admin),
    )
    assert_problem(staff_with_org, 422, "organisation_ids")
    unknown_org = client.post(
        "/api/v1/users",
        json={
            **base,
            "username": "m2",
            "role": "org_member",
            "organisation_ids": ["00000000-0000-0000-0000-000000000000"],
        },
        headers=keyed(admin),
    )
    assert_problem(unknown_org, 422, "organisation_ids")


def test_weak_passwords_and_bad_usernames_are_refused(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    short = client.post(
        "/api/v1/users",
        json={"username": "ok", "display_name": "x", "role": "auditor", "password": "short"},
        headers=keyed(admin),
    )
    assert_problem(short, 422, "password")
    bad_name = client.post(
        "/api/v1/users",
        json={
            "username": "has space",
            "display_name": "x",
            "role": "auditor",
            "password": "a-long-enough-password",
        },
        headers=keyed(admin),
    )
    assert_problem(bad_name, 422, "username")
    taken = client.post(
        "/api/v1/users",
        json={
            "username": "finance1",
            "display_name": "x",
            "role": "auditor",
            "password": "a-long-enough-password",
        },
        headers=keyed(admin),
    )
    assert_problem(taken, 409, "username")


def test_a_role_change_revokes_the_users_tokens(client: FlaskClient, world: DemoWorld) -> None:
    finance2 = world.auth("finance2")
    user_id = client.get("/api/v1/auth/me", headers=finance2).get_json()["id"]
    response = client.patch(
        f"/api/v1/users/{user_id}",
        json={"role": "auditor"},
        headers={**world.auth("admin"), "If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.get_json()["role"] == "auditor"
    assert_problem(client.get("/api/v1/auth/me", headers=finance2), 401)


def test_admins_cannot_demote_or_disable_themselves(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    user_id = client.get("/api/v1/auth/me", headers=admin).get_json()["id"]
    response = client.patch(
        f"/api/v1/users/{user_id}", json={"is_active": False}, headers={**admin, "If-Match": "*"}
    )
    assert_problem(response, 409)


def test_auditors_read_users_but_cannot_change_them(client: FlaskClient, world: DemoWorld) -> None:
    users = client.get("/api/v1/users?page_size=100", headers=world.auth("auditor")).get_json()
    assert len(users) == 21  # the demo's 9 staff and 12 members
    target = users[0]["id"]
    assert_problem(
        client.patch(
            f"/api/v1/users/{target}",
            json={"display_name": "x"},
            headers={**world.auth("auditor"), "If-Match": "*"},
        ),
        403,
    )


def test_org_members_see_only_themselves(client: FlaskClient, world: DemoWorld) -> None:
    member = world.auth("member01")
    me = client.get("/api/v1/auth/me", headers=member).get_json()
    assert client.get(f"/api/v1/users/{me['id']}", headers=member).status_code == 200
    assert_problem(client.get("/api/v1/users", headers=member), 403)
    other = client.get("/api/v1/auth/me", headers=world.auth("member02")).get_json()["id"]
    assert_problem(client.get(f"/api/v1/users/{other}", headers=member), 403)
