"""The fixed interfaces of DESIGN.md section 5: checkpoints, keys, proofs, export."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from ledger.audit.checkpoint import open_checkpoint
from ledger.audit.merkle import verify_consistency, verify_inclusion
from ledger.audit.note import NoteVerifier
from ledger.audit.trail import sign_checkpoint_now
from tests.conftest import DemoWorld
from tests.helpers import assert_problem


def _sign_now(app: Flask) -> None:
    with app.app_context():
        sign_checkpoint_now()


def _verifiers(client: FlaskClient, world: DemoWorld) -> list[NoteVerifier]:
    response = client.get("/api/v1/audit/key", headers=world.auth("auditor"))
    assert response.mimetype == "text/plain"
    return [NoteVerifier.from_vkey(line) for line in response.get_data(as_text=True).splitlines()]


def test_the_latest_checkpoint_is_a_signed_note_over_the_whole_log(
    client: FlaskClient, world: DemoWorld
) -> None:
    _sign_now(world.app)
    response = client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor"))
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    checkpoint, key_ids = open_checkpoint(response.get_data(as_text=True), _verifiers(client, world))
    size = client.get("/api/v1/audit/entries?limit=1", headers=world.auth("auditor")).get_json()["tree_size"]
    assert checkpoint.size == size
    assert len(key_ids) == 1
    by_size = client.get(f"/api/v1/audit/checkpoints/{size}", headers=world.auth("auditor"))
    assert by_size.get_data() == response.get_data()
    assert_problem(client.get(f"/api/v1/audit/checkpoints/{size + 1000}", headers=world.auth("auditor")), 404)


def test_inclusion_proofs_verify_against_signed_roots(client: FlaskClient, world: DemoWorld) -> None:
    _sign_now(world.app)
    note = client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor")).get_data(as_text=True)
    checkpoint, _ = open_checkpoint(note, _verifiers(client, world))
    entries = client.get("/api/v1/audit/entries?limit=1000", headers=world.auth("auditor")).get_json()[
        "entries"
    ]
    for entry in entries:
        proof = client.get(
            f"/api/v1/audit/proof/inclusion?seq={entry['seq']}&tree_size={checkpoint.size}",
            headers=world.auth("auditor"),
        ).get_json()
        assert proof["leaf_index"] == entry["seq"] - 1
        assert proof["leaf_hash"] == entry["leaf_hash"]
        verify_inclusion(
            proof["leaf_index"],
            checkpoint.size,
            bytes.fromhex(proof["leaf_hash"]),
            [bytes.fromhex(h) for h in proof["hashes"]],
            checkpoint.root,
        )


def test_consistency_proofs_link_every_pair_of_checkpoints(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    first = client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor")).get_data(as_text=True)
    client.post(
        "/api/v1/communities",
        json={"code": "420199001206", "name": "n", "kind": "urban"},
        headers=world.keyed("admin"),
    )
    _sign_now(app)
    second = client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor")).get_data(as_text=True)
    verifiers = _verifiers(client, world)
    old, _ = open_checkpoint(first, verifiers)
    new, _ = open_checkpoint(second, verifiers)
    assert new.size > old.size
    proof = client.get(
        f"/api/v1/audit/proof/consistency?from={old.size}&to={new.size}", headers=world.auth("auditor")
    ).get_json()
    assert (proof["from"], proof["to"]) == (old.size, new.size)
    verify_consistency(old.size, new.size, [bytes.fromhex(h) for h in proof["hashes"]], old.root, new.root)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("seq=0&tree_size=1", "query.seq"),
        ("seq=5&tree_size=3", "seq"),
        ("seq=1&tree_size=999999", "tree_size"),
        ("seq=x&tree_size=1", "query.seq"),
        ("tree_size=1", "query.seq"),
    ],
)
def test_impossible_inclusion_requests_are_422(
    client: FlaskClient, world: DemoWorld, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/audit/proof/inclusion?{query}", headers=world.auth("auditor"))
    assert_problem(response, 422, field)


def test_impossible_consistency_requests_are_422(client: FlaskClient, world: DemoWorld) -> None:
    assert_problem(
        client.get("/api/v1/audit/proof/consistency?from=5&to=3", headers=world.auth("auditor")), 422, "from"
    )
    assert_problem(
        client.get("/api/v1/audit/proof/consistency?from=1&to=999999", headers=world.auth("auditor")),
        422,
        "to",
    )


@pytest.mark.parametrize("archive_format", ["zip", "tar.gz"])
def test_the_export_archive_verifies_offline(
    client: FlaskClient, world: DemoWorld, tmp_path: Path, archive_format: str
) -> None:
    _sign_now(world.app)
    response = client.get(f"/api/v1/audit/export?format={archive_format}", headers=world.auth("auditor"))
    assert response.status_code == 200
    data = io.BytesIO(response.get_data())
    response.close()  # as a WSGI server does; this also removes the server's temporary copy
    if archive_format == "zip":
        zipfile.ZipFile(data).extractall(tmp_path)
    else:
        with tarfile.open(fileobj=data, mode="r:gz") as archive:
            archive.extractall(tmp_path, filter="data")
    bundle = tmp_path / "audit-bundle"
    assert {p.name for p in bundle.iterdir()} == {
        "entries.jsonl",
        "checkpoints",
        "proofs",
        "keys.txt",
        "manifest.json",
    }
    vkey = client.get("/api/v1/audit/key", headers=world.auth("auditor")).get_data(as_text=True).strip()
    result = subprocess.run(
        [sys.executable, "-m", "ledger.audit.verify", str(bundle), "--key", vkey],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK:")


def test_cli_export_and_verify(runner: FlaskCliRunner, world: DemoWorld, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    exported = runner.invoke(args=["audit", "export", str(bundle)])
    assert exported.exit_code == 0, exported.output
    assert (bundle / "entries.jsonl").is_file()
    verified = runner.invoke(args=["audit", "verify", "--bundle", str(bundle)])
    assert verified.exit_code == 0, verified.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    refused = runner.invoke(args=["audit", "export", str(bundle)])
    assert refused.exit_code == 1
    assert "not empty" in refused.output


def test_cli_verify_takes_a_checkpoint_saved_from_the_api(
    client: FlaskClient, runner: FlaskCliRunner, world: DemoWorld, tmp_path: Path
) -> None:
    """An auditor saves GET /audit/checkpoint; later both verifiers accept it as a trusted checkpoint."""
    runner.invoke(args=["audit", "checkpoint"])
    saved = tmp_path / "checkpoint.txt"
    saved.write_text(
        client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor")).get_data(as_text=True)
    )
    verified = runner.invoke(args=["audit", "verify", "--trusted-checkpoint", str(saved)])
    assert verified.exit_code == 0, verified.output
    assert "1 checkpoint(s) you saved earlier are contained in this log" in verified.output
    bundle = tmp_path / "bundle"
    assert runner.invoke(args=["audit", "export", str(bundle)]).exit_code == 0
    offline = runner.invoke(
        args=["audit", "verify", "--bundle", str(bundle), "--trusted-checkpoint", str(saved)]
    )
    assert offline.exit_code == 0, offline.output
    junk = tmp_path / "junk.txt"
    junk.write_text("no checkpoint\n")
    refused = runner.invoke(args=["audit", "verify", "--trusted-checkpoint", str(junk)])
    assert refused.exit_code == 2
    assert "not a signed checkpoint" in refused.output


def test_key_rotation_keeps_old_checkpoints_verifiable(
    client: FlaskClient, runner: FlaskCliRunner, world: DemoWorld
) -> None:
    _sign_now(world.app)
    old_note = client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor")).get_data(as_text=True)
    rotated = runner.invoke(args=["audit", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    client.post(
        "/api/v1/communities",
        json={"code": "420199001207", "name": "n", "kind": "urban"},
        headers=world.keyed("admin"),
    )
    _sign_now(world.app)
    verifiers = _verifiers(client, world)
    assert len(verifiers) == 2
    new_note = client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor")).get_data(as_text=True)
    _, old_keys = open_checkpoint(old_note, verifiers)
    _, new_keys = open_checkpoint(new_note, verifiers)
    assert old_keys != new_keys
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_passphrase_protects_the_key_file(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.audit.keys import SigningKeyError, load_signer, write_new_signer

    monkeypatch.setenv("LEDGER_AUDIT_KEY_PASSPHRASE", "correct horse battery staple")
    signer = write_new_signer(tmp_path, "example.org/log")
    assert b"ENCRYPTED" in (tmp_path / "audit-signing-key.pem").read_bytes()
    loaded = load_signer(tmp_path, "example.org/log")
    assert loaded is not None
    assert loaded.key_id == signer.key_id
    monkeypatch.setenv("LEDGER_AUDIT_KEY_PASSPHRASE", "wrong")
    with pytest.raises(SigningKeyError, match="PASSPHRASE"):
        load_signer(tmp_path, "example.org/log")


def test_the_exported_proofs_are_the_ones_the_api_serves(
    client: FlaskClient, runner: FlaskCliRunner, world: DemoWorld, tmp_path: Path
) -> None:
    runner.invoke(args=["audit", "checkpoint"])
    client.post(
        "/api/v1/communities",
        json={"code": "420199001208", "name": "n", "kind": "urban"},
        headers=world.keyed("admin"),
    )
    runner.invoke(args=["audit", "checkpoint"])
    bundle = tmp_path / "bundle"
    assert runner.invoke(args=["audit", "export", str(bundle)]).exit_code == 0
    sizes = sorted(int(p.stem) for p in (bundle / "checkpoints").iterdir())
    newest = sizes[-1]
    files = sorted((bundle / "proofs").iterdir())
    assert [p.name for p in files] == sorted(f"consistency-{s}-{newest}.json" for s in sizes[:-1])
    for size in sizes[:-1]:
        served = client.get(
            f"/api/v1/audit/proof/consistency?from={size}&to={newest}", headers=world.auth("auditor")
        ).get_json()
        exported = json.loads((bundle / "proofs" / f"consistency-{size}-{newest}.json").read_text())
        assert exported == served
