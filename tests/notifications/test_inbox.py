"""The bell, the notifications page and API, a person's settings, and who may see what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.models.audit import AuditEntry
from ledger.models.notification import Notification
from ledger.models.user import User
from tests.builders import paid_fund
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, csrf_token_of, signed_in_client
from tests.notifications.conftest import choose, run_notifier, submitted_report, told

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
PREFERENCES = "/api/v1/me/notification-preferences"


def _entries(app: Flask, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


def test_settings_are_the_persons_own_recorded_and_checked(
    app: Flask, client: FlaskClient, world: DemoWorld, runner: FlaskCliRunner
) -> None:
    member = world.auth("member01")
    fresh = client.get(PREFERENCES, headers=member).get_json()
    assert fresh == {"email": None, "email_mode": "off", "language": "zh", "version": 0}

    # Mail without an address is refused at the field, and nothing is written or recorded.
    refused = client.put(
        PREFERENCES, json={"email": None, "email_mode": "each", "language": "en"}, headers=member
    )
    assert_problem(refused, 422, "email")
    bad = client.put(
        PREFERENCES, json={"email": "not an address", "email_mode": "each", "language": "xx"}, headers=member
    )
    assert_problem(bad, 422, "email", "language")
    assert _entries(app, "user.preferences_changed") == 0

    choose(client, member, "member01@example.org", "digest", "en")
    assert client.get(PREFERENCES, headers=member).get_json() == {
        "email": "member01@example.org",
        "email_mode": "digest",
        "language": "en",
        "version": 1,
    }
    assert _entries(app, "user.preferences_changed") == 1
    stale = client.put(
        PREFERENCES,
        json={"email": None, "email_mode": "off", "language": "zh"},
        headers={**member, "If-Match": '"0"'},
    )
    assert_problem(stale, 412)
    # The settings (and a webhook with its secret, as a fingerprint) replay from the trail.
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "https://example.org/hook", "event_types": ["disbursement.paid"]},
        headers=world.auth("admin"),
    )
    assert hook.status_code == 201
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_member_is_never_told_of_another_organisation(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = paid_fund(client, world)  # paid to member01's organisation
    run_notifier(app, NOW)
    # Paid, and reminded of what the organisation owes and has not filed: the interim report (due
    # 2026-07-02) and tranche 2's condition (due 2026-06-15), both overdue on 20 November.
    assert sorted(event for event, _ in told(app, "member01")) == [
        "disbursement_paid",
        "requirement_overdue",
        "requirement_overdue",
    ]
    assert told(app, "member02") == []

    # Even a notification stored for member02 about member01's organisation is not shown to them.
    with app.app_context():
        member02 = db.session.scalar(select(User.id).where(User.username == "member02"))
        db.session.add(
            Notification(
                user_id=member02,
                event="disbursement_paid",
                subject_type="disbursement",
                subject_id=str(uuid.uuid4()),
                organisation_id=uuid.UUID(world.member_organisation["member01"]),
                params={"amount": "CNY 1.00", "organisation": "x", "fund": "x"},
                link=f"/funds/{fund['id']}",
                dedup_key="stray",
                created_at=NOW,
            )
        )
        db.session.commit()
    listed = client.get("/api/v1/notifications", headers=world.auth("member02"))
    assert listed.status_code == 200
    assert listed.get_json() == []


def test_the_api_lists_marks_read_and_speaks_the_readers_language(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    report = submitted_report(client, world, title="六月报销 June")
    run_notifier(app, NOW)
    officer = world.auth("finance1")
    [chinese] = client.get("/api/v1/notifications", headers=officer).get_json()
    assert (
        chinese["message"]
        == "百步亭社区为老服务中心 Baibuting Elderly Care Centre 提交了报销单“六月报销 June”，等待您审核。"
    )
    assert chinese["link"] == f"http://127.0.0.1:5000/reports/{report['id']}"
    assert chinese["subject"] == {"type": "expense_report", "id": report["id"]}
    assert chinese["read_at"] is None
    english = client.get("/api/v1/notifications", headers={**officer, "Accept-Language": "en"}).get_json()
    assert english[0]["message"].endswith(
        "submitted the expense report “六月报销 June”; it waits for your review."
    )

    # Another person cannot mark it read; its owner can.
    assert_problem(
        client.post(f"/api/v1/notifications/{chinese['id']}/read", headers=world.auth("finance2")), 404
    )
    assert client.post(f"/api/v1/notifications/{chinese['id']}/read", headers=officer).status_code == 204
    assert client.get("/api/v1/notifications?unread=true", headers=officer).get_json() == []
    assert (
        len(client.get("/api/v1/notifications?unread=true", headers=world.auth("finance2")).get_json()) == 1
    )
    assert client.post("/api/v1/notifications/read-all", headers=world.auth("finance2")).status_code == 204
    assert client.get("/api/v1/notifications?unread=true", headers=world.auth("finance2")).get_json() == []


def test_the_bell_the_page_and_the_outbox(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    choose(client, world.auth("finance1"), "finance1@example.org", "each", "zh")
    report = submitted_report(client, world, title="七月报销 July")
    run_notifier(app, NOW)  # no mail server: the mail is kept in the outbox

    officer = signed_in_client(app, "finance1")
    home = officer.get("/").get_data(as_text=True)
    assert 'class="badge count">1<span class="sr"> 未读</span>' in home
    page = officer.get("/notifications").get_data(as_text=True)
    assert "提交了报销单“七月报销 July”，等待您审核。" in page
    assert 'value="finance1@example.org"' in page
    token = csrf_token_of(officer, "/notifications")
    with app.app_context():
        notification_id = db.session.scalar(
            select(Notification.id).join(User).where(User.username == "finance1")
        )
    opened = officer.post(f"/notifications/{notification_id}/read", data={"csrf_token": token})
    assert opened.status_code == 302
    assert opened.headers["Location"] == f"/reports/{report['id']}"
    assert 'class="badge count"' not in officer.get("/").get_data(as_text=True)

    outbox = signed_in_client(app, "admin").get("/dev/outbox")
    assert outbox.status_code == 200
    html = outbox.get_data(as_text=True)
    assert "finance1@example.org" in html
    assert "【社区基金账本】" in html
    assert signed_in_client(app, "member01").get("/dev/outbox").status_code == 404

    # Changing the settings on the page: mail without an address is refused at the field.
    saved = officer.post(
        "/notifications/preferences",
        data={"csrf_token": token, "version": "1", "email": "", "email_mode": "each", "language": "en"},
    )
    assert saved.status_code == 422
    assert "请填写接收邮件的地址。" in saved.get_data(as_text=True)
    saved = officer.post(
        "/notifications/preferences",
        data={
            "csrf_token": token,
            "version": "1",
            "email": "f1@example.org",
            "email_mode": "digest",
            "language": "en",
        },
    )
    assert saved.status_code == 302
    assert client.get(PREFERENCES, headers=world.auth("finance1")).get_json()["email_mode"] == "digest"
