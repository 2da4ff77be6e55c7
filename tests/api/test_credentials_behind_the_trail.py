"""Credentials a database administrator cannot mint: tokens and passwords written behind the trail.

Each test plays a superuser who can write any table but holds neither the instance's secret key
nor the audit signing key: the token they plant or revive is refused (401), and ``ledger audit
verify`` names the row.
"""

from __future__ import annotations

import hashlib
import uuid

from flask.testing import FlaskClient
from sqlalchemy import select, text

from ledger.extensions import db
from ledger.models.user import ApiToken, User
from ledger.services.audit_verification import verify_database
from ledger.services.tokens import TOKEN_PREFIX, digest
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, tamper

CHOSEN = TOKEN_PREFIX + "chosen-by-the-administrator-0123456789abcdefghijklmnop"


def _user_id(world: DemoWorld, username: str) -> str:
    with world.app.app_context():
        return str(db.session.scalars(select(User.id).where(User.username == username)).one())


def _plant(world: DemoWorld, token_hash: str) -> str:
    """Insert an api_token row for admin holding ``token_hash``, as a superuser would."""
    token_id = uuid.uuid4()
    with world.app.app_context():
        user_id = db.session.scalars(select(User.id).where(User.username == "admin")).one()
        key = token_id.hex if db.engine.dialect.name == "sqlite" else str(token_id)
        owner = user_id.hex if db.engine.dialect.name == "sqlite" else str(user_id)
    tamper(
        world.app,
        "INSERT INTO api_token (id, user_id, token_hash, created_at, expires_at, purpose) VALUES "  # noqa: S608
        f"('{key}', '{owner}', '{token_hash}', '2026-11-01 00:00:00.000000', "
        "'2099-01-01 00:00:00.000000', 'login')",
    )
    return str(token_id)


def test_tokens_are_stored_as_a_digest_keyed_by_the_instance_secret(
    client: FlaskClient, world: DemoWorld
) -> None:
    token = client.post("/api/v1/auth/login", json={"username": "auditor", "password": "ledger-demo-2026"})
    secret = token.get_json()["token"]
    with world.app.app_context():
        stored = set(db.session.scalars(select(ApiToken.token_hash)))
        assert digest(secret) in stored
    assert hashlib.sha256(secret.encode()).hexdigest() not in stored


def test_a_token_planted_with_a_plain_digest_does_not_work(client: FlaskClient, world: DemoWorld) -> None:
    _plant(world, hashlib.sha256(CHOSEN.encode()).hexdigest())
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {CHOSEN}"}), 401)


def test_a_token_planted_with_the_right_digest_but_no_trail_entry_is_refused_and_reported(
    client: FlaskClient, world: DemoWorld
) -> None:
    """Even with the instance's secret key, a token the trail never issued does not work."""
    with world.app.app_context():
        keyed = digest(CHOSEN)
    token_id = _plant(world, keyed)
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {CHOSEN}"}), 401)
    with world.app.app_context():
        result = verify_database()
    planted = [d for d in result.differences if d.table == "api_token" and d.key == token_id]
    assert planted
    assert planted[0].seq is None


def test_a_revoked_token_revived_in_the_table_stays_refused(client: FlaskClient, world: DemoWorld) -> None:
    headers = world.auth("finance2")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    tamper(world.app, "UPDATE api_token SET revoked_at = NULL")
    assert_problem(client.get("/api/v1/auth/me", headers=headers), 401)
    assert client.get("/api/v1/auth/me", headers=world.auth("finance1")).status_code == 200


def test_a_token_handed_to_another_user_is_refused(client: FlaskClient, world: DemoWorld) -> None:
    headers = world.auth("member05")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    admin = _user_id(world, "admin")
    member = _user_id(world, "member05")
    with world.app.app_context():
        as_stored = (lambda u: uuid.UUID(u).hex) if db.engine.dialect.name == "sqlite" else str
    tamper(
        world.app,
        f"UPDATE api_token SET user_id = '{as_stored(admin)}' WHERE user_id = '{as_stored(member)}'",  # noqa: S608
    )
    assert_problem(client.get("/api/v1/auth/me", headers=headers), 401)


def test_a_password_hash_copied_from_another_user_is_reported(world: DemoWorld) -> None:
    tamper(
        world.app,
        "UPDATE app_user SET password_hash = (SELECT password_hash FROM app_user WHERE username = 'member01') "
        "WHERE username = 'admin'",
    )
    with world.app.app_context():
        result = verify_database()
    admin = _user_id(world, "admin")
    named = [d for d in result.differences if d.table == "app_user" and d.key == admin]
    assert named
    assert named[0].field == "password_fingerprint"
    # The trail holds a fingerprint, never the hash itself.
    assert "argon2" not in str(named[0].trail_value)


def test_the_trail_records_password_changes_as_a_fingerprint_bound_to_the_user(
    client: FlaskClient, world: DemoWorld
) -> None:
    headers = world.auth("member06")
    me = client.get("/api/v1/auth/me", headers=headers).get_json()
    changed = client.put(
        f"/api/v1/users/{me['id']}/password",
        json={"current_password": "ledger-demo-2026", "new_password": "another-long-password"},
        headers=headers,
    )
    assert changed.status_code == 204
    with world.app.app_context():
        canonical = db.session.execute(
            text("SELECT canonical FROM audit_entry WHERE action = 'user.password_changed' ORDER BY seq DESC")
        ).scalar()
        stored = db.session.scalars(select(User.password_hash).where(User.username == "member06")).one()
    assert canonical is not None
    assert b"password_fingerprint" in bytes(canonical)
    assert stored.encode() not in bytes(canonical)
    with world.app.app_context():
        assert verify_database().ok
