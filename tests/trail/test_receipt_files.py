"""A stored receipt file changed on disk is found by ``ledger audit verify``, naming the receipt.

The SHA-256 of each encrypted file is recorded in the trail when it is written; verify compares
every file with it (``--no-receipts`` skips this). Without it, one flipped byte was found only
when someone opened the receipt.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import text

from ledger.config import current_settings
from ledger.database import unit_of_work
from ledger.demo_funds import actor_named, receipt_pdf
from ledger.extensions import db
from ledger.services.audit_verification import verify_database
from ledger.services.receipts import upload_receipt
from tests.conftest import DemoWorld


def _upload(app: Flask, world: DemoWorld, label: str) -> str:
    organisation = uuid.UUID(world.member_organisation["member01"])
    with app.app_context(), unit_of_work():
        return upload_receipt(actor_named("member01"), organisation, receipt_pdf(label)).sha256


def _stored_file(app: Flask, sha256: str) -> Path:
    with app.app_context():
        return current_settings().instance_path / "receipts" / sha256[:2] / sha256[2:]


def _problems(app: Flask, *, receipts: bool = True) -> list[str]:
    with app.app_context():
        result = verify_database(receipts=receipts)
        assert result.report.ok
        return result.problems


def test_a_flipped_byte_in_a_stored_receipt_is_found(
    app: Flask, world: DemoWorld, runner: FlaskCliRunner
) -> None:
    sha256 = _upload(app, world, "flip")
    _upload(app, world, "untouched")
    assert _problems(app) == []
    path = _stored_file(app, sha256)
    stored = bytearray(path.read_bytes())
    stored[-5] ^= 0x01
    path.write_bytes(bytes(stored))
    (problem,) = _problems(app)
    assert problem.startswith(f"receipt {sha256}: the stored file's SHA-256 is ")
    assert "changed on disk" in problem
    assert _problems(app, receipts=False) == []
    refused = runner.invoke(args=["audit", "verify"])
    assert refused.exit_code == 1
    assert f"FAIL receipt {sha256}" in refused.output
    assert runner.invoke(args=["audit", "verify", "--no-receipts"]).exit_code == 0

    # Uploading the same receipt again writes a good copy, and the trail records its new digest.
    assert _upload(app, world, "flip") == sha256
    assert _problems(app) == []


def test_a_missing_file_or_an_edited_digest_is_found(app: Flask, world: DemoWorld) -> None:
    gone = _upload(app, world, "gone")
    edited = _upload(app, world, "edited")
    _stored_file(app, gone).unlink()
    with app.app_context():
        db.session.execute(
            text("UPDATE receipt SET stored_sha256 = :d WHERE sha256 = :s"), {"d": "0" * 64, "s": edited}
        )
        db.session.commit()
    problems = _problems(app)
    assert f"receipt {gone}: the stored file is missing" in problems
    assert any(p.startswith(f"receipt {edited}: the table records file digest {'0' * 64}") for p in problems)
