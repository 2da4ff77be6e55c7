"""C2SP tlog-cosignature (Ed25519 cosignature/v1): vectors, round trips, tampering, key formats."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from ledger.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.audit.cosignature import (
    Cosignature,
    CosignatureError,
    CosignatureVerifier,
    Cosigner,
    append_signature_lines,
    check_cosignatures,
    cosigner_key_id,
    signed_message,
)
from ledger.audit.note import (
    KeyFormatError,
    MalformedNote,
    compute_key_id,
    parse_signature_line,
    signer_from_seed,
    split_note,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "cosignature" / "cosignature-v1.json").read_text(encoding="utf-8")
)
ORIGIN = "grants.example.org/audit-log"
ROOT_8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


@pytest.fixture(scope="module")
def log_note() -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT_8), signer_from_seed(ORIGIN, bytes([1]) * 32))


@pytest.fixture(scope="module")
def witness() -> Cosigner:
    return Cosigner.from_seed("witness.example.org/w1", bytes([2]) * 32)


# --- published examples -----------------------------------------------------------------


def test_the_specification_example_decodes_to_its_key_id_and_timestamp() -> None:
    example = VECTORS["spec_example"]
    text, signatures = split_note(example["note"])
    cosignature = Cosignature.from_note_signature(signatures[1])
    assert (cosignature.name, cosignature.key_id) == (example["cosigner"], example["key_id"])
    assert cosignature.timestamp == example["timestamp"]
    assert cosignature.line == example["note"].splitlines()[-1]
    # The message for that timestamp is the specification's example, byte for byte.
    assert signed_message(text, cosignature.timestamp) == example["signed_message"].encode()


def test_published_witness_key_ids_use_the_cosignature_type_byte() -> None:
    for case in VECTORS["vkeys"]["valid_cosignature_v1"]:
        verifier = CosignatureVerifier.from_vkey(case["vkey"])
        assert (verifier.name, verifier.key_id) == (case["name"], case["key_id"])
        assert cosigner_key_id(verifier.name, verifier.public_key) == case["key_id"]
        # The same key as a plain (0x01) note key has another id: one never passes for the other.
        assert compute_key_id(verifier.name, verifier.public_key) != case["key_id"]
        assert verifier.vkey == case["vkey"]


@pytest.mark.parametrize("case", VECTORS["vkeys"]["not_witness_keys"], ids=lambda case: case["why"])
def test_keys_that_are_no_witness_keys_are_refused(case: dict[str, str]) -> None:
    with pytest.raises(KeyFormatError):
        CosignatureVerifier.from_vkey(case["vkey"])


@pytest.mark.parametrize("case", VECTORS["timestamps"]["cases"], ids=["cosignature", "plain-signature"])
def test_published_cosignature_timestamps(case: dict[str, Any]) -> None:
    signature = parse_signature_line(f"— witness.example/w1 {case['signature']}")
    if case["timestamp"] is None:
        with pytest.raises(CosignatureError):
            Cosignature.from_note_signature(signature)
    else:
        assert Cosignature.from_note_signature(signature).timestamp == case["timestamp"]


def test_the_generated_vector_is_reproduced(witness: Cosigner) -> None:
    vector = VECTORS["generated"]
    cosigner = Cosigner.from_seed("witness.example.org/w1", bytes.fromhex(vector["seed_hex"]))
    assert cosigner.vkey == vector["vkey"]
    assert cosigner.skey == vector["skey"]
    assert Cosigner.from_skey(vector["skey"]).vkey == vector["vkey"]
    assert cosigner.cosign(vector["text"], vector["timestamp"]).line == vector["line"]
    decoded = Cosignature.from_note_signature(parse_signature_line(vector["line"]))
    assert CosignatureVerifier.from_vkey(vector["vkey"]).verifies(vector["text"], decoded)


# --- round trips and tampering ------------------------------------------------------------


def test_cosign_and_verify_round_trip(witness: Cosigner, log_note: str) -> None:
    text, _ = split_note(log_note)
    cosignature = witness.cosign(text, 1_800_000_000)
    assert len(base64.b64decode(cosignature.line.split(" ")[-1])) == 4 + 8 + 64
    note = append_signature_lines(log_note, [cosignature.line])
    found = check_cosignatures(note, [witness.verifier])
    assert [c.timestamp for c in found.valid] == [1_800_000_000]
    assert found.invalid == ()
    # The log's own signature still opens the note; the cosignature is an unknown key to it.
    checkpoint, key_ids = open_checkpoint(note, [signer_from_seed(ORIGIN, bytes([1]) * 32).verifier])
    assert checkpoint.size == 8
    assert len(key_ids) == 1


def _tampered_timestamp(cosignature: Cosignature) -> Cosignature:
    return Cosignature(cosignature.name, cosignature.key_id, cosignature.timestamp + 1, cosignature.signature)


def _tampered_signature(cosignature: Cosignature) -> Cosignature:
    flipped = bytes([cosignature.signature[0] ^ 1]) + cosignature.signature[1:]
    return Cosignature(cosignature.name, cosignature.key_id, cosignature.timestamp, flipped)


@pytest.mark.parametrize("tamper", [_tampered_timestamp, _tampered_signature], ids=["timestamp", "signature"])
def test_a_tampered_cosignature_does_not_verify(witness: Cosigner, log_note: str, tamper: Any) -> None:
    text, _ = split_note(log_note)
    bad = tamper(witness.cosign(text, 1_800_000_000))
    assert not witness.verifier.verifies(text, bad)
    found = check_cosignatures(append_signature_lines(log_note, [bad.line]), [witness.verifier])
    assert found.valid == ()
    assert "does not verify" in found.invalid[0]


def test_a_cosignature_covers_the_whole_checkpoint_text(witness: Cosigner, log_note: str) -> None:
    text, _ = split_note(log_note)
    cosignature = witness.cosign(text, 1_800_000_000)
    assert not witness.verifier.verifies(text.replace("\n8\n", "\n9\n"), cosignature)
    with_extension = text + "an extension line\n"
    assert not witness.verifier.verifies(with_extension, cosignature)
    assert witness.verifier.verifies(with_extension, witness.cosign(with_extension, 1_800_000_000))


def test_a_plain_note_signature_is_no_cosignature(log_note: str) -> None:
    """The same key signing the plain text (type 0x01) yields another key id and no cosignature."""
    seed = bytes([2]) * 32
    plain = signer_from_seed("witness.example.org/w1", seed).sign(split_note(log_note)[0])
    line = plain.splitlines()[-1]
    found = check_cosignatures(
        append_signature_lines(log_note, [line]),
        [Cosigner.from_seed("witness.example.org/w1", seed).verifier],
    )
    assert found == check_cosignatures(log_note, [])  # ignored: another key id


def test_unknown_witnesses_are_ignored_and_a_wrong_length_line_is_invalid(
    witness: Cosigner, log_note: str
) -> None:
    text, _ = split_note(log_note)
    other = Cosigner.generate("witness.example.org/other")
    note = append_signature_lines(log_note, [other.cosign(text).line, witness.cosign(text).line])
    found = check_cosignatures(note, [witness.verifier])
    assert [c.name for c in found.valid] == [witness.name]
    short = base64.b64encode(bytes.fromhex(witness.key_id) + struct.pack(">Q", 5) + bytes(10)).decode()
    found = check_cosignatures(
        append_signature_lines(log_note, [f"— {witness.name} {short}"]), [witness.verifier]
    )
    assert found.valid == ()
    assert "cosignature/v1 has 72" in found.invalid[0]


def test_append_signature_lines_keeps_a_valid_note_and_skips_duplicates(
    witness: Cosigner, log_note: str
) -> None:
    line = witness.cosign(split_note(log_note)[0], 7).line
    once = append_signature_lines(log_note, [line])
    assert append_signature_lines(once, [line + "\n"]) == once
    assert once.endswith(f"\n{line}\n")
    assert len(split_note(once)[1]) == 2
    with pytest.raises(MalformedNote):
        append_signature_lines(log_note, ["not a signature line"])


def test_timestamps_are_bounded() -> None:
    with pytest.raises(CosignatureError):
        signed_message("a\n1\nAAAA\n", 2**63)
    with pytest.raises(CosignatureError):
        signed_message("a\n1\nAAAA\n", -1)
    too_late = base64.b64encode(bytes(4) + struct.pack(">Q", 2**63) + bytes(64)).decode()
    with pytest.raises(CosignatureError):
        Cosignature.from_note_signature(parse_signature_line(f"— w {too_late}"))


def test_signer_key_text_round_trip_and_errors(witness: Cosigner) -> None:
    assert Cosigner.from_skey(witness.skey).vkey == witness.vkey
    with pytest.raises(KeyFormatError):
        Cosigner.from_skey(witness.vkey)
    log_skey = signer_from_seed("witness.example.org/w1", bytes([2]) * 32).skey
    with pytest.raises(KeyFormatError, match="0x01"):
        Cosigner.from_skey(log_skey)
    with pytest.raises(KeyFormatError):
        Cosigner.from_skey(witness.skey.replace(witness.key_id, "00000000"))
