"""Checking a statement offline: is this PDF genuine, and are its figures true?

Usage::

    python -m ledger.statement_check FILE.pdf --bundle DIR --key VKEY [--key VKEY ...] [--progress]
    ledger statement check FILE.pdf --bundle DIR --key VKEY ...      (the same, needs no database)

An auditor holding a statement PDF and an audit export bundle (``ledger audit export``) learns,
from those two alone and the log's published verifier key(s):

1. the bundle verifies (:func:`ledger.audit.verify.verify_bundle`, the ``--key`` keys as the
   trust anchors): every entry canonical and chained, every checkpoint signed and matching the
   Merkle root of its prefix;
2. the PDF's SHA-256 is recorded in the trail as a ``statement.issued`` entry (seq named), and
   that entry is covered by a signed checkpoint;
3. the checkpoint the statement names (tree size, root hash, key id, origin, as embedded in its
   ``statement.json`` attachment and printed on it) is the bundle's signed checkpoint of that
   size, the one ``statement.issued`` recorded; since the bundle verified, the log's prefix of
   that size has that root and the newest checkpoint extends it;
4. the embedded figures equal the figures recomputed from the bundle alone: the entries up to
   the statement's checkpoint are replayed into a fresh in-memory database
   (:func:`ledger.replay.rebuild.rebuilt_service`) and the statement is computed there by the
   same function the service used, for the subject, period and business day the trail recorded.

Exit status: 0 with a short summary; 1 with one line ``FAIL <what>: <why>`` naming the first
problem (for figures: the first differing field path and both values); 2 with one line
``error: ...`` for usage problems (an unreadable PDF, a PDF without its ``statement.json``, a
malformed key, a bundle missing files). Progress goes to stderr for long bundles.

An audit attestation cannot be recomputed from a bundle (it states what the server found when it
compared its own tables); for one, the check compares the figures a bundle does determine: the
log's origin, its root at the number of entries checked, and the latest checkpoint's size and
root.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import logging
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import rfc8785

from ledger.audit.bundle import (
    CHECKPOINTS_DIR,
    ENTRIES_FILE,
    KEYS_FILE,
    MANIFEST_FILE,
    BundleError,
    CheckpointFiles,
    read_manifest,
    read_verifier_keys,
)
from ledger.audit.canonical import leaf_hash
from ledger.audit.checkpoint import MalformedCheckpoint, open_checkpoint
from ledger.audit.merkle import MerkleFrontier
from ledger.audit.note import NoteError, NoteVerifier

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

ATTACHMENT = "statement.json"
ISSUED = "statement.issued"

KIND_NAMES = {
    "fund_use": "fund-use statement (资金使用情况表)",
    "organisation": "financial statements (会民非01/02/03表)",
    "lottery_disclosure": "welfare-lottery usage disclosure (彩票公益金使用情况公告)",
    "audit_attestation": "audit-trail attestation (审计追踪验证证明)",
}

ProgressFactory = Callable[[str, int], Callable[[int], None]]
"""``(what, total)`` -> a callback taking the count done so far."""


class UsageProblem(Exception):
    """The inputs cannot be checked at all (exit 2): unreadable PDF, no attachment, bad key, ..."""


class CheckFailed(Exception):
    """The statement is not what it claims (exit 1); the message is the one line to print."""


@dataclass(frozen=True)
class StatementFile:
    """A statement PDF: its SHA-256 and the document embedded as ``statement.json``."""

    sha256: str
    figures: dict[str, Any]
    checkpoint: dict[str, Any]


@dataclass(frozen=True)
class CheckResult:
    """A passed check's summary lines."""

    kind: str
    subject: str
    issued_seq: int
    checkpoint_size: int
    lines: list[str]


# --- inputs ---------------------------------------------------------------------------------


