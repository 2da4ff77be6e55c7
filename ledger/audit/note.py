"""C2SP signed notes with Ed25519 keys (https://c2sp.org/signed-note).

A signed note is a UTF-8 text that ends in a newline, then a blank line, then
one or more signature lines::

    <text, ending in "\\n">
    <blank line>
    — <key name> base64(4-byte key id || signature)

The dash is U+2014. The signature covers exactly the text (including its final
newline, excluding the blank separator line). The text may itself contain blank
lines; the *last* blank line separates it from the signatures.

A key is identified by its *name* (non-empty, no Unicode whitespace, no ``+``)
together with its *key id*, the first four bytes of
``SHA-256(name || "\\n" || 0x01 || 32-byte Ed25519 public key)``. Keys travel
as text:

* verifier key (public, published): ``name+<8 hex key id>+base64(0x01 || public key)``
* signer key (secret): ``PRIVATE+KEY+name+<8 hex key id>+base64(0x01 || seed)``

Verification follows the specification: signatures from unknown keys (a name
and key id pair nobody configured) are ignored, so notes can carry witness
cosignatures and survive key rotation; a signature from a known key that does
not verify rejects the whole note; a note with no verified signature from a
known key is rejected.

For storage at rest a signer can be written as a PKCS#8 PEM, encrypted with a
passphrase, so the server can keep its private key in the instance folder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM_ED25519 = 0x01
"""Signature type byte for Ed25519 in key ids and key texts."""

SIGNATURE_LINE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
"""Upper bound on signature lines, as the spec asks verifiers to impose (>= 16)."""

_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"


class NoteError(ValueError):
    """A signed note or a note key could not be accepted."""


class MalformedNote(NoteError):
    """The note is not in signed-note syntax (no signature block, bad line, ...)."""


class UnverifiedNote(NoteError):
    """No signature on the note comes from a known key."""


class BadSignature(NoteError):
    """A signature by a known key (same name and key id) does not verify."""


class KeyFormatError(NoteError):
    """A key name, verifier key, signer key or PEM key could not be used."""


def validate_key_name(name: str) -> None:
    """Raise :class:`KeyFormatError` unless ``name`` is a valid note key name."""
    if not name:
        raise KeyFormatError("key name is empty")
    if "+" in name:
        raise KeyFormatError(f"key name {name!r} contains '+'")
    if any(character.isspace() for character in name):
        raise KeyFormatError(f"key name {name!r} contains whitespace")
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in name):
        raise KeyFormatError(f"key name {name!r} contains a control character")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise KeyFormatError("key name is not valid UTF-8") from None


def compute_key_id(name: str, public_key: bytes) -> str:
    """Key id (8 lowercase hex digits) of an Ed25519 public key under ``name``."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALGORITHM_ED25519]) + public_key).digest()
    return digest[:_KEY_ID_SIZE].hex()


def _decode_base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise KeyFormatError(f"{what} is not valid base64") from None


def _parse_key_id(text: str) -> str:
    if len(text) != 2 * _KEY_ID_SIZE or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise KeyFormatError(f"key id {text!r} is not 8 hex digits")
    return text.lower()


