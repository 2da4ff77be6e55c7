"""Backup and restore: a database dump plus the audit export, restored into an empty database.

The restored service must give the same Merkle root and verify (chain, checkpoints, replay), and
the offline verifier must accept the export bundle with the log's published key.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import make_url

from ledger import create_app
from ledger.audit.trail import read_head, sign_checkpoint_now
from ledger.extensions import db
from ledger.services.audit_verification import verify_database
from tests.builders import first_tranche, fund_with_schedule, prepare_disbursement
from tests.conftest import DemoWorld, is_postgres, postgres_database, settings_for_tests

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not is_postgres(), reason="pg_dump and pg_restore are PostgreSQL's"),
]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_dump_and_the_export_restore_to_the_same_verified_log(
    app: Flask,
    client: FlaskClient,
    world: DemoWorld,
    runner: FlaskCliRunner,
    database_url: str,
    tmp_path: Path,
) -> None:
    fund = fund_with_schedule(client, world)
    prepared = prepare_disbursement(client, world, fund, first_tranche(fund), "backup-1").get_json()
    client.post(f"/api/v1/disbursements/{prepared['id']}/approve", headers=world.auth("finance2"))
    client.post(
        f"/api/v1/disbursements/{prepared['id']}/pay",
        json={"bank_reference": "BK-1", "paid_on": "2026-01-20"},
        headers=world.auth("finance1"),
    )
    with app.app_context():
        checkpoint = sign_checkpoint_now()
        assert checkpoint is not None
        original_root = checkpoint.root.hex()
        size = read_head().size
    bundle = tmp_path / "bundle"
    assert runner.invoke(args=["audit", "export", str(bundle)]).exit_code == 0
    key = (
        client.get("/api/v1/audit/key", headers=world.auth("auditor"))
        .get_data(as_text=True)
        .strip()
        .splitlines()[0]
    )

    dump = tmp_path / "ledger.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), _libpq(database_url)], check=True)
    with postgres_database(f"cfl_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}") as name:
        restored_url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", _libpq(restored_url), str(dump)],
            check=True,
        )
        restored = create_app(settings_for_tests(restored_url, Path(app.instance_path)))
        with restored.app_context():
            result = verify_database()
            assert result.ok, result.lines()
            assert result.report.log_root_hex == original_root
            assert read_head().size == size
            db.session.remove()
            db.engine.dispose()

    offline = subprocess.run(
        [sys.executable, "-m", "ledger.audit.verify", str(bundle), "--key", key],
        capture_output=True,
        text=True,
        check=False,
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert original_root in offline.stdout
