"""Year-end closing (年末结转) and the period rules: months close in order, once they have ended."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from ledger.business_dates import business_today
from ledger.extensions import db
from ledger.models import AuditEntry, AuditQueueItem, JournalEntry, Posting
from ledger.models.books import Side
from ledger.money import Money
from ledger.services.audit_verification import verify_database
from ledger.services.books import MAX_LINES, PostingLine
from ledger.services.periods import period_balance_problems
from ledger.services.year_end import ClosingStep, plan_closing
from tests.builders import draft_fund
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, signed_in_client, table_counts

YEAR = 2025


def _organisation(world: DemoWorld) -> str:
    return world.member_organisation["member01"]


def _books(world: DemoWorld) -> str:
    return f"/api/v1/organisations/{_organisation(world)}"


def _line(
    account: str, side: str, amount: str, fund: str | None = None, restriction: str | None = None
) -> Any:
    return {
        "account_code": account,
        "side": side,
        "amount": amount,
        "fund_id": fund,
        "restriction": restriction,
    }


def _adjust(
    client: FlaskClient, world: DemoWorld, on: str, lines: list[Any], cash_flow_line: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"date": on, "description": f"entry of {on}", "lines": lines}
    if cash_flow_line:
        body["cash_flow_line"] = cash_flow_line
    response = client.post(f"{_books(world)}/journal-entries", json=body, headers=world.keyed("finance1"))
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def _close_month(client: FlaskClient, world: DemoWorld, year: int, month: int) -> None:
    response = client.post(f"{_books(world)}/periods/{year}/{month}/close", headers=world.auth("finance1"))
    assert response.status_code == 200, response.get_json()


def _close_months(client: FlaskClient, world: DemoWorld, year: int = YEAR) -> None:
    for month in range(1, 13):
        _close_month(client, world, year, month)


def _trial(client: FlaskClient, world: DemoWorld, as_of: str = f"{YEAR}-12-31") -> dict[str, str]:
    response = client.get(f"{_books(world)}/trial-balance?as_of={as_of}", headers=world.auth("auditor"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["totals"]["CNY"]["debit"] == body["totals"]["CNY"]["credit"]
    return {row["account_code"]: row["balance"] for row in body["rows"]}


def _audit_entries(app: Flask) -> int:
    with app.app_context():
        return sum(
            int(db.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (AuditEntry, AuditQueueItem)
        )


def _nothing_written(app: Flask, before: dict[str, int], audit_before: int) -> None:
    assert table_counts(app) == before
    assert _audit_entries(app) == audit_before


def _the_year(client: FlaskClient, world: DemoWorld) -> str:
    """The hand-computed year: a restricted grant, an unrestricted donation, two expenses, a release.

    2025-03-10  Dr 1002 1,000.00        / Cr 4401 1,000.00 (fund F, restricted)
    2025-04-01  Dr 1002   200.00        / Cr 4101   200.00 (unrestricted, no fund)
    2025-05-20  Dr 5101   300.00 (F)    / Cr 1002   300.00 (F)
    2025-06-30  Dr 5301    50.00        / Cr 1002    50.00
    2025-06-30  Dr 4401   300.00 (F, restricted) / Cr 4401 300.00 (F, unrestricted): the restriction
                met in the year by the 300.00 spent on its purpose.
    Returns the fund's id.
    """
    fund = draft_fund(client, world, period_start="2025-01-01", period_end="2025-12-31")["id"]
    _adjust(
        client,
        world,
        "2025-03-10",
        [_line("1002", "debit", "1000.00", fund), _line("4401", "credit", "1000.00", fund, "restricted")],
        "grants_received",
    )
    _adjust(
        client,
        world,
        "2025-04-01",
        [_line("1002", "debit", "200.00"), _line("4101", "credit", "200.00", None, "unrestricted")],
        "donations_received",
    )
    _adjust(
        client,
        world,
        "2025-05-20",
        [_line("5101", "debit", "300.00", fund), _line("1002", "credit", "300.00", fund)],
        "goods_services_paid",
    )
    _adjust(
        client,
        world,
        "2025-06-30",
        [_line("5301", "debit", "50.00"), _line("1002", "credit", "50.00")],
        "other_operating_paid",
    )
    _adjust(
        client,
        world,
        "2025-06-30",
        [
            _line("4401", "debit", "300.00", fund, "restricted"),
            _line("4401", "credit", "300.00", fund, "unrestricted"),
        ],
    )
    return str(fund)


def _lines(entry: dict[str, Any]) -> list[tuple[str, str, str, str | None, str | None]]:
    return [
        (p["account_code"], p["side"], p["amount"], p["fund_id"], p["restriction"]) for p in entry["postings"]
    ]


BEFORE_CLOSING = {
    "1002": "850.00",
    "4101": "-200.00",
    "4401": "-1000.00",
    "5101": "300.00",
    "5301": "50.00",
}


def test_a_hand_computed_year_closes_into_net_assets(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = _the_year(client, world)
    _close_months(client, world)
    assert _trial(client, world) == BEFORE_CLOSING

    response = client.post(f"{_books(world)}/years/{YEAR}/close", headers=world.auth("finance1"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    entries = body["entries"]
    assert [(e["date"], e["source"], e["source_id"]) for e in entries] == [
        ("2025-12-31", "year_end_close", "2025")
    ] * 3
    # Balances at 2025-12-31 by (account, fund, restriction), debit minus credit:
    #   4101 (none, unrestricted)  -200.00
    #   4401 (F, unrestricted)     -300.00  (the release)
    #   4401 (F, restricted)       -700.00  (1,000.00 received less 300.00 released)
    #   5101 (F)                   +300.00
    #   5301 (none)                 +50.00
    # 1. unrestricted revenue to 3101, each fund's 3101 line with the fund:
    assert _lines(entries[0]) == [
        ("4101", "debit", "200.00", None, "unrestricted"),
        ("4401", "debit", "300.00", fund, "unrestricted"),
        ("3101", "credit", "200.00", None, "unrestricted"),
        ("3101", "credit", "300.00", fund, "unrestricted"),
    ]
    # 2. expenses from 3101:
    assert _lines(entries[1]) == [
        ("3101", "debit", "50.00", None, "unrestricted"),
        ("3101", "debit", "300.00", fund, "unrestricted"),
        ("5301", "credit", "50.00", None, None),
        ("5101", "credit", "300.00", fund, None),
    ]
    # 3. restricted revenue to 3102:
    assert _lines(entries[2]) == [
        ("4401", "debit", "700.00", fund, "restricted"),
        ("3102", "credit", "700.00", fund, "restricted"),
    ]
    # 3101: 200.00 + 300.00 - 50.00 - 300.00 = 150.00 credit; 3102: 700.00 credit;
    # 1002: 1,000.00 + 200.00 - 300.00 - 50.00 = 850.00 = 150.00 + 700.00 of net assets.
    closed = {"1002": "850.00", "3101": "-150.00", "3102": "-700.00"}
    after = _trial(client, world)
    assert {code: balance for code, balance in after.items() if code[0] in "45"} == {
        "4101": "0.00",
        "4401": "0.00",
        "5101": "0.00",
        "5301": "0.00",
    }
    assert {code: balance for code, balance in after.items() if code[0] not in "45"} == closed
    assert {c: b for c, b in _trial(client, world, "2026-06-30").items() if c[0] not in "45"} == closed

    state = body["state"]
    assert state["status"] == "closed"
    assert state["months_closed"] == 12
    assert state["open_months"] == []
    assert state["closing_entry_ids"] == [e["id"] for e in entries]
    assert state["can_reopen"] is True
    years = client.get(f"{_books(world)}/years", headers=world.auth("member01")).get_json()
    assert [(y["year"], y["status"]) for y in years] == [(YEAR, "closed")]

    with app.app_context():
        # Each fund's revenue is emptied per restriction, not only per account.
        rows = db.session.execute(
            select(
                Posting.account_code, Posting.fund_id, Posting.restriction, Posting.side, Posting.amount_minor
            ).where(Posting.account_code.like("4%") | Posting.account_code.like("5%"))
        ).all()
        net: dict[tuple[str, Any, Any], int] = {}
        for code, fund_id, restriction, side, amount in rows:
            net[(code, fund_id, restriction)] = net.get((code, fund_id, restriction), 0) + (
                amount if side == "debit" else -amount
            )
        assert set(net.values()) == {0}
        assert period_balance_problems() == []
        result = verify_database()
        assert result.ok, result.lines()
        actions = list(db.session.scalars(select(AuditEntry.action)))
        actions += list(db.session.scalars(select(AuditQueueItem.action)))
        assert "books.year_closed" in actions
        assert "period.balances_retaken" in actions


def test_reopening_the_year_reverses_the_closing_and_restores_the_balances(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    _the_year(client, world)
    _close_months(client, world)
    officer = world.auth("finance1")
    closing = client.post(f"{_books(world)}/years/{YEAR}/close", headers=officer).get_json()["entries"]

    before, audit_before = table_counts(app), _audit_entries(app)
    assert_problem(
        client.post(f"{_books(world)}/years/{YEAR}/reopen", json={}, headers=officer), 422, "reason"
    )
    _nothing_written(app, before, audit_before)

    reopened = client.post(
        f"{_books(world)}/years/{YEAR}/reopen", json={"reason": "审计调整 audit adjustment"}, headers=officer
    )
    assert reopened.status_code == 200, reopened.get_json()
    body = reopened.get_json()
    reversals = body["entries"]
    assert [r["reverses_id"] for r in reversals] == [e["id"] for e in closing]
    for reversal, entry in zip(reversals, closing, strict=True):
        assert reversal["source"] == "reversal"
        assert reversal["date"] == "2025-12-31"
        assert [(a, "debit" if s == "credit" else "credit", m, f, r) for a, s, m, f, r in _lines(entry)] == (
            _lines(reversal)
        )
    assert body["state"]["status"] == "open"
    assert body["state"]["closing_entry_ids"] == []
    assert {c: b for c, b in _trial(client, world).items() if b != "0.00"} == BEFORE_CLOSING
    with app.app_context():
        assert period_balance_problems() == []
        assert verify_database().ok

    # Reopened: a month of the year may be reopened again, and the year closed again.
    assert_problem(
        client.post(f"{_books(world)}/years/{YEAR}/reopen", json={"reason": "x"}, headers=officer), 409
    )
    month = client.post(
        f"{_books(world)}/periods/{YEAR}/12/reopen", json={"reason": "a late invoice"}, headers=officer
    )
    assert month.status_code == 200, month.get_json()
    _close_month(client, world, YEAR, 12)
    again = client.post(f"{_books(world)}/years/{YEAR}/close", headers=officer)
    assert again.status_code == 200, again.get_json()
    assert [_lines(e) for e in again.get_json()["entries"]] == [_lines(e) for e in closing]
    assert {c: b for c, b in _trial(client, world).items() if c[0] not in "45"} == {
        "1002": "850.00",
        "3101": "-150.00",
        "3102": "-700.00",
    }
    with app.app_context():
        assert period_balance_problems() == []
        assert verify_database().ok


def test_a_year_with_a_month_open_is_not_closed(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    _the_year(client, world)
    for month in range(1, 7):
        _close_month(client, world, YEAR, month)
    before, audit_before = table_counts(app), _audit_entries(app)
    body = assert_problem(
        client.post(f"{_books(world)}/years/{YEAR}/close", headers=world.auth("finance1")), 409
    )
    assert "2025-07" in body["detail"]
    assert "2025-12" in body["detail"]
    _nothing_written(app, before, audit_before)
    state = client.get(f"{_books(world)}/years", headers=world.auth("finance1")).get_json()[0]
    assert state["open_months"] == [f"2025-{m:02d}" for m in range(7, 13)]
    assert state["can_close"] is False


def test_a_year_is_closed_once(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    _the_year(client, world)
    _close_months(client, world)
    officer = world.auth("finance1")
    assert client.post(f"{_books(world)}/years/{YEAR}/close", headers=officer).status_code == 200
    before, audit_before = table_counts(app), _audit_entries(app)
    body = assert_problem(client.post(f"{_books(world)}/years/{YEAR}/close", headers=officer), 409)
    assert "already closed" in body["detail"]
    _nothing_written(app, before, audit_before)


def test_a_month_of_a_closed_year_is_not_reopened_and_its_entries_not_reversed(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    _the_year(client, world)
    _close_months(client, world)
    officer = world.auth("finance1")
    closing = client.post(f"{_books(world)}/years/{YEAR}/close", headers=officer).get_json()["entries"]
    before, audit_before = table_counts(app), _audit_entries(app)
    body = assert_problem(
        client.post(f"{_books(world)}/periods/{YEAR}/3/reopen", json={"reason": "late"}, headers=officer), 409
    )
    assert "reopen the year first" in body["detail"]
    body = assert_problem(
        client.post(
            f"/api/v1/journal-entries/{closing[0]['id']}/reversal",
            json={"date": "2026-01-05", "reason": "undo"},
            headers=officer,
        ),
        409,
    )
    assert "reopen the year" in body["detail"]
    _nothing_written(app, before, audit_before)


def test_an_earlier_year_with_balances_is_closed_first(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    _adjust(
        client,
        world,
        "2024-11-05",
        [_line("1002", "debit", "80.00"), _line("4601", "credit", "80.00")],
        "investment_income_received",
    )
    _the_year(client, world)
    _close_months(client, world, 2024)
    _close_months(client, world, YEAR)
    officer = world.auth("finance1")
    before, audit_before = table_counts(app), _audit_entries(app)
    body = assert_problem(client.post(f"{_books(world)}/years/{YEAR}/close", headers=officer), 409)
    assert "close 2024 first" in body["detail"]
    _nothing_written(app, before, audit_before)

    first = client.post(f"{_books(world)}/years/2024/close", headers=officer)
    assert first.status_code == 200, first.get_json()
    assert [_lines(e) for e in first.get_json()["entries"]] == [
        [("4601", "debit", "80.00", None, None), ("3101", "credit", "80.00", None, "unrestricted")]
    ]
    assert client.post(f"{_books(world)}/years/{YEAR}/close", headers=officer).status_code == 200
    # 2025's 3101 adds its 150.00 to 2024's 80.00.
    assert _trial(client, world)["3101"] == "-230.00"
    before, audit_before = table_counts(app), _audit_entries(app)
    body = assert_problem(
        client.post(f"{_books(world)}/years/2024/reopen", json={"reason": "x"}, headers=officer), 409
    )
    assert "reopen 2025 first" in body["detail"]
    _nothing_written(app, before, audit_before)
    years = client.get(f"{_books(world)}/years", headers=officer).get_json()
    assert [(y["year"], y["status"], y["can_reopen"]) for y in years] == [
        (2025, "closed", True),
        (2024, "closed", False),
    ]


@pytest.mark.parametrize("username", ["member01", "auditor", "admin"])
def test_only_finance_officers_close_a_year(
    app: Flask, client: FlaskClient, world: DemoWorld, username: str
) -> None:
    _the_year(client, world)
    _close_months(client, world)
    before, audit_before = table_counts(app), _audit_entries(app)
    assert_problem(client.post(f"{_books(world)}/years/{YEAR}/close", headers=world.auth(username)), 403)
    _nothing_written(app, before, audit_before)


def test_a_month_closes_only_once_it_has_ended(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    today = business_today()
    before, audit_before = table_counts(app), _audit_entries(app)
    for year, month in ((today.year, today.month), (today.year + 1, 1)):
        body = assert_problem(
            client.post(f"{_books(world)}/periods/{year}/{month}/close", headers=world.auth("finance1")),
            422,
            "period",
        )
        assert "has not ended" in body["errors"]["period"][0]
    _nothing_written(app, before, audit_before)


def test_months_close_in_order_unless_an_admin_forces_it_with_a_reason(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    _adjust(
        client,
        world,
        "2025-03-10",
        [_line("1002", "debit", "10.00"), _line("4101", "credit", "10.00")],
        "donations_received",
    )
    june = f"{_books(world)}/periods/{YEAR}/6/close"
    before, audit_before = table_counts(app), _audit_entries(app)
    # March has a period (an entry is dated in it) and is open: June waits for it.
    body = assert_problem(client.post(june, headers=world.auth("finance1")), 409)
    assert "close 2025-03 first" in body["detail"]
    # Only an admin forces, and never without a reason.
    assert_problem(
        client.post(june, json={"force": True, "reason": "bank closed"}, headers=world.auth("finance1")), 403
    )
    assert_problem(client.post(june, json={"force": True}, headers=world.auth("admin")), 422, "reason")
    assert_problem(client.post(june, headers=world.auth("admin")), 403)
    _nothing_written(app, before, audit_before)

    forced = client.post(
        june,
        json={"force": True, "reason": "三月凭证待补 March's vouchers are late"},
        headers=world.auth("admin"),
    )
    assert forced.status_code == 200, forced.get_json()
    assert forced.get_json()["status"] == "closed"
    with app.app_context():
        reasons = list(
            db.session.scalars(select(AuditEntry.canonical).where(AuditEntry.action == "period.reason"))
        )
        reasons += db.session.scalars(
            select(AuditQueueItem.data).where(AuditQueueItem.action == "period.reason")
        )
    assert any(b"March's vouchers are late" in bytes(d) and b'"forced":true' in bytes(d) for d in reasons)
    # In order, a finance officer closes March and then April without anyone forcing.
    _close_month(client, world, YEAR, 3)
    _close_month(client, world, YEAR, 4)


def test_the_closing_entries_for_unusual_balances_and_many_funds() -> None:
    fund = uuid.uuid4()
    plan = plan_closing(
        {
            ("4101", None, None, "CNY"): 500,  # more debits than credits: closes the other way round
            ("4401", fund, "restricted", "CNY"): -1000,
            ("4401", fund, "unrestricted", "CNY"): -200,
            ("5101", fund, None, "CNY"): -30,  # a credit balance on an expense account
        },
        YEAR,
    )
    assert [
        (p.step, [(line.account_code, line.side.value, line.amount.minor, line.fund_id) for line in p.lines])
        for p in plan
    ] == [
        (
            ClosingStep.UNRESTRICTED_REVENUE,
            [
                ("3101", "debit", 500, None),
                ("4401", "debit", 200, fund),
                ("4101", "credit", 500, None),
                ("3101", "credit", 200, fund),
            ],
        ),
        (ClosingStep.EXPENSES, [("5101", "debit", 30, fund), ("3101", "credit", 30, fund)]),
        (ClosingStep.RESTRICTED_REVENUE, [("4401", "debit", 1000, fund), ("3102", "credit", 1000, fund)]),
    ]
    # More funds than one entry holds: split between funds, every entry balanced.
    funds = [uuid.UUID(int=n) for n in range(1, 151)]
    plan = plan_closing({("4401", f, "unrestricted", "CNY"): -100 for f in funds}, YEAR)
    assert len(plan) == 2
    for planned in plan:
        assert len(planned.lines) <= MAX_LINES
        debits = sum(line.amount.minor for line in planned.lines if line.side is Side.DEBIT)
        assert debits == sum(line.amount.minor for line in planned.lines if line.side is Side.CREDIT)
    assert sum(len(p.lines) for p in plan) == 300
    assert plan_closing({}, YEAR) == []
    assert PostingLine("3101", Side.DEBIT, Money("CNY", 1)).restriction is None


def test_the_command_closes_every_organisation_that_can(
    app: Flask, client: FlaskClient, world: DemoWorld, runner: FlaskCliRunner
) -> None:
    _the_year(client, world)
    _close_months(client, world)
    refused = runner.invoke(args=["books", "close-year", "--all", str(YEAR), "--as", "admin"])
    assert refused.exit_code == 1
    assert "not a finance officer" in refused.output
    result = runner.invoke(args=["books", "close-year", "--all", str(YEAR), "--as", "finance1"])
    assert result.exit_code == 0, result.output
    assert f"closed {YEAR} of" in result.output
    assert "Dr 4401 700.00 CNY" in result.output
    assert "Cr 3102 700.00 CNY" in result.output
    assert "1 closed, 14 skipped" in result.output
    assert "2025-01" in result.output  # why the others were skipped
    again = runner.invoke(args=["books", "close-year", _organisation(world), str(YEAR), "--as", "finance1"])
    assert again.exit_code == 1
    assert "already closed" in again.output
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(JournalEntry).where(JournalEntry.source == "year_end_close")
            )
            == 3
        )


def test_a_finance_officer_closes_the_year_on_the_books_page(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    _the_year(client, world)
    _close_months(client, world)
    officer = signed_in_client(app, "finance1")
    books_page = f"/organisations/{_organisation(world)}/books"
    page = officer.get(books_page).get_data(as_text=True)
    assert "结转本年" in page
    confirm = officer.get(f"/organisations/{_organisation(world)}/years/{YEAR}/close")
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "3102" in html
    assert "¥700.00" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    done = officer.post(
        f"/organisations/{_organisation(world)}/years/{YEAR}/close", data={"csrf_token": token.group(1)}
    )
    assert done.status_code == 302
    page = officer.get(books_page).get_data(as_text=True)
    assert "2025 年已结转" in page
    assert "反结转" in page
    assert 'value="reopen"' not in page  # no month of a closed year offers to reopen
    assert _trial(client, world)["3102"] == "-700.00"
    member = signed_in_client(app, "member01")
    assert "结转本年" not in member.get(books_page).get_data(as_text=True)
    assert member.get(f"/organisations/{_organisation(world)}/years/{YEAR}/close").status_code == 403


def test_concurrent_closings_of_one_year_post_one_set_of_entries(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    from tests.helpers import send_concurrently

    _the_year(client, world)
    _close_months(client, world)
    responses = send_concurrently(
        app, lambda own: own.post(f"{_books(world)}/years/{YEAR}/close", headers=world.auth("finance1")), 4
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.get_json() for r in responses]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(JournalEntry).where(JournalEntry.source == "year_end_close")
            )
            == 3
        )
        assert period_balance_problems() == []
    assert {c: b for c, b in _trial(client, world).items() if c[0] not in "45"} == {
        "1002": "850.00",
        "3101": "-150.00",
        "3102": "-700.00",
    }
