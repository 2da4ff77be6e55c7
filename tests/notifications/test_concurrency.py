"""Two notifier passes at once never tell anyone twice nor send anything twice (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.models.notification import DeliveryChannel, Notification
from ledger.services.notifications.channels import OutgoingMessage
from ledger.services.notifications.worker import run_once
from tests.builders import activated_fund
from tests.conftest import DemoWorld, is_postgres
from tests.notifications.conftest import choose, submitted_report

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not is_postgres(), reason="SQLite runs one writer at a time: there is no race to decide"
    ),
]

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


class SlowChannel:
    """Takes its time over each message (a slow mail server), and counts what it was given."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> None:
        time.sleep(0.2)
        with self.lock:
            self.sent.append(message.recipient)


def test_two_passes_at_once_send_each_mail_once(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    for officer in ("finance1", "finance2", "houhu.finance1", "houhu.finance2"):
        choose(client, world.auth(officer), f"{officer}@example.org", "each", "zh")
    fund = activated_fund(client, world)
    for number in range(3):
        submitted_report(client, world, title=f"报销 {number}", fund=fund)
    channel = SlowChannel()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def one_pass() -> None:
        with app.app_context():
            try:
                start.wait()
                run_once(NOW, {DeliveryChannel.EMAIL.value: channel, DeliveryChannel.WEBHOOK.value: channel})
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # Three reports, four officers each: twelve notifications and twelve mails, each once.
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 12
    assert len(channel.sent) == 12
    assert sorted(set(channel.sent)) == sorted(
        f"{o}@example.org" for o in ("finance1", "finance2", "houhu.finance1", "houhu.finance2")
    )
    assert all(channel.sent.count(a) == 3 for a in set(channel.sent))