def _split_key_material(encoded: str, what: str) -> bytes:
    material = _decode_base64(encoded, what)
    if len(material) != 1 + _ED25519_KEY_SIZE or material[0] != ALGORITHM_ED25519:
        raise KeyFormatError(f"{what} is not an Ed25519 key (type 0x01, 32 bytes)")
    return material[1:]


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted public key: name, key id and 32-byte Ed25519 public key."""

    name: str
    key_id: str
    public_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        if len(self.public_key) != _ED25519_KEY_SIZE:
            raise KeyFormatError("Ed25519 public keys are 32 bytes")
        if compute_key_id(self.name, self.public_key) != self.key_id:
            raise KeyFormatError(f"key id {self.key_id} does not match key {self.name}")

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``name+keyid+base64(0x01||public key)``."""
        # Split only twice: the base64 key may itself contain '+'.
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError("verifier key must be name+keyid+base64key")
        name, key_id_text, encoded = parts
        validate_key_name(name)
        key_id = _parse_key_id(key_id_text)
        public_key = _split_key_material(encoded, "verifier key")
        return cls(name=name, key_id=key_id, public_key=public_key)

    @property
    def vkey(self) -> str:
        """The verifier key text to publish."""
        encoded = base64.b64encode(bytes([ALGORITHM_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id}+{encoded}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature over ``text``."""
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, eq=False)
class NoteSigner:
    """A private Ed25519 signing key with its note key name."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        validate_key_name(self.name)

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self.private_key.public_key().public_bytes_raw()

    @property
    def key_id(self) -> str:
        """Key id, 8 lowercase hex digits."""
        return compute_key_id(self.name, self.public_key)

    @property
    def verifier(self) -> NoteVerifier:
        """The matching public verifier."""
        return NoteVerifier(name=self.name, key_id=self.key_id, public_key=self.public_key)

    @property
    def vkey(self) -> str:
        """Verifier key text to publish."""
        return self.verifier.vkey

    @property
    def skey(self) -> str:
        """Signer key text ``PRIVATE+KEY+name+keyid+base64(0x01||seed)``; keep it secret."""
        seed = self.private_key.private_bytes_raw()
        encoded = base64.b64encode(bytes([ALGORITHM_ED25519]) + seed).decode("ascii")
        return f"{_PRIVATE_KEY_PREFIX}{self.name}+{self.key_id}+{encoded}"

    def sign(self, text: str) -> str:
        """Signed note: ``text``, a blank line and this key's signature line."""
        _check_note_text(text)
        signature = self.private_key.sign(text.encode("utf-8"))
        payload = bytes.fromhex(self.key_id) + signature
        encoded = base64.b64encode(payload).decode("ascii")
        return f"{text}\n{SIGNATURE_LINE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: who signed (name and key id) and the signature bytes."""

    name: str
    key_id: str
    signature: bytes = field(repr=False)


@dataclass(frozen=True)
class SignedNote:
    """An opened note: its text and the signatures that verified with known keys."""

    text: str
    signatures: tuple[NoteSignature, ...]
    ignored: tuple[NoteSignature, ...] = ()
    """Signatures from keys the caller did not supply (witnesses, rotated keys)."""


def _check_note_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedNote("note text must end with a newline")
    _check_characters(text)


def _check_characters(note: str) -> None:
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNote("note is not valid UTF-8") from None
    for character in note:
        if character < " " and character != "\n":
            raise MalformedNote(f"note contains control character U+{ord(character):04X}")


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_LINE_PREFIX):
        raise MalformedNote(f"signature line does not start with an em dash: {line[:40]!r}")
    fields = line[len(SIGNATURE_LINE_PREFIX) :].split(" ")
    if len(fields) != 2:
        raise MalformedNote("signature line must be '— <key name> <base64 signature>'")
    name, encoded = fields
    try:
        validate_key_name(name)
        payload = _decode_base64(encoded, "signature")
    except KeyFormatError as error:
        raise MalformedNote(str(error)) from None
    if len(payload) <= _KEY_ID_SIZE:
        raise MalformedNote("signature is too short to hold a key id and a signature")
    return NoteSignature(name=name, key_id=payload[:_KEY_ID_SIZE].hex(), signature=payload[_KEY_ID_SIZE:])


def parse_signature_line(line: str) -> NoteSignature:
    """Parse one ``— <key name> <base64>`` line (a trailing newline is allowed).

    Raises :class:`MalformedNote`. Only syntax is checked, nothing is verified.
    """
    bare = line[:-1] if line.endswith("\n") else line
    _check_characters(bare)
    if "\n" in bare:
        raise MalformedNote("a signature line cannot contain a newline")
    return _parse_signature_line(bare)


def format_signature_line(signature: NoteSignature) -> str:
    """The signature line of ``signature``, without its newline."""
    encoded = base64.b64encode(bytes.fromhex(signature.key_id) + signature.signature).decode("ascii")
    return f"{SIGNATURE_LINE_PREFIX}{signature.name} {encoded}"


def split_note(note: str) -> tuple[str, tuple[NoteSignature, ...]]:
    """Split a signed note into its text and its (unverified) signatures.

    Only syntax is checked; use :func:`open_note` before trusting the text.
    """
    _check_characters(note)
    if not note.endswith("\n"):
        raise MalformedNote("note must end with a newline")
    separator = note.rfind("\n\n")
    if separator < 0:
        raise MalformedNote("note has no blank line before its signatures")
    text = note[: separator + 1]
    signature_lines = note[separator + 2 : -1].split("\n")
    if signature_lines == [""]:
        raise MalformedNote("note has no signature lines")
    if len(signature_lines) > MAX_SIGNATURES:
        raise MalformedNote(f"note has more than {MAX_SIGNATURES} signatures")
    return text, tuple(_parse_signature_line(line) for line in signature_lines)


def _index_verifiers(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, str], NoteVerifier]:
    index: dict[tuple[str, str], NoteVerifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        known = index.get(key)
        if known is not None and known.public_key != verifier.public_key:
            # Two different keys with one name and id make every signature ambiguous.
            raise KeyFormatError(f"two different keys share name {key[0]} and key id {key[1]}")
        index[key] = verifier
    return index


def open_note(note: str, verifiers: Iterable[NoteVerifier]) -> SignedNote:
    """Verify ``note`` against ``verifiers`` and return its text and verified signatures.

    Raises :class:`MalformedNote` for bad syntax, :class:`BadSignature` when a
    known key's signature fails, :class:`UnverifiedNote` when no known key signed.
    """
    text, signatures = split_note(note)
    known = _index_verifiers(verifiers)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    ignored: list[NoteSignature] = []
    seen: set[tuple[str, str]] = set()
    for signature in signatures:
        key = (signature.name, signature.key_id)
        verifier = known.get(key)
        if verifier is None:
            ignored.append(signature)
            continue
        if not verifier.verifies(message, signature.signature):
            raise BadSignature(f"signature by {signature.name}+{signature.key_id} does not verify")
        if key not in seen:
            seen.add(key)
            verified.append(signature)
    if not verified:
        signers = ", ".join(f"{s.name}+{s.key_id}" for s in signatures)
        raise UnverifiedNote(f"no signature from a known key (signed by {signers})")
    return SignedNote(text=text, signatures=tuple(verified), ignored=tuple(ignored))


# --- key creation and storage ------------------------------------------------


def generate_signer(name: str) -> NoteSigner:
    """A new random Ed25519 signer under ``name``."""
    return NoteSigner(name=name, private_key=Ed25519PrivateKey.generate())


def signer_from_seed(name: str, seed: bytes) -> NoteSigner:
    """Signer from a 32-byte Ed25519 seed (RFC 8032 private key)."""
    if len(seed) != _ED25519_KEY_SIZE:
        raise KeyFormatError("Ed25519 seeds are 32 bytes")
    return NoteSigner(name=name, private_key=Ed25519PrivateKey.from_private_bytes(seed))


def signer_from_skey(skey: str) -> NoteSigner:
    """Parse ``PRIVATE+KEY+name+keyid+base64(0x01||seed)``."""
    text = skey.strip()
    if not text.startswith(_PRIVATE_KEY_PREFIX):
        raise KeyFormatError("signer key must start with PRIVATE+KEY+")
    parts = text[len(_PRIVATE_KEY_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError("signer key must be PRIVATE+KEY+name+keyid+base64key")
    name, key_id_text, encoded = parts
    validate_key_name(name)
    key_id = _parse_key_id(key_id_text)
    signer = signer_from_seed(name, _split_key_material(encoded, "signer key"))
    if signer.key_id != key_id:
        raise KeyFormatError(f"key id {key_id} does not match signer key {name}")
    return signer


def signer_to_pem(signer: NoteSigner, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM of the signer's private key, encrypted when a passphrase is given.

    The key name is not part of the PEM; store it alongside (it is public).
    """
    encryption: serialization.KeySerializationEncryption
    if passphrase is None:
        encryption = serialization.NoEncryption()
    elif not passphrase:
        raise KeyFormatError("an empty passphrase would not protect the key; pass None instead")
    else:
        encryption = serialization.BestAvailableEncryption(passphrase)
    return signer.private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=encryption,
    )


def signer_from_pem(name: str, pem: bytes, passphrase: bytes | None) -> NoteSigner:
    """Load a signer written by :func:`signer_to_pem`.

    Raises :class:`KeyFormatError` for a wrong or missing passphrase, a
    corrupt PEM, or a key that is not Ed25519.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except TypeError as error:
        # cryptography signals "encrypted but no passphrase" and the reverse this way.
        raise KeyFormatError(f"cannot load signing key: {error}") from None
    except ValueError:
        raise KeyFormatError("cannot load signing key: wrong passphrase or corrupt key file") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError("signing key is not an Ed25519 key")
    return NoteSigner(name=name, private_key=key)
