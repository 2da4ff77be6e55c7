"""``ledger audit ...``: sequence, sign, export, verify and rotate the audit trail's key."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from ledger.audit.note import NoteError, NoteVerifier
from ledger.audit.trail import log_size, sequence_pending, sign_checkpoint_now
from ledger.database import unit_of_work
from ledger.errors import LedgerError
from ledger.services.access import Actor
from ledger.services.audit_export import export_bundle
from ledger.services.audit_keys import rotate_signing_key
from ledger.services.audit_verification import verify_database
from ledger.services.receipts import receipt_count

audit_group = AppGroup("audit", help="Sequence, sign, export and verify the audit trail.")


class _Progress:
    """Progress on stderr for long runs: a count and a rate, updated in place on a terminal."""

    def __init__(self, what: str, total: int, unit: str = "entries") -> None:
        self.what, self.total, self.unit, self.started = what, total, unit, time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        rate = done / max(time.monotonic() - self.started, 1e-9)
        share = f" ({100 * done / self.total:.0f}%)" if self.total else ""
        line = f"{self.what}: {done:,} of {self.total:,} {self.unit}{share}, {rate:,.0f}/s"
        click.echo(("\r" + line) if self.tty else line, err=True, nl=not self.tty)

    def done(self) -> None:
        if self.tty:
            click.echo("", err=True)


@audit_group.command("sequence")
def sequence_command() -> None:
    """Append queued entries to the chained log (normally done after every commit)."""
    appended = sequence_pending()
    click.echo(f"appended {appended} entries; the log holds {log_size()}")


@audit_group.command("baseline")
@click.option("--reason", required=True, help="Why the tables are taken as they are (recorded in the trail).")
@click.option("--yes", is_flag=True, help="Record without asking.")
def baseline_command(reason: str, yes: bool) -> None:
    """Take the tables as they are as the replay's starting point (once, after upgrading).

    Records `replay.baseline` entries carrying every row on which the tables and the trail
    disagree; a trail begun by a version whose entries carried no rows needs it. The log itself
    must verify first.
    """
    from ledger.services.replay_baseline import record_baseline, rows_to_baseline

    try:
        count = rows_to_baseline()
    except LedgerError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if count == 0:
        click.echo("every table already equals its replay: nothing to record")
        return
    click.echo(
        f"{count} rows differ from the trail's replay; the baseline records them as the tables hold them"
    )
    if not yes and not click.confirm("Vouch for these rows in the trail?"):
        sys.exit(1)
    with unit_of_work():
        baseline = record_baseline(Actor.operator(), reason)
    click.echo(
        f"recorded {baseline.rows} rows in {baseline.entries} replay.baseline entries; "
        f"the log holds {log_size()}"
    )


@audit_group.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint of the log as it is now, and print it."""
    try:
        checkpoint = sign_checkpoint_now()
    except LookupError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if checkpoint is None:
        click.echo("the log is empty: nothing to sign")
        return
    click.echo(checkpoint.note, nl=False)


@audit_group.command("witness")
def witness_command() -> None:
    """Send the newest checkpoint to the witnesses in LEDGER_WITNESSES now; exit 1 if one did not cosign."""
    from ledger.config import current_settings
    from ledger.services.witnessing import push_latest_checkpoint

    if not current_settings().witnesses:
        click.echo("error: no witnesses configured (LEDGER_WITNESSES)", err=True)
        sys.exit(1)
    results = push_latest_checkpoint()
    for result in results:
        click.echo(f"{result.witness}: {'ok' if result.ok else 'FAILED'}: {result.message}")
    sys.exit(0 if all(result.ok for result in results) else 1)


@audit_group.command("rotate-key")
def rotate_key_command() -> None:
    """Sign a last checkpoint with the current key, then start signing with a new one."""
    sign_checkpoint_now()
    with unit_of_work():
        key = rotate_signing_key(Actor.operator())
    checkpoint = sign_checkpoint_now()
    click.echo(f"new signing key {key.key_id}: {key.vkey}")
    if checkpoint is not None:
        click.echo(f"signed checkpoint {checkpoint.size} with it")


@audit_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write an export bundle to DIRECTORY for offline verification."""
    sequence_pending()
    progress = _Progress("exported", log_size())
    try:
        manifest = export_bundle(Actor.operator(), directory, progress)
    except LedgerError as error:
        click.echo(f"error: {error.detail}", err=True)
        sys.exit(1)
    progress.done()
    click.echo(
        f"exported {manifest.entry_count} entries and the checkpoints up to size "
        f"{manifest.latest_checkpoint_size} to {directory}"
    )
    click.echo(f"verify offline with: python -m ledger.audit.verify {directory} --key '<vkey you trust>'")


@audit_group.command("verify")
@click.option(
    "--bundle", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Verify an export bundle."
)
@click.option("--key", "keys", multiple=True, help="A verifier key you trust (repeatable).")
@click.option(
    "--trusted-checkpoint",
    "trusted_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A signed checkpoint you saved earlier; the log must still contain it (repeatable).",
)
@click.option(
    "--witness-key",
    "witness_keys",
    multiple=True,
    metavar="VKEY",
    help="A witness's cosignature verifier key (type 0x04); repeatable.",
)
@click.option(
    "--witness-quorum",
    type=int,
    default=None,
    metavar="N",
    help="Valid cosignatures from distinct --witness-key keys the newest checkpoint needs "
    "(default: all given keys).",
)
@click.option("--no-receipts", is_flag=True, help="Skip checking the stored receipt files.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes verifying ranges of a large log in parallel (default: the cores available; "
    "1: this process only).",
)
def verify_command(
    bundle: Path | None,
    keys: tuple[str, ...],
    trusted_files: tuple[Path, ...],
    witness_keys: tuple[str, ...],
    witness_quorum: int | None,
    no_receipts: bool,
    workers: int | None,
) -> None:
    """Verify the log (and replay it against the tables), or an export bundle; exit 1 on failure."""
    from ledger.audit.verify import read_trusted_checkpoints, verify_bundle, witness_options

    try:
        witnesses, quorum = witness_options(witness_keys, witness_quorum)
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)

    try:
        anchors = [NoteVerifier.from_vkey(k) for k in keys]
    except NoteError as error:
        raise click.BadParameter(str(error), param_hint="--key") from None
    try:
        trusted = read_trusted_checkpoints(trusted_files)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--trusted-checkpoint") from None
    if bundle is not None:
        report = verify_bundle(
            bundle, anchors, trusted=trusted, witnesses=witnesses, witness_quorum=quorum, workers=workers
        )
        lines = [report.failure_line()] if not report.ok else list(report.summary_lines())
        click.echo("\n".join(lines))
        sys.exit(0 if report.ok else 1)
    sequence_pending()
    progress = _Progress("verified", log_size())
    receipt_progress = None if no_receipts else _Progress("receipt files", receipt_count(), "files")
    result = verify_database(
        anchors or None,
        progress=progress,
        trusted=trusted,
        receipts=not no_receipts,
        receipt_progress=receipt_progress,
        witnesses=witnesses,
        witness_quorum=quorum,
        workers=workers,
    )
    progress.done()
    if receipt_progress is not None:
        receipt_progress.done()
    click.echo("\n".join(result.lines()))
    sys.exit(0 if result.ok else 1)
