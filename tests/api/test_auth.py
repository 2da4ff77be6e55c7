"""Signing in, tokens, throttling and revocation."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.demo import DEMO_PASSWORD
from ledger.extensions import db
from ledger.models.base import utcnow
from ledger.models.user import ApiToken, LoginThrottle, User
from ledger.replay.capture import forget_rows
from tests.conftest import DemoWorld
from tests.helpers import assert_problem


def _login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> object:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_returns_a_working_token(client: FlaskClient, world: DemoWorld) -> None:
    response = _login(client, "finance1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token"].startswith("cfl_")
    assert body["user"]["role"] == "finance_officer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["username"] == "finance1"


def test_tokens_are_stored_only_as_digests(client: FlaskClient, world: DemoWorld) -> None:
    token = _login(client, "auditor").get_json()["token"]
    with world.app.app_context():
        stored = [t.token_hash for t in db.session.scalars(select(ApiToken))]
    assert token not in stored
    assert all(len(h) == 64 for h in stored)


def test_wrong_password_and_unknown_user_look_the_same(client: FlaskClient, world: DemoWorld) -> None:
    wrong = assert_problem(_login(client, "finance1", "not-the-password"), 401)
    unknown = assert_problem(_login(client, "nobody", "not-the-password"), 401)
    assert wrong["detail"] == unknown["detail"]


def test_repeated_failures_lock_the_account_for_a_while(client: FlaskClient, world: DemoWorld) -> None:
    for _ in range(5):
        assert _login(client, "member01", "wrong-password").status_code == 401
    locked = _login(client, "member01")
    assert_problem(locked, 429)
    assert int(locked.headers["Retry-After"]) > 0
    # The lock ends by itself: a stranger cannot lock the owner out for good.
    with world.app.app_context():
        user = db.session.scalar(select(User).where(User.username == "member01"))
        assert user is not None
        throttle = db.session.get(LoginThrottle, user.id)
        assert throttle is not None
        assert throttle.locked_until is not None
        throttle.locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert _login(client, "member01").status_code == 200


def test_requests_without_a_valid_token_are_refused(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/organisations")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert_problem(client.get("/api/v1/organisations", headers={"Authorization": "Bearer cfl_forged"}), 401)
    assert_problem(client.get("/api/v1/organisations", headers={"Authorization": "Basic YWRtaW46eA=="}), 401)


def test_logout_revokes_the_token(client: FlaskClient, world: DemoWorld) -> None:
    headers = {"Authorization": f"Bearer {_login(client, 'finance2').get_json()['token']}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert_problem(client.get("/api/v1/auth/me", headers=headers), 401)


def test_expired_tokens_are_refused(client: FlaskClient, world: DemoWorld) -> None:
    headers = {"Authorization": f"Bearer {_login(client, 'finance2').get_json()['token']}"}
    with world.app.app_context():
        for token in db.session.scalars(select(ApiToken)):
            token.expires_at = utcnow() - timedelta(seconds=1)
        forget_rows(db.session)  # the clock moved on, as far as the tokens can tell
        db.session.commit()
    assert_problem(client.get("/api/v1/auth/me", headers=headers), 401)


def test_password_change_revokes_tokens(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    headers = world.auth("member02")
    me = client.get("/api/v1/auth/me", headers=headers).get_json()
    response = client.put(
        f"/api/v1/users/{me['id']}/password",
        json={"current_password": DEMO_PASSWORD, "new_password": "a-new-long-password"},
        headers=headers,
    )
    assert response.status_code == 204
    assert_problem(client.get("/api/v1/auth/me", headers=headers), 401)
    assert _login(client, "member02", "a-new-long-password").status_code == 200
    assert _login(client, "member02").status_code == 401


def test_changing_your_password_needs_the_current_one(client: FlaskClient, world: DemoWorld) -> None:
    headers = world.auth("member03")
    me = client.get("/api/v1/auth/me", headers=headers).get_json()
    response = client.put(
        f"/api/v1/users/{me['id']}/password",
        json={"current_password": "wrong-password", "new_password": "a-new-long-password"},
        headers=headers,
    )
    assert_problem(response, 422, "current_password")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_disabled_users_cannot_sign_in_and_lose_their_tokens(client: FlaskClient, world: DemoWorld) -> None:
    headers = world.auth("member04")
    user_id = client.get("/api/v1/auth/me", headers=headers).get_json()["id"]
    version = client.get(f"/api/v1/users/{user_id}", headers=world.auth("admin")).headers["ETag"]
    response = client.patch(
        f"/api/v1/users/{user_id}",
        json={"is_active": False},
        headers={**world.auth("admin"), "If-Match": version},
    )
    assert response.status_code == 200
    assert_problem(client.get("/api/v1/auth/me", headers=headers), 401)
    assert _login(client, "member04").status_code == 401
