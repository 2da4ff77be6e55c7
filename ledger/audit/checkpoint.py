"""Signed checkpoints of the audit log (https://c2sp.org/tlog-checkpoint).

A checkpoint states "the log called *origin* had *size* entries and this
Merkle root". Its body is three lines, then optional extension lines::

    grants.example.org/audit-log
    8
    XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

The body is the text of a C2SP signed note (:mod:`ledger.audit.note`). Signed
checkpoints are what make tampering evident: whoever holds an old checkpoint
can demand a consistency proof from it to any later one, and a rewritten
history cannot produce one. The log's key is named after its origin, so a
checkpoint only counts as signed when a trusted key *with that name* signed it;
other signatures (witness cosignatures, keys for other logs) are ignored.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.audit.note import NoteSigner, NoteVerifier, UnverifiedNote, open_note

ROOT_SIZE = 32
_SIZE_PATTERN = re.compile(r"\A(0|[1-9][0-9]*)\Z")


class MalformedCheckpoint(ValueError):
    """Checkpoint text that does not follow the tlog-checkpoint body format."""


def _check_line(line: str, what: str) -> None:
    if not line:
        raise MalformedCheckpoint(f"{what} is empty")
    if "\n" in line:
        raise MalformedCheckpoint(f"{what} contains a newline")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size and RFC 6962 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise MalformedCheckpoint(f"tree size must be a non-negative integer, got {self.size!r}")
        if len(self.root) != ROOT_SIZE:
            raise MalformedCheckpoint(f"root hash must be {ROOT_SIZE} bytes, got {len(self.root)}")
        for extension in self.extensions:
            _check_line(extension, "extension line")

    @property
    def root_hex(self) -> str:
        """The root hash as lowercase hex (how the API and statements show it)."""
        return self.root.hex()

    def body(self) -> str:
        """The checkpoint note text: origin, size, base64 root, extensions, each + newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        lines.extend(self.extensions)
        return "".join(f"{line}\n" for line in lines)


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Parse a checkpoint body; raises :class:`MalformedCheckpoint`."""
    if not text.endswith("\n"):
        raise MalformedCheckpoint("checkpoint body must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpoint("checkpoint body needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not _SIZE_PATTERN.match(size_text):
        raise MalformedCheckpoint(f"tree size {size_text!r} is not a decimal without leading zeros")
    try:
        root = base64.b64decode(root_text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedCheckpoint("root hash is not valid base64") from None
    return Checkpoint(origin=origin, size=int(size_text), root=root, extensions=tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a signed note; the signer's key name must be the origin."""
    if signer.name != checkpoint.origin:
        raise ValueError(f"key {signer.name!r} cannot sign checkpoints of origin {checkpoint.origin!r}")
    return signer.sign(checkpoint.body())


def open_checkpoint(note: str, verifiers: Iterable[NoteVerifier]) -> tuple[Checkpoint, tuple[str, ...]]:
    """Verify a signed checkpoint and return it with the key ids that signed it.

    Only signatures by trusted keys named after the checkpoint's origin count.
    Raises a :class:`ledger.audit.note.NoteError` (malformed note, bad
    signature, no trusted signature) or :class:`MalformedCheckpoint`.
    """
    opened = open_note(note, verifiers)
    # The text is only parsed after a signature verified, as the note spec requires.
    checkpoint = parse_checkpoint_body(opened.text)
    key_ids = tuple(s.key_id for s in opened.signatures if s.name == checkpoint.origin)
    if not key_ids:
        signers = ", ".join(f"{s.name}+{s.key_id}" for s in opened.signatures)
        raise UnverifiedNote(
            f"checkpoint for origin {checkpoint.origin!r} is not signed by a trusted key of "
            f"that name (trusted signatures: {signers})"
        )
    return checkpoint, key_ids
