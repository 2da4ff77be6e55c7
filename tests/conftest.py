"""Fixtures in the flaskr style: ``app``, ``client`` and ``runner``, on a real database.

The suite runs on SQLite by default and on PostgreSQL when ``LEDGER_TEST_DATABASE_URL`` names
one (``.ci/run`` does both). The schema is built once per run by the migrations, exactly as
``ledger init`` builds it, into a template; every test then gets its own copy (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests never see each other's rows
and nothing has to be deleted afterwards (audit tables refuse deletes).
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from ledger import create_app
from ledger.audit.keys import KEY_FILE
from ledger.audit.sequencer import stop_sequencer
from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.services.access import Actor
from ledger.services.audit_keys import ensure_signing_key
from ledger.services.reference_data import load_reference_data

TEST_SECRET = "test-secret-key-that-is-long-enough-for-the-check"
_counter = itertools.count()


def postgres_url() -> str | None:
    return os.environ.get("LEDGER_TEST_DATABASE_URL") or None


def is_postgres() -> bool:
    return postgres_url() is not None


def settings_for_tests(database_url: str, instance_path: Path) -> dict[str, str]:
    return {
        "LEDGER_ENV": "testing",
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_INSTANCE_PATH": str(instance_path),
        "LEDGER_SECRET_KEY": TEST_SECRET,
        # Argon2id at its cheapest: the suite hashes hundreds of passwords.
        "LEDGER_ARGON2_MEMORY_KIB": "8",
        "LEDGER_ARGON2_TIME_COST": "1",
    }


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(postgres_url() or "").set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _database_url_named(name: str) -> str:
    return make_url(postgres_url() or "").set(database=name).render_as_string(hide_password=False)


@contextmanager
def postgres_database(name: str, template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database that exists for the block (a copy of ``template`` if given)."""
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield name
    finally:
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate_and_load(database_url: str, instance_path: Path) -> None:
    """What ``ledger init`` does: migrate to head, load reference data, create the signing key."""
    app = create_app(settings_for_tests(database_url, instance_path))
    with app.app_context():
        upgrade()
        with unit_of_work():
            load_reference_data(Actor.operator())
        with unit_of_work():
            ensure_signing_key(Actor.operator())
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The instance folder ``ledger init`` made for the template database (it holds the key)."""
    return tmp_path_factory.mktemp("template-instance")


@pytest.fixture(scope="session")
def template_database(template_instance: Path) -> Iterator[str]:
    """A database as ``ledger init`` leaves it: the starting point of every test."""
    instance = template_instance
    if not is_postgres():
        path = instance / "template.sqlite3"
        migrate_and_load(f"sqlite:///{path}", instance)
        yield str(path)
        return
    with postgres_database(f"cfl_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}") as name:
        migrate_and_load(_database_url_named(name), instance)
        yield name


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    if not is_postgres():
        path = tmp_path / "ledger.sqlite3"
        shutil.copyfile(template_database, path)
        yield f"sqlite:///{path}"
        return
    with postgres_database(f"cfl_t_{os.getpid()}_{next(_counter)}", template=template_database) as name:
        yield _database_url_named(name)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the migrations' version table."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with postgres_database(f"cfl_e_{os.getpid()}_{next(_counter)}") as name:
        yield _database_url_named(name)


@pytest.fixture
def app(database_url: str, tmp_path: Path, template_instance: Path) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy2(template_instance / KEY_FILE, instance / KEY_FILE)
    app = create_app(settings_for_tests(database_url, instance))
    yield app
    stop_sequencer(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@dataclass
class DemoWorld:
    """The demo data, with a bearer-token header for every demo user."""

    app: Flask
    headers: dict[str, dict[str, str]]
    organisation_ids: list[str]
    community_ids: list[str]
    member_organisation: dict[str, str]

    def auth(self, username: str) -> dict[str, str]:
        return self.headers[username]

    def keyed(self, username: str) -> dict[str, str]:
        """``auth`` plus a fresh Idempotency-Key, for a request that moves money."""
        return {**self.headers[username], "Idempotency-Key": uuid.uuid4().hex}


@pytest.fixture
def world(app: Flask) -> DemoWorld:
    from sqlalchemy import select

    from ledger.demo import create_demo
    from ledger.models import Community, Organisation, User
    from ledger.services.tokens import issue_token

    with app.app_context():
        with unit_of_work():
            create_demo(with_funds=False)
        headers = {}
        member_organisation = {}
        with unit_of_work():
            for user in db.session.scalars(select(User)):
                token = issue_token(Actor.operator(), user, purpose="test")
                headers[user.username] = {"Authorization": f"Bearer {token.secret}"}
                for organisation_id in user.organisation_ids:
                    member_organisation[user.username] = str(organisation_id)
        organisation_ids = [
            str(o.id) for o in db.session.scalars(select(Organisation).order_by(Organisation.credit_code))
        ]
        community_ids = [str(c.id) for c in db.session.scalars(select(Community).order_by(Community.code))]
    return DemoWorld(app, headers, organisation_ids, community_ids, member_organisation)


@pytest.fixture
def funded_world(world: DemoWorld) -> DemoWorld:
    """The demo with its three funds (payments, reports in every state, January 2026 closed)."""
    from ledger.demo_funds import create_demo_funds

    with world.app.app_context(), unit_of_work():
        create_demo_funds({user: uuid.UUID(org) for user, org in world.member_organisation.items()})
    return world
