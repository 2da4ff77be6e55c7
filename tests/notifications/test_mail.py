"""Each notification path, mailed through a real SMTP server in the person's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.extensions import db
from ledger.models.notification import Delivery
from tests.builders import activated_fund, first_tranche, fund_with_schedule, prepare_disbursement
from tests.conftest import DemoWorld
from tests.notifications.conftest import SmtpServer, choose, run_notifier, submitted_report, told

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in China


def test_a_submitted_report_mails_the_officers_each_in_their_language(
    app: Flask, client: FlaskClient, world: DemoWorld, smtp_server: SmtpServer
) -> None:
    choose(client, world.auth("finance1"), "finance1@example.org", "each", "zh")
    choose(client, world.auth("finance2"), "finance2@example.org", "each", "en")
    report = submitted_report(client, world, title="三月报销 March")

    report_pass = run_notifier(app, NOW, smtp_server)

    assert report_pass.sent == 2
    link = f"http://127.0.0.1:5000/reports/{report['id']}"
    [chinese] = smtp_server.mailbox.to("finance1@example.org")
    assert chinese["Subject"] == (
        "【社区基金账本】 百步亭社区为老服务中心 Baibuting Elderly Care Centre 提交了报销单“三月报销 March”，等待您审核。"
    )
    assert link in chinese.get_content()
    assert "您收到这封邮件是因为您的通知设置" in chinese.get_content()
    [english] = smtp_server.mailbox.to("finance2@example.org")
    assert english["Subject"] == (
        "[Community Fund Ledger] 百步亭社区为老服务中心 Baibuting Elderly Care Centre submitted the expense "
        "report “三月报销 March”; it waits for your review."
    )
    assert link in english.get_content()
    # In the app too, for every officer who may decide it (those without mail as well), and not for
    # the member who filed it nor an officer of another street.
    assert told(app, "houhu.finance1") == [("report_submitted", report["id"])]
    assert told(app, "member01") == []
    assert told(app, "qianchuan.finance") == []

    # A second pass finds nothing new: nobody is told twice.
    again = run_notifier(app, NOW + timedelta(minutes=5), smtp_server)
    assert (again.notifications, again.sent) == (0, 0)
    assert len(smtp_server.mailbox.mails) == 2


def test_returned_and_approved_reports_mail_the_member_who_filed_them(
    app: Flask, client: FlaskClient, world: DemoWorld, smtp_server: SmtpServer
) -> None:
    choose(client, world.auth("member01"), "member01@example.org", "each", "en")
    report = submitted_report(client, world, title="四月报销 April")
    url = f"/api/v1/expense-reports/{report['id']}"
    returned = client.post(f"{url}/return", json={"comment": "请补充签到表"}, headers=world.auth("finance1"))
    assert returned.status_code == 200, returned.get_json()
    run_notifier(app, NOW, smtp_server)
    [mail] = smtp_server.mailbox.to("member01@example.org")
    assert (
        mail["Subject"]
        == "[Community Fund Ledger] Your expense report “四月报销 April” was returned for changes."
    )
    assert f"http://127.0.0.1:5000/reports/{report['id']}" in mail.get_content()
    # The officer who returned it is not told of their own action; the report no longer waits, so
    # the officers' "to review" notice is not stored either (it was decided before the pass).
    assert told(app, "finance1") == []
    assert told(app, "finance2") == []

    version = client.get(url, headers=world.auth("member01")).headers["ETag"]
    resubmitted = client.post(f"{url}/submit", headers={**world.auth("member01"), "If-Match": version})
    assert resubmitted.status_code == 200, resubmitted.get_json()
    approved = client.post(f"{url}/approve", headers=world.auth("finance2"))
    assert approved.status_code == 200, approved.get_json()
    run_notifier(app, NOW + timedelta(hours=1), smtp_server)
    subjects = [m["Subject"] for m in smtp_server.mailbox.to("member01@example.org")]
    assert subjects == [
        "[Community Fund Ledger] Your expense report “四月报销 April” was returned for changes.",
        "[Community Fund Ledger] Your expense report “四月报销 April” was approved.",
    ]


def test_a_prepared_disbursement_tells_another_officer_never_the_preparer(
    app: Flask, client: FlaskClient, world: DemoWorld, smtp_server: SmtpServer
) -> None:
    choose(client, world.auth("finance1"), "finance1@example.org", "each", "zh")
    choose(client, world.auth("finance2"), "finance2@example.org", "each", "zh")
    fund = fund_with_schedule(client, world)
    prepared = prepare_disbursement(client, world, fund, first_tranche(fund), "notify-1")
    assert prepared.status_code == 201, prepared.get_json()
    disbursement = prepared.get_json()["id"]

    run_notifier(app, NOW, smtp_server)

    assert ("disbursement_to_approve", disbursement) in told(app, "finance2")
    assert ("disbursement_to_approve", disbursement) in told(app, "houhu.finance1")
    assert [e for e, s in told(app, "finance1") if s == disbursement] == []
    approve_mails = [m for m in smtp_server.mailbox.mails if "等待您批准" in m["Subject"]]
    assert [m["To"] for m in approve_mails] == ["finance2@example.org"]
    assert approve_mails[0]["Subject"] == (
        "【社区基金账本】 一笔拨付给 百步亭社区为老服务中心 Baibuting Elderly Care Centre 的 CNY 40,000.00"
        "（资金 FC-2026-001）等待您批准。"
    )
    assert f"http://127.0.0.1:5000/funds/{fund['id']}" in approve_mails[0].get_content()
    # The fund's schedule also reminds both officers once: tranche 2 was due on 2026-06-15 and is
    # overdue; tranche 3 falls due on 2026-12-01, within fourteen days of 20 November. And what the
    # organisation owes is overdue, so its area's officers hear of it: the interim report (the
    # midpoint of 2026, 2 July) and tranche 2's condition (an approved interim report by 15 June).
    reminders = sorted(m["Subject"] for m in smtp_server.mailbox.to("finance1@example.org"))
    organisation = "百步亭社区为老服务中心 Baibuting Elderly Care Centre"
    assert reminders == [
        f"【社区基金账本】 {organisation}：“中期报告”应于 2026-07-02 完成，已逾期。",
        f"【社区基金账本】 {organisation}：“第2期拨款条件：中期报告获批”应于 2026-06-15 完成，已逾期。",
        "【社区基金账本】 资金 FC-2026-001 第 2 期拨款（CNY 40,000.00）应于 2026-06-15 拨付，已逾期。",
        "【社区基金账本】 资金 FC-2026-001 第 3 期拨款（CNY 20,000.00）将于 2026-12-01 到期。",
    ]
    run_notifier(app, NOW + timedelta(days=1), smtp_server)
    assert len(smtp_server.mailbox.to("finance1@example.org")) == 4


def test_the_daily_digest_lists_what_waits_once_a_day(
    app: Flask, client: FlaskClient, world: DemoWorld, smtp_server: SmtpServer
) -> None:
    choose(client, world.auth("finance2"), "finance2@example.org", "digest", "en")
    report = submitted_report(client, world, title="五月报销 May")
    day_one = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 20 November, 10:00 in China

    first = run_notifier(app, day_one, smtp_server)
    assert (first.notifications, first.digests, first.sent) == (
        4,
        0,
        0,
    )  # finance1, finance2 and the Houhu hub's two; no mail for each

    # Still 20 November in China at 15:59 UTC; 16:00 UTC is midnight, 21 November.
    assert run_notifier(app, datetime(2026, 11, 20, 15, 59, tzinfo=UTC), smtp_server).digests == 0
    second = run_notifier(app, datetime(2026, 11, 21, 1, 0, tzinfo=UTC), smtp_server)
    assert (second.digests, second.sent) == (1, 1)
    [digest] = smtp_server.mailbox.to("finance2@example.org")
    assert digest["Subject"] == "[Community Fund Ledger] What waits for you (1)"
    body = digest.get_content()
    assert "submitted the expense report “五月报销 May”; it waits for your review." in body
    assert f"http://127.0.0.1:5000/reports/{report['id']}" in body
    assert "http://127.0.0.1:5000/notifications" in body

    # Later that day, and the next day with nothing new: no more digests.
    assert run_notifier(app, datetime(2026, 11, 21, 9, 0, tzinfo=UTC), smtp_server).digests == 0
    assert run_notifier(app, datetime(2026, 11, 22, 1, 0, tzinfo=UTC), smtp_server).digests == 0
    assert len(smtp_server.mailbox.mails) == 1


def test_a_mail_server_that_is_down_fails_nothing_and_the_mail_arrives_once_it_is_back(
    app: Flask, client: FlaskClient, world: DemoWorld, smtp_down: SmtpServer
) -> None:
    choose(client, world.auth("finance1"), "finance1@example.org", "each", "en")
    report = submitted_report(client, world)  # the request succeeds: it sends nothing itself

    down = run_notifier(app, NOW, smtp_down)
    assert (down.notifications, down.sent, down.failed_tries) == (4, 0, 1)
    with app.app_context():
        [delivery] = db.session.scalars(select(Delivery)).all()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
        assert "ConnectionRefusedError" in (delivery.last_error or "")

    smtp_down.start()
    # Not due again yet after 30 seconds; after the minute's backoff it goes, exactly once.
    assert run_notifier(app, NOW + timedelta(seconds=30), smtp_down).sent == 0
    assert run_notifier(app, NOW + timedelta(minutes=1), smtp_down).sent == 1
    assert run_notifier(app, NOW + timedelta(hours=1), smtp_down).sent == 0
    [mail] = smtp_down.mailbox.mails
    assert report["title"] in mail["Subject"]
    with app.app_context():
        [delivery] = db.session.scalars(select(Delivery)).all()
        assert (delivery.status, delivery.attempts, delivery.sent_at) == (
            "sent",
            2,
            NOW + timedelta(minutes=1),
        )


def test_a_delivery_that_keeps_failing_backs_off_and_gives_up(
    app: Flask, client: FlaskClient, world: DemoWorld, smtp_down: SmtpServer
) -> None:
    choose(client, world.auth("finance1"), "finance1@example.org", "each", "en")
    submitted_report(client, world)
    at = NOW
    waits = []
    for _ in range(6):
        run_notifier(app, at, smtp_down)
        with app.app_context():
            delivery = db.session.scalars(select(Delivery)).one()
            waits.append(delivery.next_attempt_at - at)
            at = delivery.next_attempt_at
    assert waits[:5] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
    ]
    with app.app_context():
        delivery = db.session.scalars(select(Delivery)).one()
        assert (delivery.status, delivery.attempts) == ("failed", 6)


def test_a_requirement_reminds_who_answers_for_it_once_when_due_and_once_when_overdue(
    app: Flask, client: FlaskClient, world: DemoWorld, smtp_server: SmtpServer
) -> None:
    choose(client, world.auth("member01"), "member01@example.org", "each", "zh")
    choose(client, world.auth("finance1"), "finance1@example.org", "each", "en")
    fund = activated_fund(client, world)
    annual = client.post(
        f"/api/v1/funds/{fund['id']}/requirements",
        json={"kind": "annual_report", "covers_year": 2026, "due_on": "2026-12-10"},
        headers=world.auth("finance1"),
    )
    assert annual.status_code == 201, annual.get_json()
    # Each reader sees the title in their own language (the organisation's name is as it was typed).
    subject = (
        "【社区基金账本】 百步亭社区为老服务中心 Baibuting Elderly Care Centre：“2026年度工作报告（年报）”"
    )

    def annual_mails(address: str) -> list[str]:
        return [
            m["Subject"]
            for m in smtp_server.mailbox.to(address)
            if "年报" in m["Subject"] or "Annual" in m["Subject"]
        ]

    # 20 November: 20 days ahead, within the 30 days in which it counts as due. The member side
    # answers for an annual report; officers are not told yet.
    run_notifier(app, NOW, smtp_server)
    assert annual_mails("member01@example.org") == [f"{subject}将于 2026-12-10 到期。"]
    assert annual_mails("finance1@example.org") == []
    run_notifier(app, NOW + timedelta(days=1), smtp_server)  # still due: not told again
    assert len(annual_mails("member01@example.org")) == 1

    # 11 December (China): overdue. The member is told again, and now the area's officers too.
    run_notifier(app, datetime(2026, 12, 11, 2, 0, tzinfo=UTC), smtp_server)
    overdue = f"{subject}应于 2026-12-10 完成，已逾期。"
    assert annual_mails("member01@example.org") == [f"{subject}将于 2026-12-10 到期。", overdue]
    assert annual_mails("finance1@example.org") == [
        "[Community Fund Ledger] 百步亭社区为老服务中心 Baibuting Elderly Care Centre: “Annual report for 2026”"
        " was due on 2026-12-10 and is overdue."
    ]


def test_the_other_paths_mail_whoever_acts_next(
    app: Flask, client: FlaskClient, world: DemoWorld, smtp_server: SmtpServer
) -> None:
    """Rejected report, disbursement approved then paid, budget revision proposed then decided."""
    for person in ("member01", "finance1", "finance2"):
        choose(client, world.auth(person), f"{person}@example.org", "each", "en")
    fund = fund_with_schedule(client, world)
    rejected = submitted_report(client, world, title="八月报销 August", fund=fund)
    refused = client.post(
        f"/api/v1/expense-reports/{rejected['id']}/reject",
        json={"comment": "不属于本项目"},
        headers=world.auth("finance1"),
    )
    assert refused.status_code == 200, refused.get_json()

    prepared = prepare_disbursement(client, world, fund, first_tranche(fund), "notify-paths").get_json()
    url = f"/api/v1/disbursements/{prepared['id']}"
    assert client.post(f"{url}/approve", headers=world.auth("finance2")).status_code == 200
    run_notifier(app, NOW, smtp_server)  # the approved disbursement waits to be paid
    paid = client.post(
        f"{url}/pay",
        json={"bank_reference": "ICBC-9", "paid_on": "2026-01-16"},
        headers=world.auth("finance1"),
    )
    assert paid.status_code == 200, paid.get_json()

    change = {"changes": {"ACTIVITY": "-20000.00", "PERSONNEL": "20000.00"}, "reason": "hire a social worker"}
    proposed = client.post(
        f"/api/v1/funds/{fund['id']}/budget-revisions", json=change, headers=world.keyed("finance1")
    ).get_json()
    run_notifier(app, NOW + timedelta(minutes=1), smtp_server)  # the revision waits for a decision
    decided = client.post(
        f"/api/v1/budget-revisions/{proposed['id']}/approve", json={}, headers=world.auth("finance2")
    )
    assert decided.status_code == 200, decided.get_json()
    run_notifier(app, NOW + timedelta(minutes=2), smtp_server)

    def events(address: str) -> list[str]:
        prefix = "[Community Fund Ledger] "
        return [
            m["Subject"].removeprefix(prefix)
            for m in smtp_server.mailbox.to(address)
            if "due on" not in m["Subject"]  # the schedule's reminders are another test's
        ]

    organisation = "百步亭社区为老服务中心 Baibuting Elderly Care Centre"
    assert events("member01@example.org") == [
        "Your expense report “八月报销 August” was rejected.",
        f"CNY 40,000.00 of fund FC-2026-001 was paid to {organisation}.",
    ]
    # finance2 approved the disbursement (not told it waits to be paid: finance1 may pay it, as the
    # one who may not approve what they prepared may still pay it) and decides the revision
    # finance1 proposed; finance1 is told the decision.
    assert events("finance1@example.org") == [
        f"A disbursement of CNY 40,000.00 to {organisation} (fund FC-2026-001) is approved and waits to be paid.",
        "Your budget revision of fund FC-2026-001 was approved.",
    ]
    # The report was rejected before the notifier read its submission: it waits for nobody, so
    # finance2 is not asked to review it.
    assert events("finance2@example.org") == [
        "A budget revision of fund FC-2026-001 waits for your decision."
    ]
