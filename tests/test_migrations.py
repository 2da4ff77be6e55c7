"""The schema comes from the migrations alone, identically on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from ledger import create_app
from ledger.extensions import db
from ledger.models import Organisation
from tests.conftest import settings_for_tests

EXPECTED_TABLES = {
    "account",
    "api_token",
    "app_user",
    "chart_of_accounts",
    "community",
    "expense_category",
    "expense_category_list",
    "membership",
    "organisation",
}


def _empty_app(tmp_path: Path, database_url: str) -> Flask:
    return create_app(settings_for_tests(database_url, tmp_path))


def test_upgrading_an_empty_database_builds_the_whole_schema(tmp_path: Path, empty_database_url: str) -> None:
    app = _empty_app(tmp_path, empty_database_url)
    with app.app_context():
        assert set(inspect(db.engine).get_table_names()) == set()
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert tables >= EXPECTED_TABLES | {"alembic_version"}
        db.engine.dispose()


# SQLite cannot add a constraint to an existing table without rebuilding it (and its triggers), so
# migrations 0007 and 0016 give it equivalents: unique indexes for two unique constraints and a trigger for
# the postings' (fund, organisation) foreign key. tests/books/test_books_constraints.py shows they hold.
SQLITE_EQUIVALENTS = {
    ("add_constraint", "uq_fund_id_organisation_id"),
    ("remove_index", "uq_fund_id_organisation_id"),
    ("add_constraint", "uq_journal_entry_created_by_idempotency_key"),
    ("remove_index", "uq_journal_entry_created_by_idempotency_key"),
    ("add_fk", "fk_posting_fund_id_fund"),
    # Migration 0016: the filing number, unique per office (organisation is rewritten in place there).
    ("add_constraint", "uq_organisation_filing_office_code_filing_number"),
    ("remove_index", "uq_organisation_filing_office_code_filing_number"),
}


def test_the_migrated_schema_matches_the_models(app: Flask) -> None:
    """A model change without a migration is caught here."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
        if connection.dialect.name == "sqlite":
            differences = [
                d for d in differences if (d[0], getattr(d[1], "name", None)) not in SQLITE_EQUIVALENTS
            ]
    assert differences == []


def test_downgrade_to_base_and_up_again(tmp_path: Path, empty_database_url: str) -> None:
    app = _empty_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) >= EXPECTED_TABLES
        db.engine.dispose()


def test_constraint_names_follow_the_convention(app: Flask) -> None:
    with app.app_context():
        inspector = inspect(db.engine)
        assert inspector.get_pk_constraint("organisation")["name"] in ("pk_organisation", None)
        uniques = {u["name"] for u in inspector.get_unique_constraints("organisation")}
        assert "uq_organisation_credit_code" in uniques


def test_an_existing_organisation_becomes_registered_with_one_history_row(
    tmp_path: Path, empty_database_url: str
) -> None:
    """0016 on a database holding an organisation (and a member of it: the table is not rebuilt)."""
    app = _empty_app(tmp_path, empty_database_url)
    community, organisation, user = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        upgrade(revision="0014_divisions")
        ids = {"c": community, "o": organisation, "u": user}
        if db.engine.dialect.name == "sqlite":
            ids = {k: v.hex for k, v in ids.items()}  # how SQLite stores a Uuid
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO community (id, code, name, kind, district, created_at, version) "
                    "VALUES (:c, 'M-1', '迁移社区', 'urban', '江岸区', '2025-06-30 17:30:00', 1)"
                ),
                ids,
            )
            connection.execute(
                text(
                    "INSERT INTO organisation (id, name, credit_code, registration_type, community_id, created_at, version) "
                    "VALUES (:o, '迁移前的组织', '51420000MJH200395N', 'social_group', :c, '2025-06-30 17:30:00', 1)"
                ),
                ids,
            )
            connection.execute(
                text(
                    "INSERT INTO app_user (id, username, display_name, role, password_hash, is_active, created_at, "
                    "password_changed_at, version) "
                    "VALUES (:u, 'm', 'M', 'org_member', 'x', :t, '2025-06-30 17:30:00', '2025-06-30 17:30:00', 1)"
                ),
                {**ids, "t": True},
            )
            connection.execute(
                text(
                    "INSERT INTO membership (user_id, organisation_id, created_at) VALUES (:u, :o, '2025-06-30 17:30:00')"
                ),
                ids,
            )
        upgrade()
        migrated = db.session.get(Organisation, organisation)
        assert migrated is not None
        assert (migrated.status, migrated.credit_code, migrated.filing_number) == (
            "registered",
            "51420000MJH200395N",
            None,
        )
        assert [(c.status, c.effective_on, c.credit_code, c.reason) for c in migrated.status_history] == [
            ("registered", date(2025, 6, 30), "51420000MJH200395N", "recorded before status history")
        ]
        db.session.remove()
        db.engine.dispose()
