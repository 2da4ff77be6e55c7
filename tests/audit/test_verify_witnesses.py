"""The verifiers' witness options: ``--witness-key`` (repeatable) and ``--witness-quorum``.

Bundles are built here with cosignature lines appended to their checkpoint files, exactly as the
server exports them; ``python -m ledger.audit.verify`` runs in process and ``ledger audit verify
--bundle`` through the Flask CLI runner.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from ledger.audit.bundle import CHECKPOINTS_DIR, checkpoint_file_name
from ledger.audit.cosignature import Cosigner, append_signature_lines
from ledger.audit.note import NoteSigner, generate_signer, split_note
from ledger.audit.verify import main

from .bundle_factory import ORIGIN, make_bundle

SIZES = (4, 10, 16)
NEWEST = 16


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def w1() -> Cosigner:
    return Cosigner.generate("witness.example.org/w1")


@pytest.fixture(scope="module")
def w2() -> Cosigner:
    return Cosigner.generate("witness.example.org/w2")


@pytest.fixture
def bundle(tmp_path: Path, signer: NoteSigner) -> Path:
    return make_bundle(tmp_path / "bundle", 20, SIZES, signer).directory


def cosign(bundle: Path, size: int, *cosigners: Cosigner, line: str | None = None) -> None:
    """Append the cosigners' cosignature lines (or ``line``) to the checkpoint file of ``size``."""
    path = bundle / CHECKPOINTS_DIR / checkpoint_file_name(size)
    note = path.read_text(encoding="utf-8")
    text, _ = split_note(note)
    lines = [c.cosign(text).line for c in cosigners] + ([line] if line else [])
    path.write_text(append_signature_lines(note, lines), encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *arguments: str, quiet: bool = True) -> tuple[int, str, str]:
    status = main([*arguments, "--quiet"] if quiet else list(arguments))
    out, err = capsys.readouterr()
    return status, out, err


def test_a_quorum_of_all_given_keys_passes(
    bundle: Path, signer: NoteSigner, w1: Cosigner, w2: Cosigner, capsys: pytest.CaptureFixture[str]
) -> None:
    cosign(bundle, NEWEST, w1, w2)
    status, out, _ = run(
        capsys,
        str(bundle),
        "--key",
        signer.vkey,
        "--witness-key",
        w1.vkey,
        "--witness-key",
        w2.vkey,
        quiet=False,
    )
    assert status == 0, out
    assert (
        "witnesses: the newest checkpoint (size 16) carries 2 valid cosignature(s) from the 2 witness "
        f"key(s) you gave ({w1.name}, {w2.name}); quorum 2 met"
    ) in out


def test_a_missing_cosignature_fails_the_default_quorum_in_one_line(
    bundle: Path, w1: Cosigner, w2: Cosigner, capsys: pytest.CaptureFixture[str]
) -> None:
    cosign(bundle, NEWEST, w1)
    status, out, err = run(capsys, str(bundle), "--witness-key", w1.vkey, "--witness-key", w2.vkey)
    assert status == 1
    assert out.count("\n") == 1
    assert out.startswith(
        "FAIL checkpoint=16: witness_quorum_not_met: the newest checkpoint, size 16, carries 1 valid "
        "cosignature(s) of the 2 needed"
    )
    assert w2.name in out
    assert err == ""
    assert (
        run(capsys, str(bundle), "--witness-key", w1.vkey, "--witness-key", w2.vkey, "--witness-quorum", "1")[
            0
        ]
        == 0
    )


def test_only_the_newest_checkpoint_counts(
    bundle: Path, w1: Cosigner, capsys: pytest.CaptureFixture[str]
) -> None:
    cosign(bundle, 10, w1)
    status, out, _ = run(capsys, str(bundle), "--witness-key", w1.vkey)
    assert status == 1
    assert out.startswith("FAIL checkpoint=16: witness_quorum_not_met:")


def test_a_duplicated_key_counts_once(bundle: Path, w1: Cosigner, capsys: pytest.CaptureFixture[str]) -> None:
    cosign(bundle, NEWEST, w1)
    assert run(capsys, str(bundle), "--witness-key", w1.vkey, "--witness-key", w1.vkey)[0] == 0
    status, _, err = run(
        capsys, str(bundle), "--witness-key", w1.vkey, "--witness-key", w1.vkey, "--witness-quorum", "2"
    )
    assert status == 2
    assert "--witness-quorum 2" in err


