"""The documented production setup: the application's role may only SELECT and INSERT the trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from ledger import create_app
from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import CommunityKind, Receipt, RegistrationType, Role, Side
from ledger.money import Money
from ledger.services import books, communities, organisations, periods, trial_balance
from ledger.services.access import Actor
from ledger.services.audit_verification import verify_database
from tests.builders import leaf
from tests.conftest import is_postgres, settings_for_tests

GRANTS = Path(__file__).resolve().parents[2] / "deploy" / "postgres-app-role.sql"

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not is_postgres(), reason="roles and grants are PostgreSQL's"),
]


def _as_owner(database_url: str) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(database_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@pytest.fixture
def app_as_ledger_app(database_url: str, app: Flask, tmp_path: Path) -> Iterator[Flask]:
    with _as_owner(database_url) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'ledger_app'").fetchone() is None:
            conn.execute("CREATE ROLE ledger_app LOGIN")
        conn.execute(GRANTS.read_text(encoding="utf-8"))
    url = make_url(database_url).set(username="ledger_app").render_as_string(hide_password=False)
    restricted = create_app(settings_for_tests(url, Path(app.instance_path)))
    yield restricted
    with restricted.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_app_works_as_the_restricted_role(app_as_ledger_app: Flask) -> None:
    with app_as_ledger_app.app_context():
        with unit_of_work():
            community = communities.create_community(
                Actor.operator(),
                communities.CommunityFields(leaf(1), "最小权限社区", CommunityKind.RURAL),
                "LP-1",
            )
            organisation = organisations.create_organisation(
                Actor.operator(),
                organisations.OrganisationFields(
                    "最小权限组织", "51420000MJH200395N", RegistrationType.SOCIAL_GROUP, community.thing.id
                ),
                "LP-organisation-1",
            ).thing
        officer = Actor(uuid.uuid4(), "officer", Role.FINANCE_OFFICER)
        with unit_of_work():
            books.post_journal_entry(
                officer,
                organisation.id,
                date(2026, 3, 1),
                "least privilege",
                [
                    books.PostingLine("1002", Side.DEBIT, Money("CNY", 100)),
                    books.PostingLine("4401", Side.CREDIT, Money("CNY", 100)),
                ],
                cash_flow_line="grants_received",
            )
        assert verify_database().ok


def test_the_whole_demo_runs_as_the_restricted_role(app_as_ledger_app: Flask) -> None:
    """Funds, budgets, receipts, expense reports, disbursements, refunds, closed months, reports."""
    from ledger.demo import create_demo
    from ledger.models import Fund, Organisation, User
    from ledger.services import fund_reports, receipts

    with app_as_ledger_app.app_context():
        with unit_of_work():
            create_demo(with_funds=True)
        officer_user = db.session.scalar(select(User).where(User.username == "finance1"))
        assert officer_user is not None
        officer = Actor(officer_user.id, officer_user.username, Role.FINANCE_OFFICER)
        for fund in db.session.scalars(select(Fund)):
            assert fund_reports.budget_vs_actual(officer, fund.id)[1]
            assert fund_reports.fund_summary(officer, fund.id).awarded.is_positive
        for organisation in db.session.scalars(select(Organisation)):
            trial = trial_balance.trial_balance(officer, organisation.id, date(2026, 12, 31))
            for debits, credits in trial.totals().values():
                assert debits == credits
        receipt_row = db.session.scalar(select(Receipt).limit(1))
        assert receipt_row is not None
        _, content = receipts.read_receipt(officer, receipt_row.sha256)
        assert content.startswith((b"%PDF", b"\xff\xd8", b"\x89PNG"))
        # A damaged stored copy replaced by a new upload: the role may record the new file digest.
        member_user = db.session.scalar(select(User).where(User.username == "member01"))
        assert member_user is not None
        own = db.session.scalar(
            select(Receipt).where(Receipt.organisation_id.in_(member_user.organisation_ids))
        )
        assert own is not None
        _, original = receipts.read_receipt(officer, own.sha256)
        stored = receipts.receipt_store().root / own.sha256[:2] / own.sha256[2:]
        stored.write_bytes(stored.read_bytes()[:-1] + bytes([stored.read_bytes()[-1] ^ 1]))
        with unit_of_work():
            receipts.upload_receipt(Actor.of(member_user), own.organisation_id, original)
        assert periods.period_balance_problems() == []
        result = verify_database()
        assert result.ok, result.lines()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET action = 'x'",
        "DELETE FROM audit_entry",
        "TRUNCATE audit_entry",
        "UPDATE merkle_node SET hash = hash",
        "DELETE FROM audit_checkpoint",
        "TRUNCATE merkle_node",
        "ALTER TABLE audit_entry DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_entry_append_only ON audit_entry",
        "UPDATE posting SET amount_minor = 1",
        "UPDATE budget_entry SET amount_delta_minor = 1",
        "DELETE FROM budget_entry",
        "DELETE FROM journal_entry",
        "TRUNCATE posting",
        "ALTER TABLE posting DISABLE TRIGGER ALL",
        "UPDATE period_balance SET debit_minor = 0",
        "DELETE FROM period_balance",
        "UPDATE journal_entry SET idempotency_key = NULL",
    ],
)
def test_the_restricted_role_cannot_rewrite_history(app_as_ledger_app: Flask, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    with app_as_ledger_app.app_context():
        with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
            db.session.execute(text(statement))
        db.session.rollback()
