"""A real SMTP server (aiosmtpd) and a real HTTP receiver, started by the tests on free ports."""

from __future__ import annotations

import email
import email.policy
import http.server
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.extensions import db
from ledger.models.notification import Notification
from ledger.models.user import User
from tests.builders import activated_fund, draft_report, report_line
from tests.conftest import DemoWorld


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received, as parsed mails."""

    mails: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mails if m["To"] == address]


class SmtpServer:
    """An aiosmtpd server on ``port`` that can be stopped and started again (a mail outage)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """A mail server that is down until the test starts it."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server that records each POST and answers with the next status of ``answers``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ledger"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def run_notifier(app: Any, now: Any, smtp: SmtpServer | None = None) -> Any:
    """One pass of the notifier at ``now``, mailing through ``smtp`` (the real channels otherwise)."""
    from ledger.models.notification import DeliveryChannel
    from ledger.services.notifications.channels import EmailChannel, OutboxChannel, WebhookChannel
    from ledger.services.notifications.worker import run_once

    mail = EmailChannel(smtp.url, "Ledger <ledger@example.org>") if smtp is not None else OutboxChannel()
    with app.app_context():
        return run_once(
            now, {DeliveryChannel.EMAIL.value: mail, DeliveryChannel.WEBHOOK.value: WebhookChannel()}
        )


def choose(client: Any, headers: dict[str, str], email: str | None, mode: str, language: str) -> None:
    """Set a person's notification settings through the API."""
    response = client.put(
        "/api/v1/me/notification-preferences",
        json={"email": email, "email_mode": mode, "language": language},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()


def submitted_report(
    client: FlaskClient, world: DemoWorld, title: str = "三月报销 March", fund: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An interim report of 1,200.00 by member01 on ``fund`` (a new active fund if none), submitted.

    Interim, so that it files the fund's interim report (due 2026-07-02): otherwise that
    requirement is overdue on the tests' dates and reminds people besides the event under test.
    """
    fund = fund or activated_fund(client, world)
    report = draft_report(
        client, world, fund, [report_line(client, world, "ACTIVITY", "1200.00")], title=title, interim=True
    )
    response = client.post(f"/api/v1/expense-reports/{report['id']}/submit", headers=world.auth("member01"))
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def told(app: Flask, username: str) -> list[tuple[str, str]]:
    """(event, subject id) of each notification ``username`` has."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        rows = db.session.execute(
            select(Notification.event, Notification.subject_id).where(Notification.user_id == user_id)
        )
        return sorted((event, subject) for event, subject in rows)
