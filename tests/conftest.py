"""Fixtures in the flaskr style: ``app``, ``client`` and ``runner``, on a real database.

The suite runs on SQLite by default and on PostgreSQL when ``LEDGER_TEST_DATABASE_URL`` names
one (``.ci/run`` does both). The schema is built once per run by the migrations, exactly as
``ledger init`` builds it, into a template; every test then gets its own copy (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests never see each other's rows
and nothing has to be deleted afterwards (audit tables refuse deletes).

The demo world (``world``) and the demo with its funds (``funded_world``) are built the same
way once per run into templates of their own, made from copies of the migrated one, so a test
that asks for either gets a copy of the finished world instead of building it again.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from ledger import create_app
from ledger.audit.sequencer import stop_sequencer
from ledger.database import unit_of_work
from ledger.demo import COMMUNITIES as DEMO_COMMUNITIES
from ledger.extensions import db
from ledger.services.access import Actor
from ledger.services.audit_keys import ensure_signing_key
from ledger.services.division_files import DivisionRow
from ledger.services.reference_data import load_reference_data
from ledger.services.regions import import_divisions

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


# A test district of leaves, loaded into every test database beside the illustrative list, so a
# test can create as many communities as it needs: 湖北省 / 武汉市 / 测试区 420199 / 测试街道, with
# communities 420199001001 ... 420199001999 (urban, class 111).
TEST_LEAVES_VERSION = "TEST-LEAVES-2024"
TEST_LEAVES = [
    ["420000000000", "湖北省", "", ""],
    ["420100000000", "武汉市", "420000000000", ""],
    ["420199000000", "测试区", "420100000000", ""],
    ["420199001000", "测试街道", "420199000000", ""],
    *([f"420199001{n:03d}", f"测试社区{n}", "420199001000", "111"] for n in range(1, 1000)),
]


def migrate_and_load(database_url: str, instance_path: Path) -> None:
    """What ``ledger init`` does (migrate to head, load reference data, create the signing key),
    and a test district of spare communities (``builders.leaf``)."""
    app = create_app(settings_for_tests(database_url, instance_path))
    with app.app_context():
        upgrade()
        with unit_of_work():
            load_reference_data(Actor.operator())
        with unit_of_work():
            rows = [DivisionRow(i, *r) for i, r in enumerate(TEST_LEAVES, start=2)]
            import_divisions(
                Actor.operator(), TEST_LEAVES_VERSION, 2024, "测试区 Test district", "tests", rows
            )
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


@contextmanager
def copied_database(template: str, directory: Path, label: str) -> Iterator[tuple[str, str]]:
    """A copy of ``template`` for the block, as ``(name, url)``: a file copy on SQLite (``name``
    is its path), ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL."""
    if not is_postgres():
        path = directory / f"{label}.sqlite3"
        shutil.copyfile(template, path)
        yield str(path), f"sqlite:///{path}"
        return
    with postgres_database(f"cfl_{label}_{os.getpid()}_{next(_counter)}", template=template) as name:
        yield name, _database_url_named(name)


@dataclass(frozen=True)
class WorldFacts:
    """What a test needs to know about a database holding the demo world: its people's bearer
    tokens (secrets exist only here, never in the database) and its organisations and communities."""

    headers: dict[str, dict[str, str]]
    organisation_ids: list[str]
    community_ids: list[str]
    member_organisation: dict[str, str]


@dataclass(frozen=True)
class DatabaseTemplate:
    """A database tests start from (copied for each), with the instance folder made beside it:
    the signing key and the receipts' key and files must be the ones its rows were made with."""

    database: str
    instance: Path
    world: WorldFacts | None = None
    funded: bool = False

    def copy_instance(self, destination: Path) -> None:
        shutil.copytree(self.instance, destination, ignore=shutil.ignore_patterns("*.sqlite3*"))


@pytest.fixture(scope="session")
def migrated_template(template_database: str, template_instance: Path) -> DatabaseTemplate:
    return DatabaseTemplate(template_database, template_instance)