def read_statement(path: Path) -> StatementFile:
    """The PDF's hash and its embedded statement document; :class:`UsageProblem` if there is none."""
    try:
        pdf = path.read_bytes()
    except OSError as error:
        raise UsageProblem(f"cannot read {path}: {error.strerror or error}") from None
    try:
        import pypdf
    except ImportError:  # pragma: no cover - a dependency of the package
        raise UsageProblem("reading a PDF needs the pypdf package (pip install pypdf)") from None
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # its warnings about a damaged file: the one line below says it
    try:
        attachments = pypdf.PdfReader(io.BytesIO(pdf)).attachments
        attached = attachments.get(ATTACHMENT)
    except Exception as error:  # pypdf raises many kinds on a damaged file
        raise UsageProblem(f"{path} is not a readable PDF: {error}") from None
    finally:
        logger.setLevel(level)
    if not attached:
        raise UsageProblem(f"{path} has no {ATTACHMENT} attachment, so it is not a statement of this ledger")
    if len(attached) != 1:
        raise UsageProblem(f"{path} has {len(attached)} {ATTACHMENT} attachments; a statement has one")
    try:
        document = json.loads(attached[0].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UsageProblem(f"{path}: its {ATTACHMENT} attachment is not JSON: {error}") from None
    figures = document.get("figures") if isinstance(document, dict) else None
    checkpoint = document.get("checkpoint") if isinstance(document, dict) else None
    if (
        not isinstance(figures, dict)
        or not isinstance(figures.get("statement"), str)
        or not isinstance(checkpoint, dict)
        or not isinstance(checkpoint.get("tree_size"), int)
        or isinstance(checkpoint.get("tree_size"), bool)
        or not all(isinstance(checkpoint.get(k), str) for k in ("root_hash", "key_id", "origin", "signed_at"))
    ):
        raise UsageProblem(
            f"{path}: its {ATTACHMENT} is not a statement document "
            '({"figures": {"statement": ...}, "checkpoint": {"tree_size": ..., ...}})'
        )
    return StatementFile(hashlib.sha256(pdf).hexdigest(), figures, checkpoint)


def read_keys(values: Sequence[str]) -> list[NoteVerifier]:
    """``--key`` values: each a vkey (``name+keyid+base64``) or a file of them (like ``keys.txt``)."""
    if not values:
        raise UsageProblem("give the log's verifier key with --key VKEY (or a file of them)")
    verifiers: list[NoteVerifier] = []
    for value in values:
        try:
            verifiers.append(NoteVerifier.from_vkey(value))
            continue
        except NoteError as error:
            problem = str(error)
        path = Path(value)
        if not path.is_file():
            raise UsageProblem(
                f"--key {value[:80]!r} is neither a verifier key nor a file of them: {problem}"
            )
        try:
            from_file = read_verifier_keys(path)
        except (OSError, BundleError) as error:
            raise UsageProblem(f"--key {value}: {error}") from None
        if not from_file:
            raise UsageProblem(f"--key {value}: the file holds no verifier key")
        verifiers.extend(from_file)
    return verifiers


def check_bundle_layout(directory: Path) -> None:
    if not directory.is_dir():
        raise UsageProblem(f"{directory} is not a directory (an export bundle: ledger audit export DIR)")
    missing = [name for name in (MANIFEST_FILE, ENTRIES_FILE, KEYS_FILE) if not (directory / name).is_file()]
    if missing:
        raise UsageProblem(f"the bundle {directory} is missing {', '.join(missing)}")


def parsed_entries(directory: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The bundle's entries as parsed JSON objects, in seq order (the first ``limit`` only)."""
    with (directory / ENTRIES_FILE).open("rb") as lines:
        for line in itertools.islice(lines, limit):
            yield json.loads(line)


# --- comparing figures ------------------------------------------------------------------------

_ABSENT = object()


def _shown(value: object) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."


def first_difference(
    stated: object, recomputed: object, path: str = "figures"
) -> tuple[str, str, str] | None:
    """The first field (in the statement's order) whose values differ: ``(path, stated, recomputed)``."""
    if isinstance(stated, dict) and isinstance(recomputed, dict):
        for key in [*stated, *(k for k in recomputed if k not in stated)]:
            found = first_difference(stated.get(key, _ABSENT), recomputed.get(key, _ABSENT), f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(stated, list) and isinstance(recomputed, list):
        for index in range(max(len(stated), len(recomputed))):
            found = first_difference(
                stated[index] if index < len(stated) else _ABSENT,
                recomputed[index] if index < len(recomputed) else _ABSENT,
                f"{path}[{index}]",
            )
            if found is not None:
                return found
        return None
    # bool is an int in Python: compare types too, so true never equals 1.
    if type(stated) is not type(recomputed) or stated != recomputed:
        return path, _shown(stated), _shown(recomputed)
    return None


def _as_json(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The figures as the attachment holds them (the renderer serialises them with RFC 8785)."""
    return dict(json.loads(rfc8785.dumps(dict(figures))))


# --- the check --------------------------------------------------------------------------------


def _issued_entry(directory: Path, sha256: str, tree_size: int) -> tuple[dict[str, Any], int]:
    """The ``statement.issued`` entry recording ``sha256`` (preferring one drawn from ``tree_size``)."""
    found: list[dict[str, Any]] = []
    for entry in parsed_entries(directory):
        data = entry.get("data")
        if entry.get("action") == ISSUED and isinstance(data, dict) and data.get("sha256") == sha256:
            found.append(entry)
    if not found:
        raise CheckFailed(
            f"FAIL sha256: the PDF's SHA-256 {sha256} is not recorded in the trail as {ISSUED}: "
            "this file is not a statement the service issued (altered, or from another log)"
        )
    matching = [e for e in found if e["data"].get("checkpoint_size") == tree_size]
    return (matching or found)[0], len(found)


def _check_checkpoint(
    directory: Path, stamp: Mapping[str, Any], entry: Mapping[str, Any], anchors: Sequence[NoteVerifier]
) -> tuple[int, str]:
    """The statement's checkpoint is the bundle's signed checkpoint of that size; returns (size, root)."""
    size = int(stamp["tree_size"])
    seq = entry["seq"]
    recorded = entry["data"].get("checkpoint_size")
    if recorded != size:
        raise CheckFailed(
            f"FAIL checkpoint={size}: the statement says it was drawn from checkpoint {size}, "
            f"but {ISSUED} at seq {seq} records checkpoint {recorded}"
        )
    origin = read_manifest(directory).origin
    if stamp["origin"] != origin:
        raise CheckFailed(
            f"FAIL checkpoint={size}: the statement names log {stamp['origin']!r}, the bundle is {origin!r}"
        )
    checkpoints = CheckpointFiles(directory / CHECKPOINTS_DIR)
    if size not in checkpoints:
        raise CheckFailed(
            f"FAIL checkpoint={size}: the bundle holds no signed checkpoint of size {size}, "
            "the one the statement was drawn from"
        )
    try:
        checkpoint, key_ids = open_checkpoint(checkpoints[size], anchors)
    except (NoteError, MalformedCheckpoint) as error:  # verify_bundle checked it; kept for safety
        raise CheckFailed(f"FAIL checkpoint={size}: {error}") from None
    if checkpoint.root_hex != stamp["root_hash"]:
        raise CheckFailed(
            f"FAIL checkpoint={size}: the statement names root {stamp['root_hash']}, the bundle's signed "
            f"checkpoint of size {size} has root {checkpoint.root_hex}: the bundle's log is not the one "
            "the statement was drawn from (forked or rewritten)"
        )
    if stamp["key_id"] not in key_ids:
        raise CheckFailed(
            f"FAIL checkpoint={size}: the statement names key id {stamp['key_id']}, the bundle's checkpoint "
            f"of size {size} is signed by {', '.join(key_ids)}"
        )
    if seq <= size:
        raise CheckFailed(
            f"FAIL seq={seq}: {ISSUED} at seq {seq} lies inside checkpoint {size}, which it claims to be drawn from"
        )
    newest = max(checkpoints)
    if newest < seq:
        raise CheckFailed(
            f"FAIL seq={seq}: {ISSUED} is not covered by a signed checkpoint (the newest is size {newest}); "
            "sign one (ledger audit checkpoint) and export the bundle again"
        )
    return size, checkpoint.root_hex


def _business_date(entry: Mapping[str, Any], stamp: Mapping[str, Any]) -> date:
    """The business day the figures were computed on: recorded since ``business_date`` exists,
    else the checkpoint's signing day in China (the issue date the statement prints)."""
    from ledger.business_dates import business_today

    recorded = entry["data"].get("business_date")
    if isinstance(recorded, str):
        return date.fromisoformat(recorded)
    signed_at = datetime.strptime(stamp["signed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return business_today(signed_at)


def _subject(kind: str, figures: Mapping[str, Any], entry: Mapping[str, Any]) -> str:
    data, subject = entry["data"], entry["subject"]
    if kind == "fund_use":
        fund = figures.get("fund") or {}
        return f"fund {fund.get('reference')} ({subject['id']}), period {data.get('period')}"
    if kind == "organisation":
        organisation = figures.get("organisation") or {}
        return (
            f"organisation {organisation.get('name')} "
            f"({organisation.get('credit_code') or (organisation.get('filing') or {}).get('filing_number')}), "
            f"period {data.get('period')}"
        )
    if kind == "lottery_disclosure":
        return f"funder {subject['id']}, year {data.get('year')}"
    return f"log {subject['id']}"


def _statement_function(kind: str, entry: Mapping[str, Any], today: date) -> Callable[[], Mapping[str, Any]]:
    """The service's own function for this statement, with the subject and period ``statement.issued`` names."""
    from ledger.errors import LedgerError
    from ledger.services import statements as service
    from ledger.services.access import Actor
    from ledger.statements.period import StatementPeriod

    data, subject = entry["data"], entry["subject"]
    operator = Actor.operator()
    try:
        if kind == "fund_use":
            fund_id, period = uuid.UUID(str(subject["id"])), StatementPeriod.parse(str(data["period"]))
            return lambda: service.fund_use_report(operator, fund_id, period, today)
        if kind == "organisation":
            organisation_id, period = (
                uuid.UUID(str(subject["id"])),
                StatementPeriod.parse(str(data["period"])),
            )
            return lambda: service.organisation_report(operator, organisation_id, period, today)
        if kind == "lottery_disclosure":
            funder, year = str(subject["id"]), int(data["year"])
            area = [str(code) for code in data["area"]] if "area" in data else None
            return lambda: service.lottery_disclosure_report(operator, funder, year, today, area=area)
    except (KeyError, ValueError, TypeError, LedgerError) as error:
        raise CheckFailed(
            f"FAIL seq={entry['seq']}: {ISSUED} does not say which {kind} statement it is ({error})"
        ) from None
    raise CheckFailed(f"FAIL figures: a {kind!r} statement cannot be recomputed from a bundle")


def _recomputed_figures(
    compute: Callable[[], Mapping[str, Any]],
    entries: Iterator[dict[str, Any]],
    progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    """``compute()`` run in a service whose database holds only the tables the entries rebuild."""
    from ledger.errors import LedgerError
    from ledger.replay.rebuild import RebuildError, rebuilt_service

    try:
        with rebuilt_service(entries, progress):
            return _as_json(compute())
    except RebuildError as error:
        raise CheckFailed(f"FAIL replay: {error}") from None
    except LedgerError as error:
        raise CheckFailed(
            f"FAIL figures: the bundle's books cannot give this statement: {error.detail}"
        ) from None


def _attestation_figures(
    directory: Path, figures: Mapping[str, Any], anchors: Sequence[NoteVerifier]
) -> dict[str, Any]:
    """What a bundle determines of an attestation: the log's root where it stopped, the latest checkpoint."""
    log = dict(figures.get("log") or {})
    checkpoints = dict(figures.get("checkpoints") or {})
    origin = read_manifest(directory).origin
    recomputed_log = {**log, "origin": origin}
    checked = log.get("entries_checked")
    if isinstance(checked, int) and not isinstance(checked, bool):
        frontier = MerkleFrontier()
        with (directory / ENTRIES_FILE).open("rb") as lines:
            for line in itertools.islice(lines, checked):
                frontier.append(leaf_hash(line.rstrip(b"\n")))
        recomputed_log["entries_checked"] = frontier.size
        recomputed_log["log_root"] = frontier.root().hex()
    recomputed_checkpoints = dict(checkpoints)
    latest = checkpoints.get("latest_size")
    files = CheckpointFiles(directory / CHECKPOINTS_DIR)
    if isinstance(latest, int) and latest in files:
        checkpoint, _ = open_checkpoint(files[latest], anchors)  # the bundle verified: it opens
        recomputed_checkpoints["latest_root"] = checkpoint.root_hex
    else:
        recomputed_checkpoints["latest_size"] = None
    return {**figures, "log": recomputed_log, "checkpoints": recomputed_checkpoints}


def check_statement(
    pdf: Path,
    bundle: Path,
    anchors: Sequence[NoteVerifier],
    progress: ProgressFactory | None = None,
) -> CheckResult:
    """Check ``pdf`` against ``bundle``; raises :class:`UsageProblem` (exit 2) or :class:`CheckFailed` (1)."""
    from ledger.audit.verify import verify_bundle

    statement = read_statement(pdf)
    check_bundle_layout(bundle)
    try:
        manifest = read_manifest(bundle)
    except (OSError, BundleError) as error:
        raise UsageProblem(f"the bundle's {MANIFEST_FILE} cannot be read: {error}") from None

    # 1. The bundle verifies, with the auditor's keys as the trust anchors.
    report = verify_bundle(
        bundle,
        anchors,
        progress=progress("verified", manifest.entry_count) if progress else None,
        progress_interval=10_000,
    )
    if not report.ok:
        raise CheckFailed(f"FAIL bundle: {report.failure_line()}")

    # 2. The PDF is one the service issued.
    stamp = statement.checkpoint
    entry, times = _issued_entry(bundle, statement.sha256, stamp["tree_size"])
    seq = int(entry["seq"])
    kind = str(statement.figures["statement"])
    recorded_kind = entry["data"].get("statement")
    if recorded_kind != kind:
        raise CheckFailed(
            f"FAIL seq={seq}: {ISSUED} records a {recorded_kind!r} statement, the PDF embeds a {kind!r} one"
        )

    # 3. It names the checkpoint the trail says it was drawn from, and the bundle holds it.
    size, root = _check_checkpoint(bundle, stamp, entry, anchors)

    # 4. Its figures are the ones the trail up to that checkpoint gives.
    if kind == "audit_attestation":
        recomputed = _attestation_figures(bundle, statement.figures, anchors)
        how = "the log figures equal the bundle's (the server's own table checks cannot be redone offline)"
    else:
        compute = _statement_function(kind, entry, _business_date(entry, stamp))
        replay = progress("replayed", size) if progress else None
        recomputed = _recomputed_figures(compute, parsed_entries(bundle, size), replay)
        how = f"figures equal the bundle's (recomputed from entries 1..{size} alone)"
    difference = first_difference(statement.figures, recomputed)
    if difference is not None:
        path, stated, again = difference
        raise CheckFailed(
            f"FAIL figures: {path}: the statement says {stated}, the bundle's entries 1..{size} give {again}"
        )

    subject = _subject(kind, statement.figures, entry)
    also = f" (recorded {times} times: issued again with the same bytes)" if times > 1 else ""
    return CheckResult(
        kind=kind,
        subject=subject,
        issued_seq=seq,
        checkpoint_size=size,
        lines=[
            f"OK: {KIND_NAMES.get(kind, kind)} [{kind}] of {subject}",
            f"the bundle verifies with the key(s) you gave: {report.entries_checked} entries, newest "
            f"signed checkpoint size {report.latest_checkpoint.size if report.latest_checkpoint else 0}",
            f"the PDF (SHA-256 {statement.sha256}) is recorded as {ISSUED} at seq {seq}{also}",
            f"drawn from checkpoint size {size} (root {root}, key id {stamp['key_id']}), "
            "which the bundle holds and its newest checkpoint extends",
            how,
        ],
    )


# --- command line -----------------------------------------------------------------------------


def run(pdf: Path, bundle: Path, keys: Sequence[str], *, progress: bool = True) -> int:
    """Check and print the outcome (summary or ``FAIL`` line on stdout, usage errors on stderr)."""
    from ledger.cli_audit import _Progress

    shown: list[_Progress] = []  # the meters that printed something, to end their line

    def stderr_progress(what: str, total: int) -> Callable[[int], None]:
        meter = _Progress(what, total)

        def report(done: int) -> None:
            if meter not in shown:
                shown.append(meter)
            meter(done)

        return report

    try:
        anchors = read_keys(keys)
        try:
            result = check_statement(pdf, bundle, anchors, stderr_progress if progress else None)
        finally:
            for meter in shown:
                meter.done()
    except UsageProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except CheckFailed as failure:
        print(str(failure))
        return EXIT_FAILED
    print("\n".join(result.lines))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.statement_check",
        description="Check a statement PDF against an audit export bundle: genuine, and true to the trail.",
    )
    parser.add_argument("pdf", type=Path, help="the statement PDF")
    parser.add_argument("--bundle", type=Path, required=True, metavar="DIR", help="an audit export bundle")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        required=True,
        metavar="VKEY",
        help="the log's verifier key (name+keyid+base64) or a file of them; repeatable",
    )
    arguments = parser.parse_args(argv)
    return run(arguments.pdf, arguments.bundle, arguments.key)


if __name__ == "__main__":
    sys.exit(main())
