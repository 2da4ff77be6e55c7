"""Balances taken when a month closes: trial balances read them, and they never go stale unnoticed."""

from __future__ import annotations

import random
import uuid
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import case, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger.extensions import db
from ledger.models import JournalEntry, PeriodBalance, Posting
from ledger.services.audit_verification import verify_database
from ledger.services.periods import period_balance_problems
from ledger.services.trial_balance import account_totals
from tests.builders import draft_fund
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, tamper


def _organisation(world: DemoWorld) -> str:
    return world.member_organisation["member01"]


def _post(client: FlaskClient, world: DemoWorld, on: str, amount: str, credit: str = "4401") -> None:
    body = {
        "date": on,
        "description": f"entry of {on}",
        "lines": [
            {"account_code": "1002", "side": "debit", "amount": amount},
            {"account_code": credit, "side": "credit", "amount": amount},
        ],
        "cash_flow_line": "grants_received",
    }
    response = client.post(
        f"/api/v1/organisations/{_organisation(world)}/journal-entries",
        json=body,
        headers=world.keyed("finance1"),
    )
    assert response.status_code == 201, response.get_json()


def _period(client: FlaskClient, world: DemoWorld, month: str, action: str, **body: str) -> None:
    year, number = month.split("-")
    response = client.post(
        f"/api/v1/organisations/{_organisation(world)}/periods/{year}/{int(number)}/{action}",
        json=body or None,
        headers={**world.auth("finance2"), "If-Match": "*"},
    )
    assert response.status_code == 200, response.get_json()


def _from_postings(organisation: str, as_of: date) -> dict[tuple[str, str], tuple[int, int]]:
    debit = func.sum(case((Posting.side == "debit", Posting.amount_minor), else_=0))
    credit = func.sum(case((Posting.side == "credit", Posting.amount_minor), else_=0))
    rows = db.session.execute(
        select(Posting.account_code, Posting.currency, debit, credit)
        .where(Posting.organisation_id == uuid.UUID(organisation), Posting.entry_date <= as_of)
        .group_by(Posting.account_code, Posting.currency)
    )
    return {(a, c): (int(d), int(k)) for a, c, d, k in rows}


def _trial(client: FlaskClient, world: DemoWorld, as_of: str) -> dict[str, str]:
    response = client.get(
        f"/api/v1/organisations/{_organisation(world)}/trial-balance?as_of={as_of}",
        headers=world.auth("auditor"),
    )
    assert response.status_code == 200
    return {row["account_code"]: row["balance"] for row in response.get_json()["rows"]}


def test_closing_a_month_takes_its_balances_and_trial_balances_agree(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    rng = random.Random(2026)
    for _ in range(40):
        month = rng.randint(1, 6)
        _post(
            client,
            world,
            f"2026-{month:02d}-{rng.randint(1, 28):02d}",
            f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}",
            rng.choice(["4401", "4101", "4601"]),
        )
    for month in ("2026-01", "2026-02", "2026-03", "2026-04"):  # months close in order
        _period(client, world, month, "close")
    # March reopened: a gap between closed months.
    _period(client, world, "2026-03", "reopen", reason="a late bank statement")
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(PeriodBalance))
        assert (stored or 0) >= 3
        for as_of in (
            "2025-12-31",
            "2026-01-31",
            "2026-02-15",
            "2026-03-31",
            "2026-04-30",
            "2026-05-02",
            "2026-12-31",
        ):
            day = date.fromisoformat(as_of)
            assert account_totals(uuid.UUID(_organisation(world)), day) == _from_postings(
                _organisation(world), day
            ), as_of
        assert period_balance_problems() == []
    assert verify_database_ok(app)


def verify_database_ok(app: Flask) -> bool:
    with app.app_context():
        result = verify_database()
        assert result.ok, result.lines()
        return True