def test_a_bad_cosignature_by_a_given_key_fails(
    bundle: Path, w1: Cosigner, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bundle / CHECKPOINTS_DIR / checkpoint_file_name(4)
    text, _ = split_note(path.read_text(encoding="utf-8"))
    forged = w1.cosign(text.replace("\n4\n", "\n5\n"))  # signed over another text
    cosign(bundle, 4, line=forged.line)
    cosign(bundle, NEWEST, w1)
    status, out, _ = run(capsys, str(bundle), "--witness-key", w1.vkey, "--witness-quorum", "0")
    assert status == 1
    assert out.startswith("FAIL checkpoint=4: cosignature_invalid: cosignature by witness ")
    # Without that witness's key the line is an unknown signature, ignored as C2SP says.
    assert run(capsys, str(bundle))[0] == 0


def test_cosignatures_from_keys_not_given_are_ignored(
    bundle: Path, w1: Cosigner, w2: Cosigner, capsys: pytest.CaptureFixture[str]
) -> None:
    cosign(bundle, NEWEST, w2, Cosigner.generate("witness.example.org/stranger"))
    status, out, _ = run(capsys, str(bundle), "--witness-key", w1.vkey)
    assert status == 1
    assert "carries 0 valid cosignature(s) of the 1 needed" in out
    assert run(capsys, str(bundle), "--witness-key", w2.vkey)[0] == 0


def test_a_saved_checkpoint_with_a_bad_cosignature_fails(
    bundle: Path, signer: NoteSigner, w1: Cosigner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cosign(bundle, NEWEST, w1)
    saved = tmp_path / "saved.txt"
    note = (bundle / CHECKPOINTS_DIR / checkpoint_file_name(10)).read_text(encoding="utf-8")
    saved.write_text(append_signature_lines(note, [w1.cosign(split_note(note)[0], 5).line]), encoding="utf-8")
    assert run(capsys, str(bundle), "--trusted-checkpoint", str(saved), "--witness-key", w1.vkey)[0] == 0
    bad = w1.cosign("other\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 5).line
    saved.write_text(append_signature_lines(note, [bad]), encoding="utf-8")
    status, out, _ = run(capsys, str(bundle), "--trusted-checkpoint", str(saved), "--witness-key", w1.vkey)
    assert status == 1
    assert out.startswith("FAIL checkpoint=10: cosignature_invalid:")


def test_a_log_without_checkpoints_cannot_meet_a_quorum(
    tmp_path: Path, signer: NoteSigner, w1: Cosigner, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = make_bundle(tmp_path / "bare", 5, [], signer).directory
    status, out, _ = run(capsys, str(directory), "--witness-key", w1.vkey)
    assert status == 1
    assert out.startswith("FAIL checkpoint=0: witness_quorum_not_met: the log has no signed checkpoint")


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["--witness-key", "not-a-key"], id="malformed"),
        pytest.param(["--witness-key", f"{ORIGIN}+00000000+AAAA"], id="bad-base64-length"),
        pytest.param(["--witness-quorum", "1"], id="quorum-without-keys"),
        pytest.param(["--witness-quorum", "-1"], id="negative-quorum"),
    ],
)
def test_usage_errors_exit_2_with_one_line_naming_the_argument(
    bundle: Path, arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, str(bundle), *arguments)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: {arguments[-2]} ")


def test_a_log_key_given_as_a_witness_key_is_refused(
    bundle: Path, signer: NoteSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, str(bundle), "--witness-key", signer.vkey)
    assert status == 2
    assert "--witness-key" in err
    assert "0x01" in err


# --- ledger audit verify --bundle ---------------------------------------------------------


def test_ledger_audit_verify_takes_the_witness_options(
    runner: FlaskCliRunner, bundle: Path, signer: NoteSigner, w1: Cosigner, w2: Cosigner
) -> None:
    cosign(bundle, NEWEST, w1)
    base = ["audit", "verify", "--bundle", str(bundle), "--key", signer.vkey]
    passed = runner.invoke(args=[*base, "--witness-key", w1.vkey])
    assert passed.exit_code == 0, passed.output
    assert "quorum 1 met" in passed.output
    failed = runner.invoke(args=[*base, "--witness-key", w1.vkey, "--witness-key", w2.vkey])
    assert failed.exit_code == 1
    assert failed.output.startswith("FAIL checkpoint=16: witness_quorum_not_met:")
    assert failed.output.count("\n") == 1
    malformed = runner.invoke(args=[*base, "--witness-key", "witness+1234"])
    assert malformed.exit_code == 2
    assert (
        malformed.output == "error: --witness-key 'witness+1234': witness key must be name+keyid+base64key\n"
    )
