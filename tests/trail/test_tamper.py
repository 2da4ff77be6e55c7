"""Tampering as a database superuser would: each kind is detected, at the right place.

The append-only triggers only slow a DBA down; what makes tampering evident is re-hashing the
stored bytes against signed checkpoints. These tests bypass the triggers and check the verifier.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text

from ledger.audit.canonical import canonical_bytes, leaf_hash
from ledger.audit.checkpoint import Checkpoint, sign_checkpoint
from ledger.audit.merkle import MemoryTree
from ledger.audit.note import NoteVerifier, generate_signer
from ledger.audit.parallel_verifier import _Range, _verify_block
from ledger.audit.report import Reason
from ledger.audit.trail import sign_checkpoint_now
from ledger.config import current_settings
from ledger.extensions import db
from ledger.models import AuditEntry, AuditSigningKey
from ledger.replay.compare import changes_replay
from ledger.services.audit_verification import DatabaseVerification, _row_ranges, verify_database
from tests.conftest import DemoWorld
from tests.helpers import tamper, triggers_bypassed


@pytest.fixture
def signed(world: DemoWorld) -> DemoWorld:
    """The demo with a checkpoint over the whole log (37 entries and counting)."""
    with world.app.app_context():
        sign_checkpoint_now()
    return world


def _verify(app: Flask, anchored: bool = False) -> DatabaseVerification:
    with app.app_context():
        anchors = None
        if anchored:
            anchors = [NoteVerifier.from_vkey(k.vkey) for k in db.session.scalars(select(AuditSigningKey))]
        return verify_database(anchors)


def _canonical(app: Flask, seq: int) -> bytes:
    with app.app_context():
        return bytes(db.session.scalar(select(AuditEntry.canonical).where(AuditEntry.seq == seq)) or b"")


def test_an_untouched_log_verifies(signed: DemoWorld) -> None:
    result = _verify(signed.app)
    assert result.ok, result.lines()


def test_one_byte_changed_in_stored_bytes(signed: DemoWorld) -> None:
    original = _canonical(signed.app, 5)
    changed = original.replace(b'"v":1', b'"v":2')
    with triggers_bypassed(signed.app):
        db.session.execute(text("UPDATE audit_entry SET canonical = :c WHERE seq = 5"), {"c": changed})
    result = _verify(signed.app)
    assert not result.ok
    assert result.report.first_bad_seq == 5


def test_a_stored_leaf_hash_changed(signed: DemoWorld) -> None:
    with triggers_bypassed(signed.app):
        db.session.execute(text("UPDATE audit_entry SET leaf_hash = :h WHERE seq = 7"), {"h": bytes(32)})
    result = _verify(signed.app)
    assert result.report.reason is Reason.HASH_MISMATCH
    assert result.report.first_bad_seq == 7


def test_an_entry_deleted(signed: DemoWorld) -> None:
    tamper(signed.app, "DELETE FROM audit_entry WHERE seq = 9")
    result = _verify(signed.app)
    assert result.report.reason is Reason.GAP
    assert result.report.first_bad_seq == 9


def test_two_entries_swapped(signed: DemoWorld) -> None:
    ten, eleven = _canonical(signed.app, 10), _canonical(signed.app, 11)
    with triggers_bypassed(signed.app):
        db.session.execute(
            text("UPDATE audit_entry SET canonical = :c, leaf_hash = :h WHERE seq = 10"),
            {"c": eleven, "h": leaf_hash(eleven)},
        )
        db.session.execute(
            text("UPDATE audit_entry SET canonical = :c, leaf_hash = :h WHERE seq = 11"),
            {"c": ten, "h": leaf_hash(ten)},
        )
    result = _verify(signed.app)
    assert not result.ok
    assert result.report.first_bad_seq == 10


def test_the_tail_truncated_after_a_checkpoint(signed: DemoWorld) -> None:
    tamper(signed.app, "DELETE FROM audit_entry WHERE seq > 30", "UPDATE audit_head SET size = 30")
    result = _verify(signed.app)
    assert result.report.reason is Reason.CHECKPOINT_BEYOND_LOG
    assert result.report.checkpoint_size is not None
    assert result.report.checkpoint_size > 30


def test_the_whole_log_rewritten_consistently_without_the_key(signed: DemoWorld) -> None:
    """The forger recomputes every hash and node and signs with a key of their own."""
    app = signed.app
    with app.app_context():
        origin = current_settings().log_origin
        genuine = [NoteVerifier.from_vkey(k.vkey) for k in db.session.scalars(select(AuditSigningKey))]
        rows = db.session.execute(select(AuditEntry.seq, AuditEntry.canonical).order_by(AuditEntry.seq)).all()
    forger = generate_signer(origin)
    tree, prev, rewritten = MemoryTree(), "0" * 64, []
    for seq, raw in rows:
        entry = json.loads(raw)
        if seq == 12:
            entry["data"] = {"state": None}
        entry["prev"] = prev
        raw = canonical_bytes(entry)
        digest = leaf_hash(raw)
        tree.append(digest)
        rewritten.append((seq, raw, digest))
        prev = digest.hex()
    with triggers_bypassed(app):
        for seq, raw, digest in rewritten:
            db.session.execute(
                text("UPDATE audit_entry SET canonical = :c, leaf_hash = :h WHERE seq = :s"),
                {"c": raw, "h": digest, "s": seq},
            )
        db.session.execute(text("DELETE FROM merkle_node"))
        for level in range(tree.size.bit_length()):
            for index in range(tree.size >> level):
                db.session.execute(
                    text("INSERT INTO merkle_node (level, idx, hash) VALUES (:l, :i, :h)"),
                    {"l": level, "i": index, "h": tree.perfect_node(level, index)},
                )
        sizes = [s for (s,) in db.session.execute(text("SELECT size FROM audit_checkpoint"))]
        db.session.execute(text("DELETE FROM audit_checkpoint"))
        for size in sizes:
            note = sign_checkpoint(Checkpoint(origin, size, tree.root(size)), forger)
            db.session.execute(
                text(
                    "INSERT INTO audit_checkpoint (size, root, key_id, note, signed_at) VALUES (:s, :r, :k, :n, CURRENT_TIMESTAMP)"
                ),
                {"s": size, "r": tree.root(size), "k": forger.key_id, "n": note},
            )
        db.session.execute(text("DELETE FROM audit_signing_key"))
        db.session.execute(
            text(
                "INSERT INTO audit_signing_key (key_id, name, vkey, created_at) VALUES (:k, :n, :v, CURRENT_TIMESTAMP)"
            ),
            {"k": forger.key_id, "n": forger.name, "v": forger.vkey},
        )
        db.session.execute(text("UPDATE audit_head SET last_leaf_hash = :h"), {"h": rewritten[-1][2]})
    with app.app_context():
        anchored = verify_database(genuine)
    assert anchored.report.reason is Reason.CHECKPOINT_SIGNATURE_INVALID
    assert anchored.report.checkpoint_size == min(sizes)


def test_a_table_edited_behind_the_trail_fails_the_replay(signed: DemoWorld) -> None:
    with signed.app.app_context():
        db.session.execute(text("UPDATE organisation SET name = 'renamed quietly'"))
        db.session.commit()
    result = _verify(signed.app)
    assert not result.ok
    assert result.report.ok
    # Every organisation differs; the first ten are named (in key order), all are counted.
    assert result.differing_rows == 15  # the demo's 12 registered and 3 filed organisations
    assert len(result.differences) == 10
    assert {d.field for d in result.differences} == {"name"}
    assert "... 15 rows differ in all" in result.lines()[-1]


def test_the_cli_names_the_first_bad_seq(signed: DemoWorld, runner: FlaskCliRunner) -> None:
    tamper(signed.app, "DELETE FROM audit_entry WHERE seq = 4")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output.startswith("FAIL seq=4: gap")


def test_the_triggers_refuse_update_delete_and_truncate(signed: DemoWorld) -> None:
    from sqlalchemy.exc import DBAPIError

    from tests.conftest import is_postgres

    statements = [
        "UPDATE audit_entry SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_entry WHERE seq = 1",
        "UPDATE merkle_node SET hash = hash",
        "DELETE FROM merkle_node",
        "UPDATE audit_checkpoint SET note = 'x'",
        "DELETE FROM audit_checkpoint",
    ]
    if is_postgres():
        statements += ["TRUNCATE audit_entry", "TRUNCATE merkle_node", "TRUNCATE audit_checkpoint"]
        # Replication mode does not skip them either: they are ENABLE ALWAYS.
        statements += ["SET session_replication_role = replica; DELETE FROM audit_entry"]
    for statement in statements:
        with signed.app.app_context():
            with pytest.raises(DBAPIError, match="append-only"):
                for part in statement.split("; "):
                    db.session.execute(text(part))
            db.session.rollback()
    assert _verify(signed.app).ok


def test_a_tail_deleted_with_its_checkpoints_is_caught_by_a_saved_checkpoint(
    signed: DemoWorld, tmp_path: Path
) -> None:
    """The administrator deletes the newest entries and every checkpoint covering them, and fixes
    the head: only the checkpoint an auditor saved before still knows the log was longer."""
    from ledger.audit import store
    from ledger.audit.verify import read_trusted_checkpoints

    app = signed.app
    with app.app_context():
        size, note = max(store.checkpoint_notes().items())
    saved = tmp_path / "saved-checkpoint.txt"
    saved.write_text(note)
    tamper(
        app,
        "DELETE FROM audit_entry WHERE seq > 30",
        "DELETE FROM audit_checkpoint WHERE size > 30",
        "UPDATE audit_head SET size = 30",
    )
    with app.app_context():
        result = verify_database(trusted=read_trusted_checkpoints([saved]))
    assert result.report.reason is Reason.TRUSTED_CHECKPOINT_BEYOND_LOG
    assert result.report.checkpoint_size == size
    assert str(saved) in result.report.message


@pytest.mark.parametrize("tampered", [False, True])
def test_the_database_verified_in_ranges_by_worker_processes(
    signed: DemoWorld, monkeypatch: pytest.MonkeyPatch, tampered: bool
) -> None:
    """Worker processes reading the rows over their own connections, a range of 8 entries each,
    reach the one-process verdict; the service's own entries are taken a range at a time."""
    monkeypatch.setenv("LEDGER_VERIFY_PARALLEL_FROM", "2")
    monkeypatch.setenv("LEDGER_VERIFY_RANGE", "8")
    if tampered:
        original = _canonical(signed.app, 12)
        with triggers_bypassed(signed.app):
            db.session.execute(
                text("UPDATE audit_entry SET canonical = :c WHERE seq = 12"),
                {"c": original.replace(b'"v":1', b'"v":2')},
            )
    with signed.app.app_context():
        one = verify_database(workers=1)
        ranges = verify_database(workers=2)
        assert ranges.report == one.report
        assert ranges.ok is (not tampered), ranges.lines()
        source, size = _row_ranges()
        if source is None or size is None:
            pytest.skip("an in-memory database cannot be read by other processes")
        stored = source.stored(1, size)
        assert stored.seqs == list(range(1, size + 1))
        block = _verify_block(stored, _Range(1, size, frozenset(), changes_replay))
        assert (block is None) is tampered
