"""The log and two witnesses in separate processes: cosigning, serving, verifying, failing.

Each test starts two ``ledger witness serve`` processes (about a second); the log sends every
checkpoint it signs to both (inline sequencing: right after the commit, in the same thread).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ledger import create_app
from ledger.audit import store
from ledger.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.audit.cosignature import CosignatureVerifier, check_cosignatures
from ledger.audit.keys import KEY_FILE, load_signer
from ledger.audit.merkle import MemoryTree
from ledger.audit.note import NoteVerifier, split_note
from ledger.audit.sequencer import stop_sequencer
from ledger.audit.trail import sign_checkpoint_now
from ledger.audit.verify import main as verify_offline
from ledger.config import current_settings
from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import CommunityKind
from ledger.models.witness import WitnessCosignature
from ledger.services import communities
from ledger.services.access import Actor
from ledger.witness.cli import witness_group
from tests.builders import leaf
from tests.conftest import DemoWorld, settings_for_tests

from .conftest import RunningWitness, log_origin


def _write_and_checkpoint(app: Flask, code: str) -> int:
    """A change (so new entries), then a signed checkpoint; returns its size."""
    with app.app_context():
        with unit_of_work():
            communities.create_community(
                Actor.operator(),
                communities.CommunityFields(code, f"见证社区 {code}", CommunityKind.RURAL),
                code,
            )
        checkpoint = sign_checkpoint_now()
        assert checkpoint is not None
        return checkpoint.size


def _keys(*witnesses: RunningWitness) -> list[str]:
    return [argument for witness in witnesses for argument in ("--witness-key", witness.vkey)]


def _witness_checkpoint(witness: RunningWitness) -> str:
    result = CliRunner().invoke(witness_group, ["latest", "--url", witness.url, "--origin", log_origin()])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_two_witnesses_cosign_and_the_verifiers_count_them(
    world: DemoWorld,
    client: FlaskClient,
    runner: FlaskCliRunner,
    witnesses: list[RunningWitness],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = world.app
    w1, w2 = witnesses
    size = _write_and_checkpoint(app, leaf(101))

    # The API serves the checkpoint with both cosignatures appended: still one valid signed note.
    note = client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor")).get_data(as_text=True)
    log_keys = [
        NoteVerifier.from_vkey(k)
        for k in client.get("/api/v1/audit/key", headers=world.auth("auditor")).get_data(as_text=True).split()
    ]
    assert open_checkpoint(note, log_keys)[0].size == size
    verifiers = [CosignatureVerifier.from_vkey(w.vkey) for w in witnesses]
    assert sorted(c.name for c in check_cosignatures(note, verifiers).valid) == [w1.name, w2.name]
    by_size = client.get(f"/api/v1/audit/checkpoints/{size}", headers=world.auth("auditor"))
    assert by_size.get_data(as_text=True) == note

    # ledger audit verify (database) and the offline verifier (bundle) both count them.
    verified = runner.invoke(args=["audit", "verify", "--no-receipts", *_keys(w1, w2)])
    assert verified.exit_code == 0, verified.output
    assert f"witnesses: the newest checkpoint (size {size}) carries 2 valid cosignature(s)" in verified.output
    bundle = tmp_path / "bundle"
    assert runner.invoke(args=["audit", "export", str(bundle)]).exit_code == 0
    assert f"— {w1.name} " in (bundle / "checkpoints" / f"{size}.txt").read_text(encoding="utf-8")
    assert verify_offline([str(bundle), "--quiet", *_keys(w1, w2)]) == 0

    # An auditor keeps the witness's own view and uses it as a saved checkpoint.
    saved = tmp_path / "w1-checkpoint.txt"
    saved.write_text(_witness_checkpoint(w1), encoding="utf-8")
    assert verify_offline([str(bundle), "--quiet", "--trusted-checkpoint", str(saved), *_keys(w1)]) == 0
    assert capsys.readouterr().out == ""

    # One witness goes down: writes go on, with a warning; the next checkpoint has one cosignature.
    w2.stop()
    with caplog.at_level(logging.WARNING, logger="ledger.services.witnessing"):
        newer = _write_and_checkpoint(app, leaf(102))
    assert newer > size
    assert any(f"witness w2 did not cosign checkpoint {newer}" in r.getMessage() for r in caplog.records)
    pushed = runner.invoke(args=["audit", "witness"])
    assert pushed.exit_code == 1
    assert f"w1: ok: checkpoint {newer} is already cosigned" in pushed.output
    assert "w2: FAILED: unreachable" in pushed.output

    failed = runner.invoke(args=["audit", "verify", "--no-receipts", *_keys(w1, w2)])
    assert failed.exit_code == 1
    assert failed.output == (
        f"FAIL checkpoint={newer}: witness_quorum_not_met: the newest checkpoint, size {newer}, carries 1 "
        f"valid cosignature(s) of the 2 needed from the witness keys given (none from: {w2.name})\n"
    )
    one = runner.invoke(args=["audit", "verify", "--no-receipts", *_keys(w1, w2), "--witness-quorum", "1"])
    assert one.exit_code == 0, one.output
    # A witness key that was never given counts for nothing, even where that witness cosigned.
    only_w2 = runner.invoke(args=["audit", "verify", "--no-receipts", *_keys(w2)])
    assert only_w2.exit_code == 1
    assert "carries 0 valid cosignature(s) of the 1 needed" in only_w2.output


def _post(url: str, body: str) -> tuple[int, str, str]:
    request = urllib.request.Request(f"{url}/add-checkpoint", data=body.encode(), method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_a_witness_refuses_a_fork_of_what_it_cosigned(app: Flask, witnesses: list[RunningWitness]) -> None:
    w1 = witnesses[0]
    size = _write_and_checkpoint(app, leaf(103))
    assert split_note(_witness_checkpoint(w1))[0].splitlines()[1] == str(size)

    # Whoever holds the log's key signs another history, longer, with a proof valid within it.
    with app.app_context():
        settings = current_settings()
        signer = load_signer(settings.instance_path, settings.log_origin)
        assert signer is not None
    fork = MemoryTree(hashlib.sha256(f"fork {i}".encode()).digest() for i in range(size + 5))
    forked = sign_checkpoint(Checkpoint(signer.name, size + 5, fork.root()), signer)
    proof = "".join(base64.b64encode(h).decode() + "\n" for h in fork.consistency_proof(size, size + 5))
    status, _, answer = _post(w1.url, f"old {size}\n{proof}\n{forked}")
    assert status == 422, answer
    same_size = sign_checkpoint(Checkpoint(signer.name, size, fork.root(size)), signer)
    assert _post(w1.url, f"old {size}\n\n{same_size}") == (409, "text/x.tlog.size", f"{size}\n")
    assert _post(w1.url, f"old 0\n\n{forked}") == (409, "text/x.tlog.size", f"{size}\n")
    # Nothing of the fork was cosigned; the real log goes on being cosigned.
    assert split_note(_witness_checkpoint(w1))[0].splitlines()[1] == str(size)
    newer = _write_and_checkpoint(app, leaf(104))
    assert split_note(_witness_checkpoint(w1))[0].splitlines()[1] == str(newer)
    with app.app_context():
        latest = store.latest_checkpoint()
        assert latest is not None
        assert latest.size == newer
        # Kept cosignatures are append-only, like the checkpoints they belong to.
        for statement in ("DELETE FROM witness_cosignature", "UPDATE witness_cosignature SET timestamp = 0"):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()


def test_background_sequencing_pushes_from_its_own_thread(
    database_url: str, tmp_path: Path, template_instance: Path, witnesses: list[RunningWitness]
) -> None:
    instance = tmp_path / "background-instance"
    instance.mkdir()
    shutil.copy2(template_instance / KEY_FILE, instance / KEY_FILE)
    config = settings_for_tests(database_url, instance)
    config["LEDGER_AUDIT_SEQUENCING"] = "background"
    config["LEDGER_WITNESSES"] = ",".join(witness.setting for witness in witnesses)
    app = create_app(config)
    try:
        size = _write_and_checkpoint(app, leaf(105))
        deadline = time.monotonic() + 15
        kept = 0
        while time.monotonic() < deadline:
            with app.app_context():
                kept = len(
                    db.session.scalars(
                        select(WitnessCosignature).where(WitnessCosignature.size == size)
                    ).all()
                )
                db.session.remove()
            if kept == 2:
                break
            time.sleep(0.05)
        assert kept == 2
    finally:
        stop_sequencer(app)
        with app.app_context():
            db.engine.dispose()
