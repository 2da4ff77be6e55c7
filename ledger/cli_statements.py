"""``ledger statement ...``: issue a compliance statement as a PDF file from the command line.

Each command issues the statement exactly as the API does (drawn from a signed checkpoint,
recorded in the audit trail), as the server's operator, and writes the PDF to ``--out``.

``ledger statement check FILE.pdf --bundle DIR --key VKEY`` is the auditor's side: it checks a
statement against an export bundle and never opens the service's database (it is
``python -m ledger.statement_check``; see :mod:`ledger.statement_check`).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import AppGroup

from ledger.database import unit_of_work
from ledger.errors import LedgerError
from ledger.services import statements
from ledger.services.access import Actor
from ledger.statements.period import StatementPeriod

statement_group = AppGroup("statement", help="Issue compliance statements as PDF/A-3b files.")

_period_option = click.option(
    "--period", required=True, help="2026-01..2026-12 (months) or 2026-01-01..2026-06-30 (days)"
)
_out_option = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the PDF file to write",
)
_lang_option = click.option(
    "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="primary language"
)


def _write(issue: Callable[[], statements.IssuedStatement], out: Path) -> None:
    click.echo("drawing the figures from the books and rendering ...", err=True)
    try:
        with unit_of_work():
            issued = issue()
    except LedgerError as error:
        click.echo(f"error: {error.detail}", err=True)
        sys.exit(1)
    out.write_bytes(issued.pdf)
    click.echo(
        f"wrote {out} ({len(issued.pdf):,} bytes, SHA-256 {issued.sha256}), "
        f"drawn from audit checkpoint {issued.checkpoint.size} (root {issued.checkpoint.root_hash[:16]}…)"
    )


@statement_group.command("fund")
@click.argument("fund_id", type=click.UUID)
@_period_option
@_out_option
@_lang_option
def fund_statement_command(fund_id: uuid.UUID, period: str, out: Path, lang: str) -> None:
    """The fund-use statement (资金使用情况表) of FUND_ID for a period."""
    _write(
        lambda: statements.issue_fund_use_statement(
            Actor.operator(), fund_id, StatementPeriod.parse(period), lang
        ),
        out,
    )


@statement_group.command("organisation")
@click.argument("organisation_id", type=click.UUID)
@_period_option
@_out_option
@_lang_option
def organisation_statement_command(organisation_id: uuid.UUID, period: str, out: Path, lang: str) -> None:
    """The balance sheet and statement of activities of ORGANISATION_ID for a period."""
    _write(
        lambda: statements.issue_organisation_statements(
            Actor.operator(), organisation_id, StatementPeriod.parse(period), lang
        ),
        out,
    )


@statement_group.command("lottery")
@click.argument("funder")
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
@_out_option
@_lang_option
def lottery_statement_command(funder: str, year: int, out: Path, lang: str) -> None:
    """FUNDER's welfare-lottery fund usage disclosure (彩票公益金使用情况公告) for a year."""
    _write(lambda: statements.issue_lottery_disclosure(Actor.operator(), funder, year, lang), out)


@statement_group.command("attestation")
@_out_option
@_lang_option
def attestation_statement_command(out: Path, lang: str) -> None:
    """Sign a checkpoint, verify the whole audit trail and write the attestation."""
    _write(lambda: statements.issue_attestation(Actor.operator(), lang), out)


@statement_group.command("check", with_appcontext=False)
@click.argument("pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--bundle",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="an audit export bundle (ledger audit export DIR)",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    required=True,
    metavar="VKEY",
    help="the log's verifier key (name+keyid+base64) or a file of them; repeatable",
)
def check_statement_command(pdf: Path, bundle: Path, keys: tuple[str, ...]) -> None:
    """Check a statement PDF against an export bundle, offline: genuine, and true to the trail.

    Exit 0 when the bundle verifies with the keys, the PDF is recorded as issued, its checkpoint
    is the bundle's and its figures equal those recomputed from the bundle alone; 1 naming the
    first problem; 2 for unusable inputs. Needs no database.
    """
    from ledger.statement_check import run

    sys.exit(run(pdf, bundle, keys))
