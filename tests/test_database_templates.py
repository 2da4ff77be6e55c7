"""The demo-world templates give each test a world as good as one built for it alone.

``world`` and ``funded_world`` are copies of databases built once per run; these tests check that
a copy is a working, verifiable ledger of its own: its tokens match their trail entries, its
trail and receipts verify under the copied instance folder's keys, and what one test writes no
other test's copy sees.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from ledger import create_app
from ledger.audit.keys import KEY_FILE
from ledger.extensions import db
from ledger.models import Fund, Organisation
from ledger.services.audit_verification import verify_database
from tests.builders import draft_fund
from tests.conftest import DatabaseTemplate, DemoWorld, copied_database, settings_for_tests
from tests.helpers import count_rows


def test_every_token_of_a_copied_world_signs_its_user_in(client: FlaskClient, world: DemoWorld) -> None:
    assert len(world.headers) > 10
    for username in world.headers:
        response = client.get("/api/v1/auth/me", headers=world.auth(username))
        assert response.status_code == 200, (username, response.get_json())
        assert response.get_json()["username"] == username


def test_a_copied_world_verifies_with_the_copied_keys(
    app: Flask, world: DemoWorld, database_template: DatabaseTemplate
) -> None:
    assert database_template.world is not None
    assert (Path(app.instance_path) / KEY_FILE).read_bytes() == (
        database_template.instance / KEY_FILE
    ).read_bytes()
    assert count_rows(app, Organisation) == len(world.organisation_ids) > 0
    with app.app_context():
        result = verify_database()
    assert result.ok, result.lines()


def test_a_copied_funded_world_verifies_with_its_receipts(app: Flask, funded_world: DemoWorld) -> None:
    assert count_rows(app, Fund) == 3
    with app.app_context():
        result = verify_database(receipts=True)
    assert result.ok, result.lines()


def test_what_a_test_writes_stays_in_its_copy(
    client: FlaskClient, world: DemoWorld, database_template: DatabaseTemplate, tmp_path: Path
) -> None:
    draft_fund(client, world)
    assert count_rows(world.app, Fund) == 1
    with copied_database(database_template.database, tmp_path, "another") as (_name, url):
        instance = tmp_path / "another-instance"
        database_template.copy_instance(instance)
        other = create_app(settings_for_tests(url, instance))
        assert count_rows(other, Fund) == 0
        with other.app_context():
            db.engine.dispose()
