"""Witness cosignatures of checkpoints (https://c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``).

A *witness* (cosigner) checks that every checkpoint a log shows it is consistent with the
previous one it saw, and then adds its own signature line to the checkpoint note::

    community-fund-ledger.example.org/audit
    42
    XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

    — community-fund-ledger.example.org/audit <log signature>
    — witness.example.org/w1 base64(key id || 8-byte timestamp || Ed25519 signature)

The signed message is not the note text itself but, exactly as the specification says::

    cosignature/v1
    time <POSIX seconds, ASCII decimal without leading zeros>
    <the whole checkpoint text, including its final newline>

so a cosignature states "as of this time, this is the largest consistent tree I have seen for
this log". The signature field is ``timestamp (u64, big-endian) || 64-byte Ed25519 signature``;
the timestamp must not exceed 2^63 - 1.

A cosigner key's id is ``SHA-256(name || "\\n" || 0x04 || 32-byte public key)[:4]`` (signature
type 0x04, not the 0x01 of plain note signatures), so one key pair can never pass for the other.
Keys travel as text in the signed-note ``vkey`` form with type byte 0x04:

* verifier key (public): ``name+<8 hex key id>+base64(0x04 || public key)``
* signer key (secret): ``PRIVATE+KEY+name+<8 hex key id>+base64(0x04 || seed)``

As for any signed note, verifiers ignore signature lines from keys they were not given; a line
from a given key (same name and key id) that does not verify is an error.

Needs only the standard library and ``cryptography`` (the offline verifier uses it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.audit.note import (
    SIGNATURE_LINE_PREFIX,
    KeyFormatError,
    MalformedNote,
    NoteSignature,
    split_note,
    validate_key_name,
)

ALGORITHM_COSIGNATURE_V1 = 0x04
"""Signature type byte of timestamped Ed25519 cosignatures (signed-note signature types)."""

HEADER = "cosignature/v1"
MAX_TIMESTAMP = 2**63 - 1

_KEY_ID_SIZE = 4
_TIMESTAMP_SIZE = 8
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
SIGNATURE_SIZE = _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE
"""Bytes after the key id in an Ed25519 cosignature: timestamp and signature."""
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"


class CosignatureError(ValueError):
    """A cosignature, or a cosigner key, could not be used."""


def cosigner_key_id(name: str, public_key: bytes) -> str:
    """Key id (8 lowercase hex digits) of an Ed25519 cosigner key: type byte 0x04 in the hash."""
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALGORITHM_COSIGNATURE_V1]) + public_key
    ).digest()
    return digest[:_KEY_ID_SIZE].hex()


def signed_message(text: str, timestamp: int) -> bytes:
    """The bytes a cosignature signs: header line, time line, then the checkpoint text."""
    _check_timestamp(timestamp)
    if not text.endswith("\n"):
        raise CosignatureError("the cosigned text must end with a newline")
    return f"{HEADER}\ntime {timestamp}\n{text}".encode()


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"cosignature timestamps are 0..2^63-1, not {timestamp!r}")


def _decode_key_material(encoded: str, what: str) -> bytes:
    try:
        material = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise KeyFormatError(f"{what} is not valid base64") from None
    if len(material) != 1 + _ED25519_KEY_SIZE:
        raise KeyFormatError(f"{what} is not a 32-byte Ed25519 key with its type byte")
    if material[0] != ALGORITHM_COSIGNATURE_V1:
        raise KeyFormatError(
            f"{what} has type 0x{material[0]:02x}, not 0x04 (a cosignature/v1 witness key); "
            "a 0x01 key is a log's note key, not a witness's"
        )
    return material[1:]


def _parse_key_id(text: str) -> str:
    if len(text) != 2 * _KEY_ID_SIZE or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise KeyFormatError(f"key id {text!r} is not 8 hex digits")
    return text.lower()


@dataclass(frozen=True)
class Cosignature:
    """One cosignature line, decoded: who (name, key id), when (timestamp) and the signature."""

    name: str
    key_id: str
    timestamp: int
    signature: bytes = field(repr=False)

    @classmethod
    def from_note_signature(cls, signature: NoteSignature) -> Cosignature:
        """Decode a note signature line as an Ed25519 cosignature (raises :class:`CosignatureError`)."""
        payload = signature.signature
        if len(payload) != SIGNATURE_SIZE:
            raise CosignatureError(
                f"signature by {signature.name}+{signature.key_id} has {len(payload)} bytes after "
                f"its key id; a cosignature/v1 has {SIGNATURE_SIZE} (timestamp and Ed25519 signature)"
            )
        (timestamp,) = struct.unpack(">Q", payload[:_TIMESTAMP_SIZE])
        if timestamp > MAX_TIMESTAMP:
            raise CosignatureError(f"cosignature timestamp {timestamp} exceeds 2^63 - 1")
        return cls(signature.name, signature.key_id, timestamp, payload[_TIMESTAMP_SIZE:])

    @property
    def line(self) -> str:
        """The note signature line, without its newline."""
        payload = bytes.fromhex(self.key_id) + struct.pack(">Q", self.timestamp) + self.signature
        return f"{SIGNATURE_LINE_PREFIX}{self.name} {base64.b64encode(payload).decode('ascii')}"


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness key the verifying party trusts: name, key id and Ed25519 public key."""

    name: str
    key_id: str
    public_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        if len(self.public_key) != _ED25519_KEY_SIZE:
            raise KeyFormatError("Ed25519 public keys are 32 bytes")
        if cosigner_key_id(self.name, self.public_key) != self.key_id:
            raise KeyFormatError(
                f"key id {self.key_id} is not the cosignature/v1 key id of {self.name}'s key"
            )

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``name+keyid+base64(0x04||public key)``; raises :class:`KeyFormatError`."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError("witness key must be name+keyid+base64key")
        name, key_id_text, encoded = parts
        validate_key_name(name)
        key_id = _parse_key_id(key_id_text)
        return cls(name=name, key_id=key_id, public_key=_decode_key_material(encoded, "witness key"))

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([ALGORITHM_COSIGNATURE_V1]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id}+{encoded}"

    def matches(self, signature: NoteSignature | Cosignature) -> bool:
        """True when the line claims to come from this key (same name and key id)."""
        return signature.name == self.name and signature.key_id == self.key_id

    def verifies(self, text: str, cosignature: Cosignature) -> bool:
        """True when ``cosignature`` is this key's valid cosignature over the checkpoint ``text``."""
        if not self.matches(cosignature) or len(cosignature.signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            message = signed_message(text, cosignature.timestamp)
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(cosignature.signature, message)
        except (InvalidSignature, CosignatureError):
            return False
        return True


@dataclass(frozen=True, eq=False)
class Cosigner:
    """A witness's private Ed25519 key with its name."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        validate_key_name(self.name)

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Cosigner:
        if len(seed) != _ED25519_KEY_SIZE:
            raise KeyFormatError("Ed25519 seeds are 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_skey(cls, skey: str) -> Cosigner:
        """Parse ``PRIVATE+KEY+name+keyid+base64(0x04||seed)``; raises :class:`KeyFormatError`."""
        text = skey.strip()
        if not text.startswith(_PRIVATE_KEY_PREFIX):
            raise KeyFormatError("witness signer key must start with PRIVATE+KEY+")
        parts = text[len(_PRIVATE_KEY_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError("witness signer key must be PRIVATE+KEY+name+keyid+base64key")
        name, key_id_text, encoded = parts
        validate_key_name(name)
        key_id = _parse_key_id(key_id_text)
        cosigner = cls.from_seed(name, _decode_key_material(encoded, "witness signer key"))
        if cosigner.key_id != key_id:
            raise KeyFormatError(f"key id {key_id} does not match witness signer key {name}")
        return cosigner

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes_raw()

    @property
    def key_id(self) -> str:
        return cosigner_key_id(self.name, self.public_key)

    @property
    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.key_id, self.public_key)

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    @property
    def skey(self) -> str:
        """Signer key text; keep it secret."""
        seed = self.private_key.private_bytes_raw()
        encoded = base64.b64encode(bytes([ALGORITHM_COSIGNATURE_V1]) + seed).decode("ascii")
        return f"{_PRIVATE_KEY_PREFIX}{self.name}+{self.key_id}+{encoded}"

    def cosign(self, text: str, timestamp: int | None = None) -> Cosignature:
        """Cosign the checkpoint ``text`` (the note text, ending in a newline) as of ``timestamp``."""
        when = int(time.time()) if timestamp is None else timestamp
        signature = self.private_key.sign(signed_message(text, when))
        return Cosignature(self.name, self.key_id, when, signature)


# --- cosignatures on a signed note ---------------------------------------------


@dataclass(frozen=True)
class CosignatureCheck:
    """What the given witness keys say about one signed note.

    ``valid`` holds one cosignature per distinct given witness key that verified; ``invalid``
    describes lines that claim a given key but do not verify (or are no cosignature at all).
    Lines from other keys (the log's own, unknown witnesses) are not looked at.
    """

    valid: tuple[Cosignature, ...]
    invalid: tuple[str, ...]


def check_cosignatures(note: str, witnesses: Iterable[CosignatureVerifier]) -> CosignatureCheck:
    """Verify the cosignature lines of ``note`` made by ``witnesses``; raises :class:`MalformedNote`."""
    text, signatures = split_note(note)
    given = list(witnesses)
    valid: dict[tuple[str, str], Cosignature] = {}
    invalid: list[str] = []
    for signature in signatures:
        verifier = next((w for w in given if w.matches(signature)), None)
        if verifier is None:
            continue
        try:
            cosignature = Cosignature.from_note_signature(signature)
        except CosignatureError as error:
            invalid.append(str(error))
            continue
        if verifier.verifies(text, cosignature):
            valid.setdefault((verifier.name, verifier.key_id), cosignature)
        else:
            invalid.append(
                f"cosignature by witness {verifier.name}+{verifier.key_id} (time {cosignature.timestamp}) "
                "does not verify"
            )
    return CosignatureCheck(tuple(valid.values()), tuple(invalid))


def append_signature_lines(note: str, lines: Iterable[str]) -> str:
    """``note`` with the signature ``lines`` added after its own, skipping lines it already has.

    The result is still a signed note: the text, the blank line, then all signature lines.
    Raises :class:`MalformedNote` when ``note`` is not a signed note.
    """
    split_note(note)  # syntax check
    present = set(note[note.rfind("\n\n") + 2 :].splitlines())
    extra = []
    for line in lines:
        bare = line.rstrip("\n")
        if not bare.startswith(SIGNATURE_LINE_PREFIX):
            raise MalformedNote(f"not a signature line: {bare[:40]!r}")
        if bare not in present:
            present.add(bare)
            extra.append(bare + "\n")
    return note + "".join(extra)
