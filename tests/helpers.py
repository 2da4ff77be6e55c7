"""Small helpers shared by the tests."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.extensions import db

PROBLEM = "application/problem+json"


def keyed(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus a fresh Idempotency-Key, for a request that creates something."""
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}


def count_rows(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def table_counts(app: Flask) -> dict[str, int]:
    """Rows in every table: compare before and after a refused request to prove nothing was written."""
    with app.app_context():
        return {
            table.name: int(db.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in db.metadata.sorted_tables
        }


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` naming each of ``fields``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("urn:community-fund-ledger:problem:")
    assert body["title"]
    assert body["detail"]
    for field in fields:
        assert field in body.get("errors", {}), body
    return body


def csrf_token_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page's forms carry (the page at ``path``, fetched by ``client``)."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, path
    return match.group(1)


def signed_in_client(app: Flask, username: str, password: str | None = None) -> FlaskClient:
    """A browser-like test client signed in through the login page (the demo password by default)."""
    from ledger.demo import DEMO_PASSWORD

    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password or DEMO_PASSWORD,
            "csrf_token": csrf_token_of(client),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client
