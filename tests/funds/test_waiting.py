"""What waits for a finance officer (services/waiting.py), and their home page listing it."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from ledger.demo_funds import actor_named
from ledger.services import waiting
from tests.builders import first_tranche, fund_with_schedule, prepare_disbursement
from tests.conftest import DemoWorld
from tests.helpers import signed_in_client


def _work(app: Flask, username: str, today: date) -> waiting.OfficerWork:
    with app.app_context():
        return waiting.officer_work(actor_named(username), today)


def test_each_officer_sees_what_they_may_act_on(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    # Tranches due 2026-01-15 (40,000.00), 2026-06-15 (40,000.00) and 2026-12-01 (20,000.00).
    fund = fund_with_schedule(client, world)
    prepared = prepare_disbursement(client, world, fund, first_tranche(fund), "waiting-1")
    assert prepared.status_code == 201

    # The preparer does not approve their own: nothing to approve, nothing to pay yet. The first
    # tranche is being paid; the second is overdue; the third falls due within fourteen days.
    preparer = _work(app, "finance1", date(2026, 11, 20))
    assert preparer.to_approve == []
    assert preparer.to_pay == []
    assert [(d.tranche.number, d.overdue) for d in preparer.tranches_due] == [(2, True), (3, False)]
    # The organisation's overdue items it is followed up on: tranche 2's condition (due 15 June)
    # and the interim report (due 2 July, the 2026 fund's midpoint) — docs/requirements.md.
    assert [r.requirement.kind for r in preparer.requirements.items] == [
        "tranche_condition",
        "interim_report",
    ]
    assert preparer.total == 2 + 2
    # Three weeks earlier the third tranche is not due yet.
    assert [d.tranche.number for d in _work(app, "finance1", date(2026, 11, 10)).tranches_due] == [2]

    # The other officer approves it; then it waits to be paid.
    other = _work(app, "finance2", date(2026, 11, 20))
    assert [(w.thing.amount_minor, w.thing.memo) for w in other.to_approve] == [
        (4_000_000, "第一期拨款 first tranche")
    ]
    approved = client.post(
        f"/api/v1/disbursements/{prepared.get_json()['id']}/approve",
        headers={**world.auth("finance2"), "If-Match": "*"},
    )
    assert approved.status_code == 200, approved.get_json()
    assert _work(app, "finance2", date(2026, 11, 20)).to_approve == []
    assert [w.thing.amount_minor for w in _work(app, "finance1", date(2026, 11, 20)).to_pay] == [4_000_000]

    # A member has no such list; an officer of another part of the tree sees none of this fund.
    assert _work(app, "qianchuan.finance", date(2026, 11, 20)).total == 0


def test_the_officers_home_lists_it_with_counts(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    fund = fund_with_schedule(client, world)
    assert prepare_disbursement(client, world, fund, first_tranche(fund), "waiting-2").status_code == 201
    home = signed_in_client(app, "finance2").get("/").get_data(as_text=True)
    assert "待您处理" in home
    section = home.split('id="my-work"', 1)[1].split("</section>", 1)[0]
    assert "<dt>待审批的拨付</dt><dd>1</dd>" in section
    # The lottery grant's 2026 disclosure (due 2027-06-30) is the officers' own, not due yet; the
    # count of overdue items depends on today, so only its label is checked here.
    assert "<dt>逾期事项</dt>" in section
    assert "¥40,000.00 · 第一期拨款 first tranche" in section
    preparer_home = signed_in_client(app, "finance1").get("/").get_data(as_text=True)
    assert "<dt>待审批的拨付</dt><dd>0</dd>" in preparer_home
