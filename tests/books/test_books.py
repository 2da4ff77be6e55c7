"""The books: balanced entries, periods, reversals, the trial balance, and what each role may do."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.extensions import db
from ledger.services.audit_verification import verify_database
from tests.conftest import DemoWorld, is_postgres
from tests.helpers import assert_problem, table_counts, tamper


def _entry(
    amount: str = "1250.00", *, date: str = "2026-03-15", credit: str | None = None, **extra: object
) -> dict[str, object]:
    return {
        "date": date,
        "description": "政府补助到账 Grant received",
        "lines": [
            {"account_code": "1002", "side": "debit", "amount": amount},
            {"account_code": "4401", "side": "credit", "amount": credit or amount},
        ],
        "cash_flow_line": "grants_received",
        **extra,
    }


def _url(world: DemoWorld, member: str = "member01") -> str:
    return f"/api/v1/organisations/{world.member_organisation[member]}"


def _trial(
    client: FlaskClient, world: DemoWorld, as_of: str = "2026-12-31", user: str = "finance1"
) -> dict[str, object]:
    response = client.get(f"{_url(world)}/trial-balance?as_of={as_of}", headers=world.auth(user))
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_a_finance_officer_posts_a_balanced_entry(client: FlaskClient, world: DemoWorld) -> None:
    response = client.post(f"{_url(world)}/journal-entries", json=_entry(), headers=world.keyed("finance1"))
    assert response.status_code == 201, response.get_json()
    entry = response.get_json()
    assert [(p["account_code"], p["side"], p["amount"]) for p in entry["postings"]] == [
        ("1002", "debit", "1250.00"),
        ("4401", "credit", "1250.00"),
    ]
    trial = _trial(client, world)
    rows = {r["account_code"]: r for r in trial["rows"]}  # type: ignore[index, union-attr]
    assert rows["1002"]["balance"] == "1250.00"
    assert rows["4401"]["balance"] == "-1250.00"
    assert rows["1002"]["name_zh"] == "银行存款"
    assert trial["totals"] == {"CNY": {"debit": "1250.00", "credit": "1250.00"}}
    assert _trial(client, world, as_of="2026-03-14")["rows"] == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (_entry("1250.00", credit="1250.01"), 422, "lines"),
        (
            {
                **_entry(),
                "lines": [
                    {"account_code": "9999", "side": "debit", "amount": "1.00"},
                    {"account_code": "4401", "side": "credit", "amount": "1.00"},
                ],
            },
            422,
            "lines.0.account_code",
        ),
        (
            {
                **_entry(),
                "lines": [
                    {"account_code": "1002", "side": "debit", "amount": 1250},
                    {"account_code": "4401", "side": "credit", "amount": "1250.00"},
                ],
            },
            400,
            "lines.0.amount",
        ),
        (
            {
                **_entry(),
                "lines": [
                    {"account_code": "1002", "side": "debit", "amount": 12.5},
                    {"account_code": "4401", "side": "credit", "amount": "12.50"},
                ],
            },
            400,
            "lines.0.amount",
        ),
        (_entry("1250.001"), 422, "lines.0.amount"),
        (_entry("0.00"), 422, "lines.0.amount"),
        (_entry("-5.00"), 422, "lines.0.amount"),
        (_entry("99999999999999999999.00"), 422, "lines.0.amount"),
        (_entry("1e3"), 422, "lines.0.amount"),
        (_entry(date="1999-12-31"), 422, "date"),
        (_entry(date="2026-02-30"), 422, "date"),
        ({**_entry(), "lines": _entry()["lines"][:1]}, 422, "lines"),  # type: ignore[index]
        (_entry(currency="XYZ"), 422, "currency"),
        (
            {
                **_entry(),
                "lines": [
                    {"account_code": "1002", "side": "left", "amount": "1.00"},
                    {"account_code": "4401", "side": "credit", "amount": "1.00"},
                ],
            },
            422,
            "lines.0.side",
        ),
    ],
)
def test_bad_entries_are_refused_naming_the_line(
    client: FlaskClient, world: DemoWorld, body: dict[str, object], status: int, field: str
) -> None:
    before = table_counts(world.app)
    response = client.post(f"{_url(world)}/journal-entries", json=body, headers=world.keyed("finance1"))
    assert_problem(response, status, field)
    assert table_counts(world.app) == before


@pytest.mark.parametrize("username", ["admin", "auditor", "member01"])
def test_only_finance_officers_post(client: FlaskClient, world: DemoWorld, username: str) -> None:
    before = table_counts(world.app)
    assert_problem(
        client.post(f"{_url(world)}/journal-entries", json=_entry(), headers=world.keyed(username)), 403
    )
    assert table_counts(world.app) == before


def test_members_read_only_their_own_books(client: FlaskClient, world: DemoWorld) -> None:
    client.post(f"{_url(world)}/journal-entries", json=_entry(), headers=world.keyed("finance1"))
    assert client.get(f"{_url(world)}/journal-entries", headers=world.auth("member01")).status_code == 200
    assert _trial(client, world, user="member01")["rows"]
    for path in ("journal-entries", "trial-balance", "periods"):
        assert_problem(client.get(f"{_url(world, 'member02')}/{path}", headers=world.auth("member01")), 403)
    entry_id = client.get(f"{_url(world)}/journal-entries", headers=world.auth("finance1")).get_json()[0][
        "id"
    ]
    assert_problem(client.get(f"/api/v1/journal-entries/{entry_id}", headers=world.auth("member02")), 403)
    assert (
        client.get(f"/api/v1/journal-entries/{entry_id}", headers=world.auth("member01")).status_code == 200
    )


def test_a_closed_period_takes_no_postings_until_reopened_with_a_reason(
    client: FlaskClient, world: DemoWorld
) -> None:
    officer = world.auth("finance1")
    closed = client.post(f"{_url(world)}/periods/2026/3/close", headers=officer)
    assert closed.status_code == 200
    assert closed.get_json()["status"] == "closed"
    body = assert_problem(
        client.post(
            f"{_url(world)}/journal-entries", json=_entry(), headers={**officer, "Idempotency-Key": "k163"}
        ),
        422,
        "date",
    )
    assert "2026-03 is closed" in body["errors"]["date"][0]
    assert (
        client.post(
            f"{_url(world)}/journal-entries",
            json=_entry(date="2026-04-01"),
            headers={**officer, "Idempotency-Key": "k168"},
        ).status_code
        == 201
    )
    assert_problem(client.post(f"{_url(world)}/periods/2026/3/close", headers=officer), 409)
    assert_problem(
        client.post(f"{_url(world)}/periods/2026/3/reopen", json={}, headers=officer), 422, "reason"
    )
    reopened = client.post(
        f"{_url(world)}/periods/2026/3/reopen", json={"reason": "late bank statement"}, headers=officer
    )
    assert reopened.get_json()["status"] == "open"
    assert (
        client.post(
            f"{_url(world)}/journal-entries", json=_entry(), headers={**officer, "Idempotency-Key": "k180"}
        ).status_code
        == 201
    )
    assert_problem(client.post(f"{_url(world)}/periods/2026/3/close", headers=world.auth("member01")), 403)
    periods = client.get(f"{_url(world)}/periods", headers=world.auth("auditor")).get_json()
    assert [(p["year"], p["month"], p["status"]) for p in periods] == [(2026, 4, "open"), (2026, 3, "open")]


def test_a_reversal_corrects_without_erasing(client: FlaskClient, world: DemoWorld) -> None:
    officer = world.auth("finance1")
    entry = client.post(
        f"{_url(world)}/journal-entries",
        json=_entry("800.00"),
        headers={**officer, "Idempotency-Key": "k188"},
    ).get_json()
    reversal = client.post(
        f"/api/v1/journal-entries/{entry['id']}/reversal",
        json={"date": "2026-03-20", "reason": "wrong fund"},
        headers=officer,
    )
    assert reversal.status_code == 201
    mirrored = reversal.get_json()
    assert mirrored["reverses_id"] == entry["id"]
    assert [(p["account_code"], p["side"]) for p in mirrored["postings"]] == [
        ("1002", "credit"),
        ("4401", "debit"),
    ]
    rows = {r["account_code"]: r for r in _trial(client, world)["rows"]}  # type: ignore[union-attr]
    assert rows["1002"]["balance"] == "0.00"
    assert rows["1002"]["debit"] == "800.00"
    assert len(client.get(f"{_url(world)}/journal-entries", headers=officer).get_json()) == 2
    again = {"date": "2026-03-21", "reason": "twice"}
    assert_problem(
        client.post(f"/api/v1/journal-entries/{entry['id']}/reversal", json=again, headers=officer), 409
    )
    assert_problem(
        client.post(f"/api/v1/journal-entries/{mirrored['id']}/reversal", json=again, headers=officer), 409
    )
    other = client.post(
        f"{_url(world)}/journal-entries", json=_entry("5.00"), headers={**officer, "Idempotency-Key": "k212"}
    ).get_json()
    early = {"date": "2026-03-01", "reason": "too early"}
    assert_problem(
        client.post(f"/api/v1/journal-entries/{other['id']}/reversal", json=early, headers=officer),
        422,
        "date",
    )


def test_the_trail_records_entries_and_replays_the_balances(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    client.post(f"{_url(world)}/journal-entries", json=_entry("300.00"), headers=world.keyed("finance1"))
    with app.app_context():
        assert verify_database().ok
    tamper(app, "UPDATE posting SET amount_minor = amount_minor + 1")
    with app.app_context():
        result = verify_database()
    assert not result.ok
    assert any(d.table == "posting" and d.field == "amount_minor" for d in result.differences)


def _insert_entry(
    app: Flask, organisation_id: str, declared: int, postings: list[tuple[str, str, int]]
) -> None:
    entry_id = uuid.uuid4()
    with app.app_context():
        try:
            db.session.execute(
                text(
                    "INSERT INTO journal_entry (id, organisation_id, entry_date, description, source, chart_version, "
                    "posting_count, created_at, created_by) VALUES (:id, :org, '2026-03-01', 'raw', 'adjustment', "
                    "'NPO-2005', :n, CURRENT_TIMESTAMP, 'test')"
                ),
                {
                    "id": entry_id.hex if not is_postgres() else entry_id,
                    "org": _db_uuid(organisation_id),
                    "n": declared,
                },
            )
            for line, (account, side, amount) in enumerate(postings, start=1):
                db.session.execute(
                    text(
                        "INSERT INTO posting (journal_entry_id, line, organisation_id, entry_date, account_code, side, "
                        "amount_minor, currency) VALUES (:e, :l, :org, '2026-03-01', :a, :s, :m, 'CNY')"
                    ),
                    {
                        "e": entry_id.hex if not is_postgres() else entry_id,
                        "l": line,
                        "org": _db_uuid(organisation_id),
                        "a": account,
                        "s": side,
                        "m": amount,
                    },
                )
            db.session.commit()
        finally:
            db.session.rollback()


def _db_uuid(value: str) -> object:
    return uuid.UUID(value).hex if not is_postgres() else uuid.UUID(value)


@pytest.mark.parametrize(
    ("declared", "postings"),
    [
        (2, [("1002", "debit", 100), ("4401", "credit", 99)]),
        (3, [("1002", "debit", 100), ("4401", "credit", 100)])
        if is_postgres()
        else (1, [("1002", "debit", 100), ("4401", "credit", 100)]),
        (2, [("1002", "debit", 100), ("4401", "credit", 50), ("4401", "credit", 50)]),
    ],
)
def test_the_database_refuses_unbalanced_or_incomplete_entries(
    app: Flask, world: DemoWorld, declared: int, postings: list[tuple[str, str, int]]
) -> None:
    with pytest.raises(DBAPIError):
        _insert_entry(app, world.member_organisation["member01"], declared, postings)


def test_a_balanced_raw_entry_is_accepted_by_the_database(app: Flask, world: DemoWorld) -> None:
    _insert_entry(
        app, world.member_organisation["member01"], 2, [("1002", "debit", 100), ("4401", "credit", 100)]
    )


def test_journal_tables_are_append_only(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    client.post(f"{_url(world)}/journal-entries", json=_entry(), headers=world.keyed("finance1"))
    for statement in (
        "UPDATE posting SET amount_minor = 1",
        "DELETE FROM posting",
        "UPDATE journal_entry SET description = 'x'",
        "DELETE FROM journal_entry",
    ):
        with app.app_context():
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
