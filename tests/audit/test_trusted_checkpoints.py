"""Checkpoints an auditor saved earlier: the log must still contain them.

An administrator who deletes the newest entries together with their checkpoints, or rewrites the
whole history and every checkpoint, leaves a log that is consistent in itself. What gives them
away is a checkpoint the auditor kept from an earlier visit (``--trusted-checkpoint FILE``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.audit.note import NoteSigner, generate_signer
from ledger.audit.report import Reason
from ledger.audit.verify import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    main,
    read_trusted_checkpoints,
    verify_bundle,
)

from .bundle_factory import ORIGIN, make_bundle


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return generate_signer(ORIGIN)


def _saved(tmp_path: Path, note: str, name: str = "saved.txt") -> Path:
    path = tmp_path / name
    path.write_text(note, encoding="utf-8")
    return path


def test_a_log_that_still_contains_the_saved_checkpoint_verifies(
    tmp_path: Path, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = make_bundle(tmp_path / "earlier", 12, [12], signer)
    now = make_bundle(tmp_path / "now", 20, [12, 20], signer)
    saved = _saved(tmp_path, earlier.checkpoints[12])
    assert main([str(now.directory), "--key", signer.vkey, "--trusted-checkpoint", str(saved)]) == EXIT_OK
    assert "1 checkpoint(s) you saved earlier are contained in this log" in capsys.readouterr().out


def test_a_truncated_log_fails_even_with_its_own_checkpoints_removed(
    tmp_path: Path, signer: NoteSigner
) -> None:
    """The auditor saved the checkpoint at 20; the log now ends at 15, every checkpoint <= 15."""
    before = make_bundle(tmp_path / "before", 20, [10, 20], signer)
    truncated = make_bundle(tmp_path / "truncated", 15, [10], signer)
    saved = read_trusted_checkpoints([_saved(tmp_path, before.checkpoints[20])])
    assert verify_bundle(truncated.directory, [signer.verifier]).ok  # consistent in itself
    report = verify_bundle(truncated.directory, [signer.verifier], trusted=saved)
    assert (report.ok, report.reason, report.checkpoint_size) == (
        False,
        Reason.TRUSTED_CHECKPOINT_BEYOND_LOG,
        20,
    )
    assert "ends at seq 15" in report.message


def test_a_rewritten_history_fails_at_the_saved_size(tmp_path: Path, signer: NoteSigner) -> None:
    """Every entry rewritten and every checkpoint re-signed (or none kept): the saved root is gone."""
    genuine = make_bundle(tmp_path / "genuine", 20, [10, 20], signer)
    saved = read_trusted_checkpoints([_saved(tmp_path, genuine.checkpoints[10])])
    for sizes in ([10, 20], []):
        forged = make_bundle(tmp_path / f"forged-{len(sizes)}", 20, sizes, signer, variant="-x")
        assert verify_bundle(forged.directory, [signer.verifier]).ok
        report = verify_bundle(forged.directory, [signer.verifier], trusted=saved)
        assert (report.ok, report.reason, report.checkpoint_size) == (
            False,
            Reason.TRUSTED_CHECKPOINT_MISMATCH,
            10,
        )
        assert "forked or rewritten" in report.failure_line()


def test_a_saved_checkpoint_by_another_key_or_log_fails(tmp_path: Path, signer: NoteSigner) -> None:
    bundle = make_bundle(tmp_path / "bundle", 20, [10, 20], signer)
    stranger = make_bundle(tmp_path / "stranger", 20, [10], generate_signer(ORIGIN))
    saved = read_trusted_checkpoints([_saved(tmp_path, stranger.checkpoints[10])])
    report = verify_bundle(bundle.directory, [signer.verifier], trusted=saved)
    assert (report.ok, report.reason) == (False, Reason.CHECKPOINT_SIGNATURE_INVALID)
    assert "the checkpoint you saved" in report.message


@pytest.mark.parametrize("content", ["", "not a note\n", "origin\n12\nroot\n\n— nobody sig\n"])
def test_a_malformed_saved_checkpoint_is_a_usage_error(
    tmp_path: Path, signer: NoteSigner, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = make_bundle(tmp_path / "bundle", 5, [5], signer)
    saved = _saved(tmp_path, content)
    assert main([str(bundle.directory), "--trusted-checkpoint", str(saved)]) == EXIT_USAGE
    (error,) = capsys.readouterr().err.strip().splitlines()
    assert "--trusted-checkpoint" in error
    assert "saved.txt" in error
    missing = tmp_path / "missing.txt"
    assert main([str(bundle.directory), "--trusted-checkpoint", str(missing)]) == EXIT_USAGE


def test_a_failure_exits_1_with_one_line(
    tmp_path: Path, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    before = make_bundle(tmp_path / "before", 20, [20], signer)
    truncated = make_bundle(tmp_path / "truncated", 15, [15], signer)
    saved = _saved(tmp_path, before.checkpoints[20])
    code = main([str(truncated.directory), "--key", signer.vkey, "--trusted-checkpoint", str(saved)])
    assert code == EXIT_FAILED
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("FAIL checkpoint=20: trusted_checkpoint_beyond_log:")


def test_the_bundle_ties_each_checkpoint_to_the_newest_with_a_proof(
    tmp_path: Path, signer: NoteSigner
) -> None:
    bundle = make_bundle(tmp_path / "b", 20, [5, 12, 20], signer)
    proofs = sorted(p.name for p in (bundle.directory / "proofs").iterdir())
    assert proofs == ["consistency-12-20.json", "consistency-5-20.json"]
    saved = read_trusted_checkpoints([_saved(tmp_path, bundle.checkpoints[12])])
    assert verify_bundle(bundle.directory, [signer.verifier], trusted=saved).ok


def test_a_proof_that_does_not_hold_fails(tmp_path: Path, signer: NoteSigner) -> None:
    bundle = make_bundle(tmp_path / "b", 20, [5, 12, 20], signer)
    path = bundle.directory / "proofs" / "consistency-5-20.json"
    body = json.loads(path.read_text())
    body["hashes"][0] = "00" * 32
    path.write_text(json.dumps(body))
    report = verify_bundle(bundle.directory, [signer.verifier])
    assert (report.ok, report.reason, report.checkpoint_size) == (False, Reason.CONSISTENCY_PROOF_INVALID, 5)
    path.write_text("not a proof")
    assert verify_bundle(bundle.directory, [signer.verifier]).reason is Reason.CONSISTENCY_PROOF_INVALID


def test_a_saved_checkpoint_without_its_proof_fails_naming_the_file(
    tmp_path: Path, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = make_bundle(tmp_path / "b", 20, [12, 20], signer)
    (bundle.directory / "proofs" / "consistency-12-20.json").unlink()
    saved = _saved(tmp_path, bundle.checkpoints[12])
    assert main([str(bundle.directory), "--key", signer.vkey]) == EXIT_OK  # nothing asks for it
    capsys.readouterr()
    assert (
        main([str(bundle.directory), "--key", signer.vkey, "--trusted-checkpoint", str(saved)]) == EXIT_FAILED
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "missing_file" in out[0]
    assert "proofs/consistency-12-20.json is missing" in out[0]
