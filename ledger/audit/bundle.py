"""The audit export bundle: a directory anyone can verify offline.

Layout (DESIGN.md section 5)::

    entries.jsonl          one line per entry in seq order: exactly the
                           canonical bytes, then "\\n"; so SHA-256(0x00 || line
                           without its newline) is the entry's leaf hash
    checkpoints/<size>.txt every signed checkpoint (C2SP signed note), by tree size
    proofs/consistency-<m>-<n>.json
                           RFC 9162 consistency proof from each checkpoint to the
                           newest, as the proof API answers it (a saved checkpoint
                           is tied to the newest without reading the entries)
    keys.txt               the log's verifier keys, one vkey per line
    manifest.json          {"format": "community-fund-ledger-audit-export",
                            "format_version": 1, "origin": ..., "entry_count": n,
                            "last_seq": n, "latest_checkpoint_size": m | null}

This module knows the layout only: it writes bundles and reads their parts
lazily (entries as a stream, checkpoints file by file) so that verifying a
million-entry bundle needs little memory. Judging the contents is
:mod:`ledger.audit.log_verifier`'s job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ledger.audit.log_verifier import LogRecord, RecordSourceError, StoredRange
from ledger.audit.note import NoteError, NoteVerifier
from ledger.audit.report import Reason

ENTRIES_FILE = "entries.jsonl"
CHECKPOINTS_DIR = "checkpoints"
PROOFS_DIR = "proofs"
KEYS_FILE = "keys.txt"
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "community-fund-ledger-audit-export"
MANIFEST_FORMAT_VERSION = 1

_CHECKPOINT_FILE_PATTERN = re.compile(r"\A(0|[1-9][0-9]*)\.txt\Z")


class BundleError(ValueError):
    """A bundle file exists but does not have the documented form."""


def _non_negative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BundleError(f"manifest {name} must be a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True)
class Manifest:
    """What a bundle says about itself."""

    origin: str
    entry_count: int
    last_seq: int
    latest_checkpoint_size: int | None

    def to_json(self) -> str:
        """manifest.json content (stable key order, trailing newline)."""
        document = {
            "format": MANIFEST_FORMAT,
            "format_version": MANIFEST_FORMAT_VERSION,
            "origin": self.origin,
            "entry_count": self.entry_count,
            "last_seq": self.last_seq,
            "latest_checkpoint_size": self.latest_checkpoint_size,
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Parse manifest.json; raises :class:`BundleError`."""
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise BundleError(f"manifest.json is not JSON: {error}") from None
        if not isinstance(document, dict):
            raise BundleError("manifest.json is not a JSON object")
        if document.get("format") != MANIFEST_FORMAT:
            raise BundleError(f"manifest format is {document.get('format')!r}, not {MANIFEST_FORMAT!r}")
        version = document.get("format_version")
        if isinstance(version, bool) or version != MANIFEST_FORMAT_VERSION:
            raise BundleError(f"manifest format_version {version!r} is not supported")
        origin = document.get("origin")
        if not isinstance(origin, str) or not origin:
            raise BundleError("manifest origin must be a non-empty string")
        latest = document.get("latest_checkpoint_size")
        return cls(
            origin=origin,
            entry_count=_non_negative_int(document.get("entry_count"), "entry_count"),
            last_seq=_non_negative_int(document.get("last_seq"), "last_seq"),
            latest_checkpoint_size=(
                None if latest is None else _non_negative_int(latest, "latest_checkpoint_size")
            ),
        )


def checkpoint_file_name(size: int) -> str:
    """File name of the checkpoint of ``size`` inside ``checkpoints/``."""
    return f"{size}.txt"


def proof_file_name(size1: int, size2: int) -> str:
    """``proofs/consistency-<from>-<to>.json``: RFC 9162 consistency proof between two checkpoints."""
    return f"consistency-{size1}-{size2}.json"


def proof_document(size1: int, size2: int, hashes: Sequence[bytes]) -> bytes:
    """The proof as ``GET /api/v1/audit/proof/consistency`` answers it."""
    body = {"from": size1, "to": size2, "hashes": [h.hex() for h in hashes]}
    return (json.dumps(body, separators=(",", ":")) + "\n").encode("ascii")


def read_consistency_proof(directory: Path, size1: int, size2: int) -> list[bytes] | None:
    """The bundle's consistency proof from ``size1`` to ``size2``; None when it has none.

    Raises :class:`BundleError` for a file that is not such a proof.
    """
    path = directory / PROOFS_DIR / proof_file_name(size1, size2)
    if not path.is_file():
        return None
    try:
        body = json.loads(path.read_bytes())
        if body.get("from") != size1 or body.get("to") != size2:
            raise ValueError("its sizes are not the ones its name gives")
        return [bytes.fromhex(h) for h in body["hashes"]]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BundleError(f"{PROOFS_DIR}/{path.name} is not a consistency proof: {error}") from None


def read_manifest(directory: Path) -> Manifest:
    """Read and parse ``manifest.json`` (OSError when missing, BundleError when bad)."""
    return Manifest.from_json((directory / MANIFEST_FILE).read_bytes())