def test_reopening_makes_the_balances_stale_and_closing_again_takes_new_ones(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    _post(client, world, "2026-01-10", "100.00")
    _period(client, world, "2026-01", "close")
    assert _trial(client, world, "2026-01-31") == {"1002": "100.00", "4401": "-100.00"}
    assert_problem(
        client.post(
            f"/api/v1/organisations/{_organisation(world)}/journal-entries",
            json={
                "date": "2026-01-11",
                "description": "late",
                "lines": [
                    {"account_code": "1002", "side": "debit", "amount": "1.00"},
                    {"account_code": "4401", "side": "credit", "amount": "1.00"},
                ],
                "cash_flow_line": "grants_received",
            },
            headers=world.keyed("finance1"),
        ),
        422,
        "date",
    )
    _period(client, world, "2026-01", "reopen", reason="a late bank statement")
    _post(client, world, "2026-01-11", "23.00")
    # The January balances taken at the first close no longer count.
    assert _trial(client, world, "2026-01-31") == {"1002": "123.00", "4401": "-123.00"}
    _period(client, world, "2026-01", "close")
    assert _trial(client, world, "2026-12-31") == {"1002": "123.00", "4401": "-123.00"}
    with app.app_context():
        versions = db.session.scalars(select(PeriodBalance.period_version).distinct()).all()
        assert len(versions) == 2  # both sets kept; only the latest counts
        assert period_balance_problems() == []


def test_a_doctored_balance_is_reported_by_verify(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    _post(client, world, "2026-01-10", "100.00")
    _period(client, world, "2026-01", "close")
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("UPDATE period_balance SET debit_minor = 1"))
        db.session.rollback()
    tamper(app, "UPDATE period_balance SET debit_minor = debit_minor + 1 WHERE account_code = '1002'")
    with app.app_context():
        result = verify_database()
        assert not result.ok
        assert "period 2026-01" in " ".join(result.lines())
        assert "1002" in " ".join(result.lines())


def test_months_closed_before_the_upgrade_get_their_balances(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    _post(client, world, "2026-02-03", "77.00")
    _period(client, world, "2026-02", "close")
    # Before 0016 every organisation had a credit code: the demo's filed ones go first.
    admin = {**world.auth("admin"), "If-Match": "*"}
    for organisation in client.get(
        "/api/v1/organisations?status=filed", headers=world.auth("admin")
    ).get_json():
        assert client.delete(f"/api/v1/organisations/{organisation['id']}", headers=admin).status_code == 204
    with app.app_context():
        downgrade(revision="0006_expense_reports")
        upgrade()
        assert db.session.scalar(select(func.count()).select_from(PeriodBalance)) == 2
        assert period_balance_problems() == []
    assert _trial(client, world, "2026-02-28") == {"1002": "77.00", "4401": "-77.00"}


def _by_hand(organisation: uuid.UUID, **extra: str) -> JournalEntry:
    """A journal entry written past the service, as a faulty or hostile client of the database would."""
    return JournalEntry(
        organisation_id=organisation,
        entry_date=date(2026, 1, 5),
        description="by hand",
        source="adjustment",
        chart_version="NPO-2005",
        posting_count=2,
        created_by="test",
        **extra,
    )


def _entry_with_fund(organisation: uuid.UUID, fund: uuid.UUID) -> None:
    entry = _by_hand(organisation)
    db.session.add(entry)
    db.session.flush()
    for line, side in ((1, "debit"), (2, "credit")):
        db.session.add(
            Posting(
                journal_entry_id=entry.id,
                line=line,
                organisation_id=organisation,
                entry_date=date(2026, 1, 5),
                account_code="1002",
                side=side,
                amount_minor=100,
                currency="CNY",
                fund_id=fund,
            )
        )
    db.session.flush()


def test_a_posting_names_a_fund_of_its_own_organisation(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    """Checked by the database too (a foreign key on PostgreSQL, a trigger on SQLite)."""
    fund = draft_fund(client, world)
    own = uuid.UUID(fund["organisation_id"])
    other = uuid.UUID(world.member_organisation["member02"])
    assert own != other
    with app.app_context():
        _entry_with_fund(own, uuid.UUID(fund["id"]))  # accepted
        db.session.rollback()
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            _entry_with_fund(other, uuid.UUID(fund["id"]))
        db.session.rollback()
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            _entry_with_fund(own, uuid.uuid4())
        db.session.rollback()


def test_an_idempotency_key_is_unique_per_person_in_the_database(app: Flask, world: DemoWorld) -> None:
    organisation = uuid.UUID(world.member_organisation["member01"])
    with app.app_context():
        for _ in range(2):
            db.session.add(_by_hand(organisation, idempotency_key="k-1"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
