"""C2SP signed notes: the specification's example, key texts, tampering, passphrase PEM."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.audit.note import (
    BadSignature,
    KeyFormatError,
    MalformedNote,
    NoteVerifier,
    UnverifiedNote,
    generate_signer,
    open_note,
    signer_from_pem,
    signer_from_seed,
    signer_from_skey,
    signer_to_pem,
    split_note,
    validate_key_name,
)

# From the C2SP signed-note specification (see tests/audit/vectors/README.md).
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


@pytest.fixture(scope="module")
def spec_verifier() -> NoteVerifier:
    return NoteVerifier.from_vkey(SPEC_VKEY)


def test_specification_example_verifies(spec_verifier: NoteVerifier) -> None:
    opened = open_note(SPEC_NOTE, [spec_verifier])
    assert opened.text == "This is an example message.\n"
    assert [(s.name, s.key_id) for s in opened.signatures] == [("example.com/foo", "530d903a")]
    assert spec_verifier.vkey == SPEC_VKEY


def test_tampered_text_is_rejected(spec_verifier: NoteVerifier) -> None:
    with pytest.raises(BadSignature):
        open_note(SPEC_NOTE.replace("example message", "example massage"), [spec_verifier])


def test_tampered_signature_is_rejected(spec_verifier: NoteVerifier) -> None:
    text, (signature,) = split_note(SPEC_NOTE)
    payload = (
        bytes.fromhex(signature.key_id) + bytes([signature.signature[0] ^ 0x80]) + signature.signature[1:]
    )
    note = f"{text}\n— example.com/foo {base64.b64encode(payload).decode()}\n"
    with pytest.raises(BadSignature, match="does not verify"):
        open_note(note, [spec_verifier])


def test_signature_of_wrong_length_from_a_known_key_is_rejected(spec_verifier: NoteVerifier) -> None:
    payload = bytes.fromhex("530d903a") + bytes(10)
    note = f"This is an example message.\n\n— example.com/foo {base64.b64encode(payload).decode()}\n"
    with pytest.raises(BadSignature):
        open_note(note, [spec_verifier])


def test_unknown_keys_are_ignored_but_one_known_signature_is_needed(spec_verifier: NoteVerifier) -> None:
    ours = generate_signer("example.com/foo")  # same name, different key id: unknown
    witness = generate_signer("witness.example/w1")
    note = ours.sign("This is an example message.\n")
    cosigned = (
        SPEC_NOTE + note.splitlines(keepends=True)[-1] + witness.sign("x\n").splitlines(keepends=True)[-1]
    )
    opened = open_note(cosigned, [spec_verifier])
    assert [s.key_id for s in opened.signatures] == ["530d903a"]
    assert {s.name for s in opened.ignored} == {"example.com/foo", "witness.example/w1"}
    with pytest.raises(UnverifiedNote, match="no signature from a known key"):
        open_note(note, [spec_verifier])
    with pytest.raises(UnverifiedNote):
        open_note(SPEC_NOTE, [])


def test_signed_text_may_contain_blank_lines() -> None:
    signer = generate_signer("example.org/log")
    text = "first\n\nsecond\n\n"
    opened = open_note(signer.sign(text), [signer.verifier])
    assert opened.text == text


@pytest.mark.parametrize(
    "note",
    [
        pytest.param("text\n— example.com/foo AAAA\n", id="no-blank-line"),
        pytest.param("text\n\n", id="no-signatures"),
        pytest.param("text\n\n- example.com/foo Uw2QOkn8\n", id="hyphen-not-em-dash"),
        pytest.param("text\n\n— example.com/foo\n", id="no-signature-field"),
        pytest.param("text\n\n— example.com/foo a b\n", id="too-many-fields"),
        pytest.param("text\n\n— example.com/foo !!!!\n", id="bad-base64"),
        pytest.param("text\n\n— example.com/foo AAAA\n", id="payload-too-short"),
        pytest.param("text\n\n— example.com/foo U3cyQ2Zm", id="no-final-newline"),
        pytest.param("te\txt\n\n— example.com/foo U3cyQ2Zm\n", id="control-character"),
        pytest.param("text\n\n— example.com/foo U3cyQ2Zm\n\n", id="trailing-blank-line"),
        pytest.param("text\n\n— bad+name U3cyQ2Zm\n", id="bad-key-name"),
        pytest.param("text\n\n" + "— a/b U3cyQ2Zm\n" * 101, id="too-many-signatures"),
    ],
)
def test_malformed_notes_are_rejected(note: str, spec_verifier: NoteVerifier) -> None:
    with pytest.raises(MalformedNote):
        open_note(note, [spec_verifier])


def test_signing_needs_newline_terminated_text() -> None:
    signer = generate_signer("example.org/log")
    with pytest.raises(MalformedNote, match="newline"):
        signer.sign("no newline")


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u3000b", "a\nb"])
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(KeyFormatError):
        validate_key_name(name)
    with pytest.raises(KeyFormatError):
        generate_signer(name)


def test_vkey_and_skey_round_trip() -> None:
    signer = generate_signer("grants.example.org/audit-log")
    verifier = NoteVerifier.from_vkey(signer.vkey)
    assert verifier == signer.verifier
    assert verifier.key_id == signer.key_id
    restored = signer_from_skey(signer.skey)
    assert restored.skey == signer.skey
    assert restored.vkey == signer.vkey
    assert open_note(restored.sign("hello\n"), [verifier]).text == "hello\n"


def test_seed_signer_matches_the_published_test_key() -> None:
    signer = signer_from_seed("grants.example.org/audit-log", bytes([1]) * 32)
    assert signer.vkey == "grants.example.org/audit-log+665cc081+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
    assert signer.skey.startswith("PRIVATE+KEY+grants.example.org/audit-log+665cc081+")
    assert signer.private_key.private_bytes_raw() == bytes([1]) * 32
    assert "PRIVATE" not in repr(signer)


@pytest.mark.parametrize(
    "vkey",
    [
        pytest.param(
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", id="wrong-key-id"
        ),
        pytest.param(
            "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", id="wrong-name"
        ),
        pytest.param(
            "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", id="wrong-algorithm"
        ),
        pytest.param("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U", id="short-key"),
        pytest.param("example.com/foo+530d903a", id="two-parts"),
        pytest.param("example.com/foo+530d90+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", id="short-id"),
        pytest.param("example.com/foo+530d903a+not base64!", id="bad-base64"),
        pytest.param(
            "PRIVATE+KEY+example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", id="skey"
        ),
    ],
)
def test_malformed_vkeys_are_rejected(vkey: str) -> None:
    with pytest.raises(KeyFormatError):
        NoteVerifier.from_vkey(vkey)


def test_malformed_skeys_are_rejected() -> None:
    signer = generate_signer("example.org/log")
    with pytest.raises(KeyFormatError):
        signer_from_skey(signer.vkey)
    with pytest.raises(KeyFormatError, match="does not match"):
        signer_from_skey(signer.skey.replace(signer.key_id, "00000000"))


def test_passphrase_pem_round_trip() -> None:
    signer = generate_signer("grants.example.org/audit-log")
    pem = signer_to_pem(signer, b"correct horse battery staple")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    restored = signer_from_pem(signer.name, pem, b"correct horse battery staple")
    assert restored.vkey == signer.vkey
    with pytest.raises(KeyFormatError, match="wrong passphrase"):
        signer_from_pem(signer.name, pem, b"wrong")
    with pytest.raises(KeyFormatError):
        signer_from_pem(signer.name, pem, None)


def test_unencrypted_pem_round_trip_and_refusals() -> None:
    signer = generate_signer("grants.example.org/audit-log")
    pem = signer_to_pem(signer, None)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert signer_from_pem(signer.name, pem, None).key_id == signer.key_id
    with pytest.raises(KeyFormatError):
        signer_to_pem(signer, b"")
    with pytest.raises(KeyFormatError):
        signer_from_pem(signer.name, b"not a pem", None)
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyFormatError, match="not an Ed25519"):
        signer_from_pem(signer.name, ec_pem, None)


def test_key_texts_whose_base64_contains_plus() -> None:
    # Seed 0x3e repeated encodes with '+' in both key texts; only the first two '+' separate fields.
    signer = signer_from_seed("example.org/log", bytes([0x3E]) * 32)
    assert signer.vkey == "example.org/log+4598c70f+Aflcal3/Ax+sexpqVLZhDK64Ozn36KZr4W/1+qSlEe0t"
    assert NoteVerifier.from_vkey(signer.vkey) == signer.verifier
    assert signer_from_skey(signer.skey).vkey == signer.vkey
