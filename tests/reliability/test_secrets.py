"""Accounts and secrets: no password, token or session secret in any log line; revocation holds."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.demo import DEMO_PASSWORD
from tests.conftest import DemoWorld


class Collected(logging.Handler):
    """Every line any logger of the service (and the libraries under it) writes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + repr(record.args))


@contextmanager
def every_log_line() -> Iterator[Collected]:
    collected = Collected()
    loggers = [logging.getLogger(name) for name in ("", "ledger", "werkzeug", "flask", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(collected)
    logging.getLogger("ledger").setLevel(logging.DEBUG)
    try:
        yield collected
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(collected)
            logger.setLevel(level)


def test_no_secret_reaches_the_logs(
    app: Flask, client: FlaskClient, world: DemoWorld, capfd: pytest.CaptureFixture[str]
) -> None:
    from ledger.api.security import public

    @app.post("/api/v1/test-explodes")
    def explodes() -> str:
        raise RuntimeError("something broke while handling the request")

    public(explodes)
    secrets: list[str] = [DEMO_PASSWORD]
    with every_log_line() as collected:
        # Sign in through the API, wrongly and rightly, and use the token.
        client.post("/api/v1/auth/login", json={"username": "member01", "password": "Wrong-Password-123"})
        secrets.append("Wrong-Password-123")
        login = client.post(
            "/api/v1/auth/login", json={"username": "member01", "password": DEMO_PASSWORD}
        ).get_json()
        token = login["token"]
        secrets.append(token)
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).get_json()
        # Change the password: the old token stops working.
        new_password = "A-much-better-passphrase-2026"
        secrets.append(new_password)
        changed = client.put(
            f"/api/v1/users/{me['id']}/password",
            json={"current_password": DEMO_PASSWORD, "new_password": new_password},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert changed.status_code == 204
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        # A replayed, made-up or expired-looking token is refused the same way.
        assert (
            client.get("/api/v1/auth/me", headers={"Authorization": "Bearer cfl_made_up"}).status_code == 401
        )
        # Sign in on the web pages too (session cookie, CSRF token).
        web = app.test_client()
        page = web.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf
        secrets.append(csrf.group(1))
        web.post(
            "/login", data={"username": "member01", "password": new_password, "csrf_token": csrf.group(1)}
        )
        cookie = web.get_cookie("ledger_session")
        assert cookie is not None
        secrets.append(cookie.value)
        web.get("/")

        # An unexpected error is logged with its traceback, while the request carried secrets.
        failing = app.test_client().post(
            "/api/v1/test-explodes",
            json={"password": new_password, "token": token},
            headers={"Cookie": f"ledger_session={cookie.value}", "X-Api-Key": token},
        )
        assert failing.status_code == 500
    out, err = capfd.readouterr()
    everything = "\n".join(collected.lines) + out + err
    assert collected.lines, "the scenario should have logged something"
    for secret in secrets:
        assert secret not in everything, secret[:6]
    # Not even the digests of tokens or the password hashes.
    assert "$argon2" not in everything


def test_a_password_change_ends_every_session(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    tokens = [
        client.post(
            "/api/v1/auth/login", json={"username": "member02", "password": DEMO_PASSWORD}
        ).get_json()["token"]
        for _ in range(3)
    ]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens[0]}"}).get_json()
    admin_reset = client.put(
        f"/api/v1/users/{me['id']}/password",
        json={"new_password": "Reset-by-the-admin-2026"},
        headers=world.auth("admin"),
    )
    assert admin_reset.status_code == 204
    for token in tokens:
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
