"""``ledger export ...``: open data (OCDS, 360Giving) and the books as Beancount, to files."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click
from flask.cli import AppGroup

from ledger.database import unit_of_work
from ledger.errors import LedgerError
from ledger.exports.json_numbers import dumps_exact
from ledger.models.user import Role
from ledger.services import ocds_publication, open_data
from ledger.services.access import Actor

export_group = AppGroup("export", help="Export open data (OCDS, 360Giving) and the books (Beancount).")


def _fail(error: LedgerError) -> None:
    click.echo(f"error: {error.detail}", err=True)
    sys.exit(1)


@export_group.command("ocds")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_ocds_command(directory: Path) -> None:
    """Write DIRECTORY/release-package.json and record-package.json for every procurement contract."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        # What the contracts' state implies and is not yet out is published (stored, in the
        # audit trail) first; the files then hold exactly what has been published.
        with unit_of_work():
            published = ocds_publication.publish_ocds(Actor.operator())
        releases = open_data.ocds_release_package(Actor.operator())
        records = open_data.ocds_record_package(Actor.operator())
    except LedgerError as error:
        _fail(error)
        return
    (directory / "release-package.json").write_text(dumps_exact(releases) + "\n", encoding="utf-8")
    (directory / "record-package.json").write_text(dumps_exact(records) + "\n", encoding="utf-8")
    click.echo(
        f"published {len(published)} new releases; wrote {len(releases['releases'])} releases of {len(records['records'])} contracts to {directory}"
    )


@export_group.command("360giving")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_360giving_command(file: Path) -> None:
    """Write FILE: every incubation fund and lottery grant as a 360Giving 1.4 package."""
    try:
        package = open_data.grants_package(Actor.operator())
    except LedgerError as error:
        _fail(error)
        return
    file.write_text(dumps_exact(package) + "\n", encoding="utf-8")
    click.echo(f"wrote {len(package['grants'])} grants to {file}")


@export_group.command("public")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_public_command(directory: Path) -> None:
    """Write the public publication to DIRECTORY, the same bytes /public serves (publish DIRECTORY
    at <LEDGER_PUBLIC_URL>/public/): ocds/releases*.json, ocds/records*.json, 360giving.json."""
    from ledger.services.publication import every_document

    try:
        documents = list(every_document())
    except LedgerError as error:
        _fail(error)
        return
    for document in documents:
        target = directory / document.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(document.body)
    click.echo(f"wrote {len(documents)} files to {directory}")


@export_group.command("beancount")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--organisation", "organisation_id", type=click.UUID, default=None, help="one organisation only"
)
def export_beancount_command(directory: Path, organisation_id: uuid.UUID | None) -> None:
    """Write each organisation's books as a Beancount file (check them with bean-check)."""
    from ledger.services.books_export import export_beancount

    def progress(done: int) -> None:
        click.echo(f"exported {done:,} transactions ...", err=True)

    # The person at the server's command line reads the books as an auditor does (an admin's
    # role manages the service but does not read the books).
    reader = Actor(None, "operator", Role.AUDITOR)
    try:
        result = export_beancount(reader, directory, organisation_id, progress)
    except LedgerError as error:
        _fail(error)
        return
    click.echo(
        f"wrote {result.transactions:,} transactions of {result.organisations} organisations and "
        f"{result.documents} receipts to {directory}; check them with: bean-check --no-cache {directory}/<file>.beancount"
    )