@contextmanager
def derived_template(
    base: DatabaseTemplate,
    tmp_path_factory: pytest.TempPathFactory,
    label: str,
    build: Callable[[Flask], WorldFacts],
    funded: bool = False,
) -> Iterator[DatabaseTemplate]:
    """A template made from a copy of ``base`` by ``build``, for the whole run."""
    instance = tmp_path_factory.mktemp(f"{label}-instance", numbered=True) / "instance"
    base.copy_instance(instance)
    with copied_database(base.database, instance.parent, label) as (name, url):
        app = create_app(settings_for_tests(url, instance))
        facts = build(app)
        stop_sequencer(app)
        with app.app_context():
            db.engine.dispose()
        yield DatabaseTemplate(name, instance, facts, funded)


@pytest.fixture(scope="session")
def demo_world_template(
    migrated_template: DatabaseTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseTemplate]:
    """The demo's people and places, built once per run exactly as ``world`` used to build them."""
    with derived_template(migrated_template, tmp_path_factory, "world", build_demo_world) as template:
        yield template


@pytest.fixture(scope="session")
def funded_world_template(
    demo_world_template: DatabaseTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseTemplate]:
    """The demo world plus its three funds, built once per run."""
    facts = demo_world_template.world
    assert facts is not None

    def build(app: Flask) -> WorldFacts:
        add_demo_funds(app, facts)
        return facts

    with derived_template(demo_world_template, tmp_path_factory, "funded", build, funded=True) as template:
        yield template


@pytest.fixture
def database_template(request: pytest.FixtureRequest) -> DatabaseTemplate:
    """The template this test's database is copied from: the richest its fixtures ask for."""
    if "funded_world" in request.fixturenames:
        return cast(DatabaseTemplate, request.getfixturevalue("funded_world_template"))
    if "world" in request.fixturenames:
        return cast(DatabaseTemplate, request.getfixturevalue("demo_world_template"))
    return cast(DatabaseTemplate, request.getfixturevalue("migrated_template"))


@pytest.fixture
def database_url(database_template: DatabaseTemplate, tmp_path: Path) -> Iterator[str]:
    with copied_database(database_template.database, tmp_path, "ledger") as (_name, url):
        yield url


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the migrations' version table."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with postgres_database(f"cfl_e_{os.getpid()}_{next(_counter)}") as name:
        yield _database_url_named(name)


@pytest.fixture
def app(database_url: str, tmp_path: Path, database_template: DatabaseTemplate) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    database_template.copy_instance(instance)
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


def build_demo_world(app: Flask) -> WorldFacts:
    """Create the demo's people and places and a bearer token for every demo user."""
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
        # The registered ones by credit code, then the filed ones (no code) by name.
        registered_first = (Organisation.credit_code.is_(None), Organisation.credit_code, Organisation.name)
        organisation_ids = [
            str(o.id) for o in db.session.scalars(select(Organisation).order_by(*registered_first))
        ]
        # In the demo's order: the first is 百步亭花园社区, with three organisations.
        by_code = {c.code: str(c.id) for c in db.session.scalars(select(Community))}
        community_ids = [by_code[code] for code in DEMO_COMMUNITIES]
    return WorldFacts(headers, organisation_ids, community_ids, member_organisation)


def add_demo_funds(app: Flask, facts: WorldFacts) -> None:
    """The demo's three funds (payments, reports in every state, January 2026 closed)."""
    from ledger.demo_funds import create_demo_funds

    with app.app_context(), unit_of_work():
        create_demo_funds({user: uuid.UUID(org) for user, org in facts.member_organisation.items()})


@pytest.fixture
def world(app: Flask, database_template: DatabaseTemplate) -> DemoWorld:
    """The demo world, copied from its template (built here only if the test asked for the
    fixture too late for its database to be chosen from that template)."""
    facts = database_template.world or build_demo_world(app)
    return DemoWorld(
        app,
        {username: dict(header) for username, header in facts.headers.items()},
        list(facts.organisation_ids),
        list(facts.community_ids),
        dict(facts.member_organisation),
    )


@pytest.fixture
def funded_world(world: DemoWorld, database_template: DatabaseTemplate) -> DemoWorld:
    """The demo with its three funds (payments, reports in every state, January 2026 closed)."""
    if not database_template.funded:
        add_demo_funds(world.app, WorldFacts(world.headers, [], [], world.member_organisation))
    return world


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives Chromium as ``browser``, so ``make test-fast`` can leave them out."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
