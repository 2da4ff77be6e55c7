"""Export bundles: a sound bundle verifies, and each kind of tampering is caught where it happens."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.audit.bundle import CheckpointFiles, Manifest
from ledger.audit.canonical import canonical_bytes, parse_canonical
from ledger.audit.checkpoint import Checkpoint, sign_checkpoint
from ledger.audit.note import NoteSigner, generate_signer
from ledger.audit.report import Reason, Trust, VerificationReport
from ledger.audit.verify import verify_bundle

from .bundle_factory import ORIGIN, BuiltBundle, make_bundle

N_ENTRIES = 20
CHECKPOINT_SIZES = (4, 10, 16)


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, signer: NoteSigner) -> BuiltBundle:
    return make_bundle(tmp_path_factory.mktemp("pristine") / "bundle", N_ENTRIES, CHECKPOINT_SIZES, signer)


@pytest.fixture
def bundle(pristine: BuiltBundle, tmp_path: Path) -> Path:
    """A private copy of the sound bundle, free to tamper with."""
    directory = tmp_path / "bundle"
    shutil.copytree(pristine.directory, directory)
    return directory


def read_lines(directory: Path) -> list[bytes]:
    return (directory / "entries.jsonl").read_bytes().splitlines(keepends=True)


def write_lines(directory: Path, lines: list[bytes]) -> None:
    (directory / "entries.jsonl").write_bytes(b"".join(lines))


def edit_manifest(directory: Path, **changes: object) -> None:
    path = directory / "manifest.json"
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


def assert_failure(
    report: VerificationReport, reason: Reason, *, seq: int | None = None, checkpoint: int | None = None
) -> None:
    assert not report.ok
    assert (report.reason, report.first_bad_seq, report.checkpoint_size) == (reason, seq, checkpoint), (
        report.message
    )
    assert report.message


def test_sound_bundle_with_bundle_keys(bundle: Path, signer: NoteSigner) -> None:
    report = verify_bundle(bundle)
    assert report.ok, report.failure_line()
    assert report.trust is Trust.BUNDLE_KEYS
    assert report.entries_checked == N_ENTRIES
    assert report.checkpoints_checked == len(CHECKPOINT_SIZES)
    assert report.latest_checkpoint is not None
    assert report.latest_checkpoint.size == 16
    assert report.key_ids == (signer.key_id,)
    summary = "\n".join(report.summary_lines())
    assert "keys came from the bundle itself" in summary
    assert "entries 17..20 are not yet covered" in summary


def test_sound_bundle_with_anchor_key(bundle: Path, signer: NoteSigner) -> None:
    (bundle / "keys.txt").write_text("this is not a key, and is ignored when --key is given\n")
    report = verify_bundle(bundle, [signer.verifier])
    assert report.ok, report.failure_line()
    assert report.trust is Trust.ANCHORED


def test_rotated_keys_keep_old_checkpoints_verifiable(tmp_path: Path, signer: NoteSigner) -> None:
    built = make_bundle(tmp_path / "b", 12, [4], signer)
    new_key = generate_signer(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 12, built.root(12)), new_key)
    (built.directory / "checkpoints" / "12.txt").write_text(note)
    edit_manifest(built.directory, latest_checkpoint_size=12)
    report = verify_bundle(built.directory, [signer.verifier, new_key.verifier])
    assert report.ok, report.failure_line()
    assert report.key_ids == tuple(sorted({signer.key_id, new_key.key_id}))
    assert verify_bundle(built.directory, [signer.verifier]).checkpoint_size == 12


def test_empty_log(tmp_path: Path, signer: NoteSigner) -> None:
    built = make_bundle(tmp_path / "b", 0, [], signer)
    report = verify_bundle(built.directory, [signer.verifier])
    assert report.ok, report.failure_line()
    assert "no signed checkpoint" in "\n".join(report.summary_lines())


# --- the tamper matrix ---------------------------------------------------------


def test_byte_changed_so_line_is_not_canonical(bundle: Path) -> None:
    lines = read_lines(bundle)
    lines[6] = lines[6].replace(b'"action":', b'"action": ', 1)
    write_lines(bundle, lines)
    assert_failure(verify_bundle(bundle), Reason.NOT_CANONICAL, seq=7)


def test_byte_changed_in_a_value_breaks_the_next_link(bundle: Path) -> None:
    lines = read_lines(bundle)
    lines[6] = lines[6].replace(b'"currency":"CNY"', b'"currency":"CNZ"', 1)
    write_lines(bundle, lines)
    report = verify_bundle(bundle)
    assert_failure(report, Reason.BROKEN_LINK, seq=8)
    assert "seq 7 or 8 was altered" in report.message


def test_byte_changed_in_the_last_signed_entry_breaks_the_checkpoint(
    tmp_path: Path, signer: NoteSigner
) -> None:
    built = make_bundle(tmp_path / "b", 16, [8, 16], signer)
    lines = read_lines(built.directory)
    lines[15] = lines[15].replace(b'"currency":"CNY"', b'"currency":"CNZ"', 1)
    write_lines(built.directory, lines)
    report = verify_bundle(built.directory, [signer.verifier])
    assert_failure(report, Reason.CHECKPOINT_ROOT_MISMATCH, checkpoint=16)
    assert "9..16" in report.message


def test_changed_prev_is_a_broken_link(bundle: Path) -> None:
    lines = read_lines(bundle)
    entry = parse_canonical(lines[0][:-1])
    assert isinstance(entry, dict)
    entry["prev"] = "1" * 64
    lines[0] = canonical_bytes(entry) + b"\n"
    write_lines(bundle, lines)
    report = verify_bundle(bundle)
    assert_failure(report, Reason.BROKEN_LINK, seq=1)
    assert "64 zeros" in report.message


def test_canonical_line_that_is_not_an_entry(bundle: Path) -> None:
    lines = read_lines(bundle)
    entry = parse_canonical(lines[2][:-1])
    assert isinstance(entry, dict)
    del entry["data"]
    lines[2] = canonical_bytes(entry) + b"\n"
    write_lines(bundle, lines)
    report = verify_bundle(bundle)
    assert_failure(report, Reason.MALFORMED_ENTRY, seq=3)
    assert "missing data" in report.message


def test_deleted_entry_is_a_gap(bundle: Path) -> None:
    lines = read_lines(bundle)
    del lines[8]
    write_lines(bundle, lines)
    assert_failure(verify_bundle(bundle), Reason.GAP, seq=9)


def test_swapped_entries_are_a_gap(bundle: Path) -> None:
    lines = read_lines(bundle)
    lines[8], lines[9] = lines[9], lines[8]
    write_lines(bundle, lines)
    assert_failure(verify_bundle(bundle), Reason.GAP, seq=9)


def test_duplicated_entry_is_a_gap(bundle: Path) -> None:
    lines = read_lines(bundle)
    lines.insert(5, lines[4])
    write_lines(bundle, lines)
    assert_failure(verify_bundle(bundle), Reason.GAP, seq=6)


@pytest.mark.parametrize("update_manifest", [False, True])
def test_tail_truncated_after_a_checkpoint(bundle: Path, update_manifest: bool) -> None:
    write_lines(bundle, read_lines(bundle)[:12])
    if update_manifest:
        edit_manifest(bundle, entry_count=12, last_seq=12)
    report = verify_bundle(bundle)
    assert_failure(report, Reason.CHECKPOINT_BEYOND_LOG, checkpoint=16)
    assert report.entries_checked == 12


def test_log_rewritten_and_resigned_with_another_key(tmp_path: Path, signer: NoteSigner) -> None:
    forger = generate_signer(ORIGIN)  # same origin name, but not the log's key
    forged = make_bundle(tmp_path / "forged", N_ENTRIES, CHECKPOINT_SIZES, forger, variant="-forged")
    # Internally consistent, so it passes on its own keys, and the report says so ...
    report = verify_bundle(forged.directory)
    assert report.ok
    assert report.trust is Trust.BUNDLE_KEYS
    # ... but not against the log's real key.
    report = verify_bundle(forged.directory, [signer.verifier])
    assert_failure(report, Reason.CHECKPOINT_SIGNATURE_INVALID, checkpoint=4)
    assert "no signature from a known key" in report.message


def test_checkpoint_root_mismatch(bundle: Path, signer: NoteSigner) -> None:
    wrong = sign_checkpoint(Checkpoint(ORIGIN, 10, bytes(32)), signer)
    (bundle / "checkpoints" / "10.txt").write_text(wrong)
    report = verify_bundle(bundle, [signer.verifier])
    assert_failure(report, Reason.CHECKPOINT_ROOT_MISMATCH, checkpoint=10)
    assert "5..10" in report.message


def _flip_signature_byte(note: str) -> str:
    text, signature_line = note.rsplit("\n— ", 1)
    name, encoded = signature_line.rstrip("\n").split(" ")
    payload = bytearray(base64.b64decode(encoded))
    payload[10] ^= 0x01
    return f"{text}\n— {name} {base64.b64encode(bytes(payload)).decode()}\n"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        pytest.param(_flip_signature_byte, "does not verify", id="signature-byte"),
        pytest.param(lambda note: note.replace("\n10\n", "\n11\n", 1), "does not verify", id="signed-text"),
        pytest.param(lambda note: note.replace("— ", "- "), "em dash", id="malformed-note"),
    ],
)
def test_bad_checkpoint_signature(
    bundle: Path, signer: NoteSigner, tamper: Callable[[str], str], message: str
) -> None:
    path = bundle / "checkpoints" / "10.txt"
    path.write_text(tamper(path.read_text()))
    report = verify_bundle(bundle, [signer.verifier])
    assert_failure(report, Reason.CHECKPOINT_SIGNATURE_INVALID, checkpoint=10)
    assert message in report.message


def test_checkpoint_filed_under_the_wrong_size(bundle: Path, signer: NoteSigner) -> None:
    shutil.copyfile(bundle / "checkpoints" / "4.txt", bundle / "checkpoints" / "10.txt")
    report = verify_bundle(bundle, [signer.verifier])
    assert_failure(report, Reason.CHECKPOINT_SIGNATURE_INVALID, checkpoint=10)
    assert "signed for size 4" in report.message


def test_checkpoint_of_another_origin(tmp_path: Path) -> None:
    other = generate_signer("other.example.org/log")
    built = make_bundle(tmp_path / "b", 8, [4], other)
    edit_manifest(built.directory, origin=ORIGIN)
    report = verify_bundle(built.directory, [other.verifier])
    assert_failure(report, Reason.CHECKPOINT_SIGNATURE_INVALID, checkpoint=4)
    assert "origin" in report.message


def test_last_line_without_newline(bundle: Path) -> None:
    path = bundle / "entries.jsonl"
    path.write_bytes(path.read_bytes()[:-1])
    assert_failure(verify_bundle(bundle), Reason.NOT_CANONICAL, seq=N_ENTRIES)


def test_undecodable_checkpoint_file(bundle: Path) -> None:
    (bundle / "checkpoints" / "10.txt").write_bytes(b"\xff\xfe\n\n")
    assert_failure(verify_bundle(bundle), Reason.CHECKPOINT_SIGNATURE_INVALID, checkpoint=10)


# --- the bundle's description of itself ---------------------------------------------


@pytest.mark.parametrize("name", ["manifest.json", "entries.jsonl", "keys.txt"])
def test_missing_file(bundle: Path, name: str) -> None:
    (bundle / name).unlink()
    report = verify_bundle(bundle)
    assert_failure(report, Reason.MISSING_FILE)
    assert name in report.message
    assert report.failure_line().startswith("FAIL bundle: missing_file: ")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"entry_count": 21}, id="entry-count"),
        pytest.param({"last_seq": 19}, id="last-seq"),
        pytest.param({"latest_checkpoint_size": 10}, id="latest-checkpoint"),
        pytest.param({"format_version": 2}, id="format-version"),
        pytest.param({"format": "something-else"}, id="format"),
        pytest.param({"origin": ""}, id="empty-origin"),
        pytest.param({"entry_count": "20"}, id="count-as-string"),
    ],
)
def test_manifest_mismatch(bundle: Path, changes: dict[str, object]) -> None:
    edit_manifest(bundle, **changes)
    assert_failure(verify_bundle(bundle), Reason.MANIFEST_MISMATCH)


def test_unreadable_manifest_and_keys(bundle: Path) -> None:
    (bundle / "keys.txt").write_text("not-a-key\n")
    report = verify_bundle(bundle)
    assert_failure(report, Reason.MANIFEST_MISMATCH)
    assert "keys.txt line 1" in report.message
    (bundle / "manifest.json").write_text("{")
    assert_failure(verify_bundle(bundle), Reason.MANIFEST_MISMATCH)


def test_stray_file_in_checkpoints(bundle: Path) -> None:
    (bundle / "checkpoints" / "latest.txt").write_text("x")
    (bundle / "checkpoints" / ".DS_Store").write_text("ignored")
    report = verify_bundle(bundle)
    assert_failure(report, Reason.MANIFEST_MISMATCH)
    assert "latest.txt" in report.message


def test_manifest_and_checkpoint_files_round_trip(pristine: BuiltBundle) -> None:
    manifest = Manifest.from_json((pristine.directory / "manifest.json").read_bytes())
    assert manifest == Manifest(ORIGIN, N_ENTRIES, N_ENTRIES, 16)
    assert json.loads(manifest.to_json())["format"] == "community-fund-ledger-audit-export"
    files = CheckpointFiles(pristine.directory / "checkpoints")
    assert list(files) == list(CHECKPOINT_SIZES)
    assert files[10] == pristine.checkpoints[10]
