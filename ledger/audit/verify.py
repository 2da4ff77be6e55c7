"""Offline verifier for audit export bundles.

Usage::

    python -m ledger.audit.verify DIR [--key VKEY ...] [--trusted-checkpoint FILE ...]
                                      [--quiet] [--progress]

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

Trust: keys given with ``--key`` are the anchors; checkpoints must verify with
them and the bundle's own ``keys.txt`` is ignored. Without ``--key`` the keys
in ``keys.txt`` are used, which only shows the bundle is internally
consistent (a forger would ship their own key), and the summary says so.

Exit status: 0 when the bundle is sound (a short summary on stdout, nothing
with ``--quiet``); 1 with one line ``FAIL seq=<n>: <reason>: <message>`` (or
``checkpoint=<size>`` / ``bundle``) naming the first problem; 2 for usage
errors and a missing directory. Progress goes to stderr, only when stderr is a
terminal or ``--progress`` is given, so stdout stays machine-readable.

Needs only the standard library, ``cryptography`` and ``rfc8785``: no Flask,
no database.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ledger.audit.bundle import (
    CHECKPOINTS_DIR,
    ENTRIES_FILE,
    KEYS_FILE,
    MANIFEST_FILE,
    BundleError,
    CheckpointFiles,
    Manifest,
    iter_entry_records,
    read_manifest,
    read_verifier_keys,
)
from ledger.audit.checkpoint import MalformedCheckpoint
from ledger.audit.log_verifier import (
    DEFAULT_PROGRESS_INTERVAL,
    LogRecord,
    ProgressCallback,
    RecordSourceError,
    TrustedCheckpoint,
    verify_log,
)
from ledger.audit.merkle import EMPTY_ROOT
from ledger.audit.note import NoteError, NoteVerifier
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
) -> VerificationReport:
    """Verify the export bundle in ``directory``.

    ``anchors`` are trusted verifier keys; when empty, the bundle's
    ``keys.txt`` is used instead and the report's trust is ``bundle keys``.
    ``trusted`` are checkpoints saved earlier that the bundle's log must contain.
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
    with (directory / ENTRIES_FILE).open("rb") as lines:
        report = verify_log(
            iter_entry_records(lines),
            checkpoints,
            verifiers,
            manifest.origin,
            trust=trust,
            progress=progress,
            progress_interval=progress_interval,
            trusted=trusted,
        )
    if not report.ok:
        return report
    problem = _manifest_problem(manifest, report, list(checkpoints))
    if problem is not None:
        return dataclasses.replace(report, ok=False, reason=Reason.MANIFEST_MISMATCH, message=problem)
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
    parser.add_argument("--quiet", action="store_true", help="print nothing when the bundle is sound")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier; returns the exit status."""
    parser = _argument_parser()
    arguments = parser.parse_args(argv)
    directory: Path = arguments.directory
    if arguments.progress_interval < 1:
        parser.error("--progress-interval must be at least 1")
    try:
        anchors = [NoteVerifier.from_vkey(vkey) for vkey in arguments.key]
    except NoteError as error:
        parser.error(f"--key: {error}")
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
        )
    except OSError as error:
        print(f"error: cannot read the bundle: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not report.ok:
        print(report.failure_line())
        return EXIT_FAILED
    if not arguments.quiet:
        print("\n".join(report.summary_lines()))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