def iter_entry_records(lines: BinaryIO) -> Iterator[LogRecord]:
    """Records from an open ``entries.jsonl``: line N is seq N, newline removed."""
    for position, line in enumerate(lines, start=1):
        if not line.endswith(b"\n"):
            raise RecordSourceError(
                position, Reason.NOT_CANONICAL, "last line of entries.jsonl has no newline"
            )
        yield LogRecord(seq=position, canonical=line[:-1])


@dataclass(frozen=True)
class EntriesFileRanges:
    """``entries.jsonl`` read by ranges of seq, for verification in parallel processes.

    ``starts`` maps the first seq of each range to the byte offset where its line begins.
    """

    path: Path
    starts: Mapping[int, int]

    def stored(self, first: int, last: int) -> StoredRange:
        """Lines ``first`` .. ``last``, newline removed; stops at a line without one."""
        end = self.starts.get(last + 1)
        with self.path.open("rb") as lines:
            lines.seek(self.starts[first])
            data = lines.read() if end is None else lines.read(end - self.starts[first])
        pieces = data.split(b"\n")[:-1]
        whole = data.endswith(b"\n")
        return StoredRange(list(range(first, first + len(pieces))), pieces, block=data if whole else None)


def entries_file_ranges(path: Path, range_size: int) -> tuple[EntriesFileRanges, int] | None:
    """``path`` cut into ranges of ``range_size`` lines, and its line count; None when its last
    line has no newline (the one-process verifier names that problem)."""
    starts: dict[int, int] = {}
    offset = 0
    count = 0
    line = b"\n"
    with path.open("rb") as lines:
        for count, line in enumerate(lines, start=1):  # count and line are read after the loop
            if count % range_size == 1 or range_size == 1:
                starts[count] = offset
            offset += len(line)
    if not line.endswith(b"\n"):
        return None
    return EntriesFileRanges(path, starts), count


def read_verifier_keys(path: Path) -> tuple[NoteVerifier, ...]:
    """Verifier keys from a ``keys.txt`` (blank lines and ``#`` comments skipped)."""
    verifiers: list[NoteVerifier] = []
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{path.name} is not UTF-8") from None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            verifiers.append(NoteVerifier.from_vkey(stripped))
        except NoteError as error:
            raise BundleError(f"{path.name} line {number} is not a verifier key: {error}") from None
    return tuple(verifiers)


class CheckpointFiles(Mapping[int, str]):
    """The bundle's checkpoints by tree size, each file read only when asked for."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._sizes: dict[int, str] = {}
        if not directory.is_dir():
            return  # a log that was never checkpointed has no checkpoints/
        for path in directory.iterdir():
            if path.name.startswith("."):
                continue  # editor and OS litter (.DS_Store), never written by us
            match = _CHECKPOINT_FILE_PATTERN.match(path.name)
            if match is None or not path.is_file():
                raise BundleError(f"{CHECKPOINTS_DIR}/{path.name} is not a <size>.txt checkpoint file")
            self._sizes[int(match.group(1))] = path.name

    def __getitem__(self, size: int) -> str:
        data = (self._directory / self._sizes[size]).read_bytes()
        # Undecodable bytes survive as surrogates, which the note parser rejects
        # as "not valid UTF-8": a verification failure, not a crash.
        return data.decode("utf-8", errors="surrogateescape")

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._sizes))

    def __len__(self) -> int:
        return len(self._sizes)


def write_bundle(
    directory: Path,
    entries: Iterable[bytes],
    checkpoints: Mapping[int, str],
    vkeys: Iterable[str],
    origin: str,
    proofs: Mapping[tuple[int, int], Sequence[bytes]] | None = None,
) -> Manifest:
    """Write a bundle of ``entries`` (canonical bytes, seq order) and return its manifest.

    ``proofs`` maps (from size, to size) to the consistency proof between those checkpoints:
    what a client needs to tie a checkpoint it saved to the bundle's newest without reading
    every entry.

    ``directory`` is created if needed. Entries are written as given: this is
    the exporter, not the verifier, and a faithful copy is what an auditor
    needs even if the stored log is damaged.
    """
    directory.mkdir(parents=True, exist_ok=True)
    entry_count = 0
    with (directory / ENTRIES_FILE).open("wb") as handle:
        for canonical in entries:
            if b"\n" in canonical:
                # Canonical JSON never contains a raw newline; this would break framing.
                raise ValueError(f"entry {entry_count + 1} contains a newline byte")
            handle.write(canonical + b"\n")
            entry_count += 1
    checkpoint_dir = directory / CHECKPOINTS_DIR
    checkpoint_dir.mkdir(exist_ok=True)
    for size, note in checkpoints.items():
        (checkpoint_dir / checkpoint_file_name(size)).write_bytes(note.encode("utf-8"))
    if proofs:
        proof_dir = directory / PROOFS_DIR
        proof_dir.mkdir(exist_ok=True)
        for (size1, size2), hashes in proofs.items():
            (proof_dir / proof_file_name(size1, size2)).write_bytes(proof_document(size1, size2, hashes))
    (directory / KEYS_FILE).write_bytes("".join(f"{vkey}\n" for vkey in vkeys).encode("utf-8"))
    manifest = Manifest(
        origin=origin,
        entry_count=entry_count,
        last_seq=entry_count,
        latest_checkpoint_size=max(checkpoints) if checkpoints else None,
    )
    (directory / MANIFEST_FILE).write_bytes(manifest.to_json().encode("utf-8"))
    return manifest
