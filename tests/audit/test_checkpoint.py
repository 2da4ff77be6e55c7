"""C2SP tlog-checkpoint bodies and signed checkpoints."""

from __future__ import annotations

import base64

import pytest

from ledger.audit.checkpoint import (
    Checkpoint,
    MalformedCheckpoint,
    open_checkpoint,
    parse_checkpoint_body,
    sign_checkpoint,
)
from ledger.audit.note import NoteVerifier, UnverifiedNote, generate_signer, signer_from_seed

ORIGIN = "grants.example.org/audit-log"
ROOT_8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
# The README's checkpoint of the 8-leaf test tree, signed with the seed-0x01 TEST key.
TEST_VKEY = "grants.example.org/audit-log+665cc081+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
SIGNED_CHECKPOINT = (
    "grants.example.org/audit-log\n"
    "8\n"
    "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    "\n"
    "— grants.example.org/audit-log "
    "ZlzAgXkwQ1bKugCose5UsAwmdGu6CLjvZwTMTkNbChNQCypX/az3VxTX4/B2j2/KssdInyCJPxRRs6cAsy9DGvlQ2Qc=\n"
)


def test_readme_checkpoint_verifies() -> None:
    checkpoint, key_ids = open_checkpoint(SIGNED_CHECKPOINT, [NoteVerifier.from_vkey(TEST_VKEY)])
    assert checkpoint == Checkpoint(ORIGIN, 8, ROOT_8)
    assert checkpoint.root_hex == ROOT_8.hex()
    assert key_ids == ("665cc081",)


def test_signing_with_the_test_seed_reproduces_the_readme_note() -> None:
    signer = signer_from_seed(ORIGIN, bytes([1]) * 32)
    assert signer.vkey == TEST_VKEY
    # Ed25519 is deterministic, so the signed note is byte-for-byte the same.
    assert sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT_8), signer) == SIGNED_CHECKPOINT


def test_body_round_trip_with_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, bytes(32), extensions=("ext one", "ext two"))
    body = checkpoint.body()
    assert body == f"{ORIGIN}\n0\n{base64.b64encode(bytes(32)).decode()}\next one\next two\n"
    assert parse_checkpoint_body(body) == checkpoint


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"{ORIGIN}\n8\n", id="no-root"),
        pytest.param(f"{ORIGIN}\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", id="leading-zero"),
        pytest.param(f"{ORIGIN}\n-8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", id="negative"),
        pytest.param(f"{ORIGIN}\n 8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", id="space"),
        pytest.param(f"{ORIGIN}\n8\nnot base64\n", id="bad-base64"),
        pytest.param(f"{ORIGIN}\n8\nXcnaeacGWamtVZy3\n", id="short-root"),
        pytest.param("\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", id="empty-origin"),
        pytest.param(f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n", id="empty-extension"),
        pytest.param(f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", id="no-final-newline"),
    ],
)
def test_malformed_bodies_are_rejected(body: str) -> None:
    with pytest.raises(MalformedCheckpoint):
        parse_checkpoint_body(body)


def test_only_the_origins_key_may_sign() -> None:
    other = generate_signer("someone.else/log")
    checkpoint = Checkpoint(ORIGIN, 8, ROOT_8)
    with pytest.raises(ValueError, match="cannot sign"):
        sign_checkpoint(checkpoint, other)
    # A note signed by a trusted key of another name does not count as a checkpoint signature.
    forged = other.sign(checkpoint.body())
    with pytest.raises(UnverifiedNote, match="not signed by a trusted key of that name"):
        open_checkpoint(forged, [other.verifier])


def test_witness_cosignatures_are_ignored() -> None:
    log = signer_from_seed(ORIGIN, bytes([1]) * 32)
    witness = generate_signer("witness.example/w1")
    cosignature = witness.sign(SIGNED_CHECKPOINT.split("\n\n")[0] + "\n").splitlines(keepends=True)[-1]
    checkpoint, key_ids = open_checkpoint(SIGNED_CHECKPOINT + cosignature, [log.verifier])
    assert checkpoint.size == 8
    assert key_ids == (log.key_id,)
