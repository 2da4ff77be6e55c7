"""``ledger regions import``: load a list of administrative divisions from a CSV or XLSX file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ledger.database import unit_of_work
from ledger.errors import LedgerError
from ledger.services.access import Actor
from ledger.services.division_files import UnreadableFile, read_division_file
from ledger.services.regions import DivisionFileInvalid, import_divisions

regions_group = AppGroup("regions", help="Load administrative divisions (12-digit 统计用区划代码).")


@regions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version", required=True, help="Name of the list, e.g. NBS-2024.")
@click.option("--year", type=int, required=True, help="The year the codes are for.")
@click.option("--name", required=True, help="What the list is, e.g. 2024年统计用区划代码 湖北省.")
@click.option("--source", required=True, help="Where the list was published.")
def import_command(file: Path, version: str, year: int, name: str, source: str) -> None:
    """Load FILE (CSV in UTF-8 or XLSX; columns code, name, parent, urban_rural_class) as a new version."""
    try:
        rows = read_division_file(file)
    except UnreadableFile as error:
        click.echo(f"error: {file}: {error}", err=True)
        sys.exit(1)
    click.echo(f"read {len(rows)} divisions from {file}")
    try:
        with (
            # Only a person at a terminal watches a bar; a script's log gets the summary alone.
            click.progressbar(
                length=len(rows), label="loading", file=sys.stderr, hidden=not sys.stderr.isatty()
            ) as bar,
            unit_of_work(),
        ):
            report = import_divisions(
                Actor.operator(), version, year, name, source, rows, on_progress=bar.update
            )
    except DivisionFileInvalid as error:
        click.echo(f"error: {error.detail}", err=True)
        for problem in error.problems:
            click.echo(f"  {file.name}: {problem}", err=True)
        sys.exit(1)
    except LedgerError as error:
        click.echo(f"error: {error.detail}", err=True)
        for field, messages in error.errors.items():
            click.echo(f"  {field}: {'; '.join(str(m) for m in messages)}", err=True)
        sys.exit(1)
    levels = ", ".join(f"{count} {level}" for level, count in report.levels.items() if count)
    if report.loaded:
        click.echo(f"loaded division list {report.version}: {report.divisions} divisions ({levels})")
    else:
        click.echo(f"division list {report.version} already loaded with the same content; nothing changed")
