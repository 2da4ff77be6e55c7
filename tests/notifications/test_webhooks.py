"""Webhooks: signed calls to another system, retried with backoff, every try in the log."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import assert_problem
from tests.notifications.conftest import Receiver, run_notifier, submitted_report

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def registered(client: FlaskClient, world: DemoWorld, url: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/webhooks",
        json={"url": url, "event_types": ["expense_report.submitted", "expense_report.approved"]},
        headers=world.auth("admin"),
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_a_delivery_is_signed_with_the_secret_and_a_failure_is_retried_and_logged(
    app: Flask, client: FlaskClient, world: DemoWorld, receiver: Receiver
) -> None:
    webhook = registered(client, world, receiver.url)
    assert webhook["secret"].startswith("whsec_")
    receiver.answers = [500]  # the other system fails once
    report = submitted_report(client, world)

    first = run_notifier(app, NOW)
    assert (first.sent, first.failed_tries) == (0, 1)
    assert run_notifier(app, NOW + timedelta(seconds=59)).failed_tries == 0  # backing off for a minute
    second = run_notifier(app, NOW + timedelta(minutes=1))
    assert (second.sent, second.failed_tries) == (1, 0)

    assert len(receiver.received) == 2
    call = receiver.received[-1]
    assert call.path == "/hooks/ledger"
    assert call.headers["Content-Type"] == "application/json"
    # Ledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body under the secret>
    fields = dict(part.split("=", 1) for part in call.headers["Ledger-Signature"].split(","))
    expected = hmac.new(
        webhook["secret"].encode(), fields["t"].encode() + b"." + call.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    forged = hmac.new(b"whsec_wrong", fields["t"].encode() + b"." + call.body, hashlib.sha256).hexdigest()
    assert fields["v1"] != forged
    payload = json.loads(call.body)
    assert payload["event"] == "expense_report.submitted"
    assert payload["subject"] == {"type": "expense_report", "id": report["id"]}
    assert payload["organisation_id"] == world.member_organisation["member01"]
    assert payload["link"] == f"http://127.0.0.1:5000/reports/{report['id']}"

    log = client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=world.auth("admin"))
    assert log.status_code == 200
    [delivery] = log.get_json()
    assert delivery["status"] == "sent"
    assert [(a["number"], a["ok"], a["detail"]) for a in delivery["attempts"]] == [
        (1, False, "HTTP 500"),
        (2, True, "sent"),
    ]
    # The secret is never shown again.
    listed = client.get("/api/v1/webhooks", headers=world.auth("admin")).get_json()
    assert [sorted(w) for w in listed] == [["created_at", "event_types", "id", "is_active", "url"]]


def test_a_redirect_is_not_followed(
    app: Flask, client: FlaskClient, world: DemoWorld, receiver: Receiver
) -> None:
    registered(client, world, receiver.url)
    receiver.answers = [302]
    submitted_report(client, world)
    assert run_notifier(app, NOW).failed_tries == 1
    assert len(receiver.received) == 1


def test_only_an_admin_of_the_whole_deployment_manages_webhooks(
    client: FlaskClient, world: DemoWorld, receiver: Receiver
) -> None:
    body = {"url": receiver.url, "event_types": ["disbursement.paid"]}
    assert_problem(client.post("/api/v1/webhooks", json=body, headers=world.auth("finance1")), 403)
    assert_problem(client.post("/api/v1/webhooks", json=body, headers=world.auth("huangpi.admin")), 403)
    bad = client.post(
        "/api/v1/webhooks",
        json={"url": "ftp://example.org/x", "event_types": ["disbursement.paid"]},
        headers=world.auth("admin"),
    )
    assert_problem(bad, 422, "url")
    for url in ("http://[::1/hook", "http://example.org:port/hook", "https://user:pw@example.org/hook"):
        refused = client.post(
            "/api/v1/webhooks",
            json={"url": url, "event_types": ["disbursement.paid"]},
            headers=world.auth("admin"),
        )
        assert_problem(refused, 422, "url")
    unknown = client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "event_types": ["user.created"]},
        headers=world.auth("admin"),
    )
    assert_problem(unknown, 422, "event_types.0")
