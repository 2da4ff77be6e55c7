"""Offline verifier for audit export bundles.

Usage::

    python -m ledger.audit.verify DIR [--key VKEY ...] [--trusted-checkpoint FILE ...]
                                      [--witness-key VKEY ... [--witness-quorum N]]
                                      [--workers N] [--quiet] [--progress] [--books]

Checks, streaming and in this order: every line of ``entries.jsonl`` is
canonical JCS and a valid entry; ``seq`` runs 1..n without gaps; every
``prev`` is the previous leaf hash; every checkpoint is signed by a trusted
key for the manifest's origin and its root is the Merkle root of that prefix
of the log; no checkpoint is larger than the log; the manifest's counts match.

Saved checkpoints: each ``--trusted-checkpoint FILE`` is a signed checkpoint
the auditor kept from an earlier visit (``GET /api/v1/audit/checkpoint``, or a
file of an earlier bundle's ``checkpoints/``). The log must still contain it:
its root must be the root of the log at its size. A log cut short or
rewritten since (even with all of its own checkpoints replaced or removed)
fails with ``trusted_checkpoint_beyond_log`` or ``trusted_checkpoint_mismatch``.

Witnesses: each ``--witness-key VKEY`` is a witness's cosignature/v1 verifier
key (``name+keyid+base64(0x04 || key)``, C2SP tlog-cosignature). Wherever a
checkpoint (the bundle's or a saved one) carries a cosignature line claiming one
of these keys, it must verify (``cosignature_invalid``). The newest checkpoint of
the bundle (the largest size in ``checkpoints/``) must carry valid cosignatures
from at least ``--witness-quorum N`` distinct given keys (default: all of them;
0 when no key is given), else ``FAIL checkpoint=<size>: witness_quorum_not_met:
... carries K valid cosignature(s) of the N needed ...``. Cosignatures from keys
not given are ignored. A malformed ``--witness-key``, or a quorum the given keys
can never meet, is a usage error (exit 2, one line naming the argument).

Trust: keys given with ``--key`` are the anchors; checkpoints must verify with
them and the bundle's own ``keys.txt`` is ignored. Without ``--key`` the keys
in ``keys.txt`` are used, which only shows the bundle is internally
consistent (a forger would ship their own key), and the summary says so.

Exit status: 0 when the bundle is sound (a short summary on stdout, nothing
with ``--quiet``); 1 with one line ``FAIL seq=<n>: <reason>: <message>`` (or
``checkpoint=<size>`` / ``bundle``) naming the first problem; 2 for usage
errors and a missing directory. Progress goes to stderr, only when stderr is a
terminal or ``--progress`` is given, so stdout stays machine-readable.

Books: with ``--books``, once the bundle verifies, every organisation's trial
balance is rebuilt from the bundle's entries alone (replayed into a fresh
in-memory database, :mod:`ledger.rebuilt_books`) and printed: the
organisation, then account code, name, currency, debit, credit and balance per
account, then the totals; money as decimal strings. Only this option needs the
service's code (Flask, SQLAlchemy); it is imported when asked for.

Needs only the standard library and ``cryptography``: no Flask,
no database.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from ledger.audit.bundle import (
    CHECKPOINTS_DIR,
    ENTRIES_FILE,
    KEYS_FILE,
    MANIFEST_FILE,
    PROOFS_DIR,
    BundleError,
    CheckpointFiles,
    Manifest,
    entries_file_ranges,
    iter_entry_records,
    proof_file_name,
    read_consistency_proof,
    read_manifest,
    read_verifier_keys,
)
from ledger.audit.checkpoint import MalformedCheckpoint, parse_checkpoint_body
from ledger.audit.cosignature import CosignatureVerifier
from ledger.audit.log_verifier import (
    DEFAULT_PROGRESS_INTERVAL,
    LogRecord,
    ProgressCallback,
    RecordSourceError,
    TrustedCheckpoint,
    verify_log,
)
from ledger.audit.merkle import EMPTY_ROOT, ProofError, verify_consistency
from ledger.audit.note import NoteError, NoteVerifier, split_note
from ledger.audit.parallel_verifier import Parallelism, verify_log_in_ranges
from ledger.audit.report import Reason, Trust, VerificationReport

__all__ = [
    "LogRecord",
    "RecordSourceError",
    "TrustedCheckpoint",
    "VerificationReport",
    "main",
    "verify_bundle",
    "verify_log",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _bundle_failure(reason: Reason, message: str, origin: str, trust: Trust) -> VerificationReport:
    return VerificationReport(
        ok=False,
        origin=origin,
        trust=trust,
        entries_checked=0,
        log_root_hex=EMPTY_ROOT.hex(),
        reason=reason,
        message=message,
    )


def _manifest_problem(manifest: Manifest, report: VerificationReport, sizes: list[int]) -> str | None:
    count = report.entries_checked
    if manifest.entry_count != count:
        return f"manifest says {manifest.entry_count} entries, entries.jsonl holds {count}"
    if manifest.last_seq != count:
        return f"manifest says last seq {manifest.last_seq}, the log ends at seq {count}"
    latest = max(sizes) if sizes else None
    if manifest.latest_checkpoint_size != latest:
        return (
            f"manifest says latest checkpoint size {manifest.latest_checkpoint_size}, "
            f"checkpoints/ holds {latest}"
        )
    return None


def verify_bundle(
    directory: Path,
    anchors: Sequence[NoteVerifier] = (),
    *,
    progress: ProgressCallback | None = None,
    progress_interval: int = DEFAULT_PROGRESS_INTERVAL,
    trusted: Sequence[TrustedCheckpoint] = (),
    witnesses: Sequence[CosignatureVerifier] = (),
    witness_quorum: int = 0,
    workers: int | None = None,
) -> VerificationReport:
    """Verify the export bundle in ``directory``.

    ``anchors`` are trusted verifier keys; when empty, the bundle's
    ``keys.txt`` is used instead and the report's trust is ``bundle keys``.
    ``trusted`` are checkpoints saved earlier that the bundle's log must contain.
    ``witnesses`` and ``witness_quorum``: see :func:`ledger.audit.log_verifier.verify_log`.
    ``workers``: processes verifying ranges of a large log in parallel (default: the cores this
    process may use; 1 verifies the ranges in this process).
    Raises only for an unreadable directory; every finding is in the report.
    """
    trust = Trust.ANCHORED if anchors else Trust.BUNDLE_KEYS
    for required in (MANIFEST_FILE, ENTRIES_FILE, KEYS_FILE):
        if not (directory / required).is_file():
            return _bundle_failure(Reason.MISSING_FILE, f"{required} is missing", "", trust)
    try:
        manifest = read_manifest(directory)
        checkpoints = CheckpointFiles(directory / CHECKPOINTS_DIR)
        verifiers = tuple(anchors) if anchors else read_verifier_keys(directory / KEYS_FILE)
    except BundleError as error:
        return _bundle_failure(Reason.MANIFEST_MISMATCH, str(error), "", trust)
    entries = directory / ENTRIES_FILE
    parallelism = Parallelism.from_environment(workers)
    ranges = entries_file_ranges(entries, parallelism.range_size)

    def records() -> Iterator[LogRecord]:
        with entries.open("rb") as lines:
            yield from iter_entry_records(lines)

    report = verify_log_in_ranges(
        ranges[0] if ranges else None,
        ranges[1] if ranges else None,
        records,
        checkpoints,
        verifiers,
        manifest.origin,
        parallelism=parallelism,
        trust=trust,
        progress=progress,
        progress_interval=progress_interval,
        trusted=trusted,
        witnesses=witnesses,
        witness_quorum=witness_quorum,
    )
    if not report.ok:
        return report
    problem = _manifest_problem(manifest, report, list(checkpoints))
    if problem is not None:
        return dataclasses.replace(report, ok=False, reason=Reason.MANIFEST_MISMATCH, message=problem)
    return _check_proofs(directory, checkpoints, trusted, report)


def _root_of(note: str) -> bytes:
    return parse_checkpoint_body(split_note(note)[0]).root


def _check_proofs(
    directory: Path,
    checkpoints: CheckpointFiles,
    trusted: Sequence[TrustedCheckpoint],
    report: VerificationReport,
) -> VerificationReport:
    """The bundle's consistency proofs tie each checkpoint, and each saved one, to the newest.

    The log was verified entry by entry, so every root is already known to be right; the
    proofs are checked so that a bundle never carries one that a lighter client would trust
    wrongly, and a saved checkpoint's proof must be there (what a client without the entries
    needs). Bundles exported before proofs were carried have none and pass without saved ones.
    """
    sizes = list(checkpoints)
    if not sizes:
        return report
    newest = sizes[-1]
    newest_root = _root_of(checkpoints[newest])
    wanted = {size: ("checkpoint", _root_of(checkpoints[size])) for size in sizes[:-1]}
    wanted.update(
        {
            t.size: (f"the checkpoint you saved ({t.name})", _root_of(t.note))
            for t in trusted
            if t.size < newest
        }
    )
    saved = {t.size for t in trusted}
    for size, (what, root) in sorted(wanted.items()):
        try:
            proof = read_consistency_proof(directory, size, newest)
        except BundleError as error:
            return dataclasses.replace(
                report,
                ok=False,
                reason=Reason.CONSISTENCY_PROOF_INVALID,
                message=str(error),
                checkpoint_size=size,
            )
        if proof is None:
            if size in saved:
                message = f"{PROOFS_DIR}/{proof_file_name(size, newest)} is missing: no consistency proof from {what} to the newest checkpoint ({newest})"
                return dataclasses.replace(
                    report, ok=False, reason=Reason.MISSING_FILE, message=message, checkpoint_size=size
                )
            continue
        try:
            verify_consistency(size, newest, proof, root, newest_root)
        except ProofError as error:
            message = f"the consistency proof from {what} (size {size}) to the newest checkpoint ({newest}) does not hold: {error}"
            return dataclasses.replace(
                report,
                ok=False,
                reason=Reason.CONSISTENCY_PROOF_INVALID,
                message=message,
                checkpoint_size=size,
            )
    return report


# --- command line ------------------------------------------------------------


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.audit.verify",
        description="Verify a Community Fund Ledger audit export bundle offline.",
    )
    parser.add_argument("directory", type=Path, help="the export bundle directory")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="VKEY",
        help="trusted verifier key (name+keyid+base64); repeat for rotated keys. "
        "Without it the bundle's own keys.txt is used.",
    )
    parser.add_argument(
        "--trusted-checkpoint",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a signed checkpoint you saved earlier; the log must still contain it (repeatable)",
    )
    parser.add_argument(
        "--witness-key",
        action="append",
        default=[],
        metavar="VKEY",
        help="a witness's cosignature verifier key (name+keyid+base64, type 0x04); repeatable",
    )
    parser.add_argument(
        "--witness-quorum",
        type=int,
        default=None,
        metavar="N",
        help="valid cosignatures from distinct --witness-key keys the newest checkpoint needs "
        "(default: all given keys; 0 without --witness-key)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes verifying ranges of a large log in parallel (default: the cores available; "
        "1: this process only)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing when the bundle is sound")
    parser.add_argument(
        "--books",
        action="store_true",
        help="after the bundle verifies, print each organisation's trial balance rebuilt from it",
    )
    parser.add_argument(
        "--progress", action="store_true", help="report progress on stderr even when it is not a terminal"
    )
    parser.add_argument(
        "--progress-interval",
        type=int,
        default=DEFAULT_PROGRESS_INTERVAL,
        metavar="N",
        help=f"entries between progress reports (default {DEFAULT_PROGRESS_INTERVAL})",
    )
    return parser


def _progress_printer(directory: Path, stream: TextIO) -> ProgressCallback:
    try:
        total: int | None = read_manifest(directory).entry_count
    except (OSError, BundleError):
        total = None  # verify_bundle will report the manifest problem itself

    def report_progress(checked: int) -> None:
        if total:
            stream.write(f"verified {checked} of {total} entries ({100 * checked // total}%)\n")
        else:
            stream.write(f"verified {checked} entries\n")
        stream.flush()

    return report_progress


def read_trusted_checkpoints(paths: Sequence[Path]) -> list[TrustedCheckpoint]:
    """The signed checkpoints in ``paths``; a ValueError names the file that is unreadable or no checkpoint."""
    trusted = []
    for path in paths:
        try:
            note = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: cannot be read: {error}") from None
        try:
            trusted.append(TrustedCheckpoint.read(str(path), note))
        except (NoteError, MalformedCheckpoint) as error:
            raise ValueError(f"{path}: not a signed checkpoint: {error}") from None
    return trusted


def witness_options(vkeys: Sequence[str], quorum: int | None) -> tuple[list[CosignatureVerifier], int]:
    """Parse ``--witness-key`` values and ``--witness-quorum`` (None: all the distinct keys).

    Raises ValueError with one line naming the argument that is wrong.
    """
    witnesses: list[CosignatureVerifier] = []
    for vkey in vkeys:
        try:
            witnesses.append(CosignatureVerifier.from_vkey(vkey))
        except NoteError as error:
            raise ValueError(f"--witness-key {vkey!r}: {error}") from None
    distinct = list(dict.fromkeys(witnesses))
    needed = len(distinct) if quorum is None else quorum
    if needed < 0:
        raise ValueError(f"--witness-quorum {needed}: must be 0 or more")
    if needed > len(distinct):
        raise ValueError(
            f"--witness-quorum {needed}: only {len(distinct)} distinct --witness-key key(s) given, "
            "so it could never be met"
        )
    return distinct, needed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier; returns the exit status."""
    parser = _argument_parser()
    arguments = parser.parse_args(argv)
    directory: Path = arguments.directory
    if arguments.progress_interval < 1:
        parser.error("--progress-interval must be at least 1")
    if arguments.workers is not None and arguments.workers < 1:
        parser.error("--workers must be at least 1")
    try:
        anchors = [NoteVerifier.from_vkey(vkey) for vkey in arguments.key]
    except NoteError as error:
        parser.error(f"--key: {error}")
    try:
        witnesses, witness_quorum = witness_options(arguments.witness_key, arguments.witness_quorum)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        trusted = read_trusted_checkpoints(arguments.trusted_checkpoint)
    except ValueError as error:
        print(f"error: --trusted-checkpoint {error}", file=sys.stderr)
        return EXIT_USAGE
    if not directory.is_dir():
        print(f"error: {directory} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    progress = None
    if arguments.progress or sys.stderr.isatty():
        progress = _progress_printer(directory, sys.stderr)
    try:
        report = verify_bundle(
            directory,
            anchors,
            progress=progress,
            progress_interval=arguments.progress_interval,
            trusted=trusted,
            witnesses=witnesses,
            witness_quorum=witness_quorum,
            workers=arguments.workers,
        )
    except OSError as error:
        print(f"error: cannot read the bundle: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not report.ok:
        print(report.failure_line())
        return EXIT_FAILED
    if not arguments.quiet:
        print("\n".join(report.summary_lines()))
    if arguments.books:
        return _print_books(directory, progress is not None)
    return EXIT_OK


def _print_books(directory: Path, show_progress: bool) -> int:
    """``--books``: the trial balances rebuilt from the bundle (imports the service's code only now)."""
    from ledger.rebuilt_books import rebuilt_books
    from ledger.replay.rebuild import RebuildError

    def report_progress(replayed: int) -> None:
        sys.stderr.write(f"replayed {replayed} entries\n")
        sys.stderr.flush()

    try:
        books = rebuilt_books(directory, report_progress if show_progress else None)
    except RebuildError as error:
        print(f"FAIL bundle: replay: {error}")
        return EXIT_FAILED
    print("\n".join(books.lines()))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
