"""``ledger audit baseline``: taking the tables as they are, once, in the open, after an upgrade."""

from __future__ import annotations

import json

from flask.testing import FlaskCliRunner
from sqlalchemy import select

from ledger.extensions import db
from ledger.models import AuditEntry
from ledger.services.audit_verification import verify_database
from tests.conftest import DemoWorld
from tests.helpers import tamper


def _baselines(world: DemoWorld) -> list[dict[str, object]]:
    with world.app.app_context():
        rows = db.session.scalars(select(AuditEntry.canonical).where(AuditEntry.action == "replay.baseline"))
        return [json.loads(bytes(r)) for r in rows]


def test_a_baseline_takes_rows_the_trail_never_carried_and_later_edits_are_caught_again(
    world: DemoWorld, runner: FlaskCliRunner
) -> None:
    # As an older version left them: the organisations' names changed with no row in the trail.
    tamper(world.app, "UPDATE organisation SET name = name || ' (renamed before the upgrade)'")
    with world.app.app_context():
        assert not verify_database(receipts=False).ok

    result = runner.invoke(
        args=["audit", "baseline", "--reason", "upgraded to row-carrying entries", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "15 rows differ from the trail's replay" in result.output  # the demo's 12 registered and 3 filed
    baseline = _baselines(world)
    assert len(baseline) == 1
    assert baseline[0]["actor"] == {"id": "operator", "role": "admin"}
    data = baseline[0]["data"]
    assert data["reason"] == "upgraded to row-carrying entries"
    assert {row["table"] for row in data["rows"]} == {"organisation"}
    with world.app.app_context():
        assert verify_database(receipts=False).ok

    tamper(world.app, "UPDATE organisation SET name = 'after the baseline'")
    with world.app.app_context():
        after = verify_database(receipts=False)
    assert not after.ok
    assert after.differences[0].seq == baseline[0]["seq"]


def test_nothing_to_take_records_nothing(world: DemoWorld, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["audit", "baseline", "--reason", "checking", "--yes"])
    assert result.exit_code == 0
    assert "nothing to record" in result.output
    assert _baselines(world) == []


def test_a_log_that_does_not_verify_gets_no_baseline(world: DemoWorld, runner: FlaskCliRunner) -> None:
    tamper(world.app, "DELETE FROM audit_entry WHERE seq = 3")
    result = runner.invoke(args=["audit", "baseline", "--reason", "cover it up", "--yes"])
    assert result.exit_code == 1
    assert "The log itself does not verify" in result.output
    assert _baselines(world) == []


def test_a_baseline_needs_a_reason(world: DemoWorld, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["audit", "baseline", "--yes"])
    assert result.exit_code == 2
    assert "--reason" in result.output
