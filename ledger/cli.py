"""The ``ledger`` command: set up an instance, load demo data, manage users, dump the API spec.

``ledger`` is a Flask CLI group, so ``ledger run`` serves the app and ``ledger db ...`` runs
migrations; the commands below are the product's own.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_migrate import upgrade

from ledger import create_app
from ledger.audit.trail import sign_checkpoint_now
from ledger.cli_audit import audit_group
from ledger.cli_books import books_group
from ledger.cli_exports import export_group
from ledger.cli_regions import regions_group
from ledger.cli_statements import statement_group
from ledger.config import current_settings, write_secret_key
from ledger.database import unit_of_work
from ledger.errors import LedgerError
from ledger.models.user import Role
from ledger.services import users
from ledger.services.access import Actor
from ledger.services.audit_keys import ensure_signing_key
from ledger.services.organisations import find_organisation_by_credit_code
from ledger.services.reference_data import ReferenceDataConflict, load_reference_data
from ledger.services.tokens import issue_token
from ledger.witness.cli import witness_group


def main() -> None:
    cli = FlaskGroup(create_app=create_app, help=__doc__)
    # A witness runs apart from the ledger, so its commands need no app (settings, database).
    cli.add_command(witness_group)
    cli.main(prog_name="ledger")


def register_commands(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(users_group)
    app.cli.add_command(openapi_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(statement_group)
    app.cli.add_command(export_group)
    app.cli.add_command(books_group)
    app.cli.add_command(regions_group)
    app.cli.add_command(notify_group)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the instance folder and secret key, migrate the database, load reference data."""
    settings = current_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    key_file = write_secret_key(settings.instance_path)
    click.echo(f"instance folder: {settings.instance_path} (secret key in {key_file.name})")
    click.echo("migrating the database to the latest schema ...")
    upgrade()
    with unit_of_work():
        key = ensure_signing_key(Actor.operator())
    click.echo(f"audit signing key {key.key_id} {'created' if key.created else 'present'}: {key.vkey}")
    try:
        with unit_of_work():
            report = load_reference_data(Actor.operator())
    except ReferenceDataConflict as error:
        _fail(str(error))
    for version in report.loaded:
        click.echo(f"loaded reference data {version}")
    for version in report.unchanged:
        click.echo(f"reference data {version} already loaded")
    checkpoint = sign_checkpoint_now()
    if checkpoint is not None:
        click.echo(f"audit log: {checkpoint.size} entries, checkpoint signed")
    click.echo("ready.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Fill the database with a realistic demo and print the demo logins."""
    from ledger.demo import DEMO_PASSWORD, create_demo
    from ledger.services.notifications.worker import run_once

    with unit_of_work():
        summary = create_demo()
    if summary.created:
        click.echo(
            f"demo created: {summary.districts} districts, {summary.streets} streets, "
            f"{summary.communities} communities, "
            f"{summary.organisations} organisations ({summary.filed} filed), {len(summary.logins)} users, 3 funds "
            "(a lottery grant, an incubation fund, a procurement contract) with budgets, "
            "payments and expense reports"
        )
    else:
        click.echo("demo data already present")
    checkpoint = sign_checkpoint_now()
    if checkpoint is not None:
        click.echo(f"audit log: {checkpoint.size} entries, latest checkpoint signed")
    notified = run_once()
    click.echo(
        f"notifier: {notified.notifications} notifications, {notified.reminders} reminders, "
        f"{notified.sent} mails sent (without LEDGER_SMTP_URL they are kept at /dev/outbox)"
    )
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, where in summary.logins:
        click.echo(f"  {username:<19} {role:<16} {where}")


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Create users, issue tokens, disable accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "display_name", help="Display name (defaults to the username).")
@click.option(
    "--org",
    "credit_codes",
    multiple=True,
    help="Credit code of an organisation an org_member belongs to (repeatable).",
)
@click.password_option(help="Prompted for when not given.")
def create_user_command(
    username: str, role: str, display_name: str | None, credit_codes: tuple[str, ...], password: str
) -> None:
    """Create a user."""
    try:
        with unit_of_work():
            organisation_ids = tuple(find_organisation_by_credit_code(c).id for c in credit_codes)
            user = users.create_user(
                Actor.operator(),
                users.NewUser(username, display_name or username, Role(role), password, organisation_ids),
                uuid.uuid4().hex,  # each command is a new request, never a retry of an earlier one
            ).thing
    except LedgerError as error:
        _fail(error.detail)
    click.echo(f"created {user.username} ({user.role})")


@users_group.command("token")
@click.argument("username")
@click.option("--hours", type=click.IntRange(1, 24 * 90), help="Lifetime (default: LEDGER_TOKEN_TTL_HOURS).")
def token_command(username: str, hours: int | None) -> None:
    """Print a fresh bearer token for USERNAME as one line."""
    try:
        with unit_of_work():
            user = users.find_user(username)
            if not user.is_active:
                raise LedgerError(f"The user {user.username} is disabled.")
            token = issue_token(
                Actor.operator(),
                user,
                purpose="cli",
                ttl=timedelta(hours=hours) if hours is not None else None,
            )
    except LedgerError as error:
        _fail(error.detail)
    click.echo(token.secret)


@users_group.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable USERNAME and revoke their tokens."""
    try:
        with unit_of_work():
            user = users.disable_user(Actor.operator(), users.find_user(username))
    except LedgerError as error:
        _fail(error.detail)
    click.echo(f"disabled {user.username}; their tokens are revoked")


@click.command("openapi")
@with_appcontext
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write to a file.")
def openapi_command(output: str | None) -> None:
    """Print the OpenAPI document (the snapshot in schemas/openapi.json is made with this)."""
    text = openapi_json()
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)


def openapi_json() -> str:
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@click.group("notify", cls=AppGroup)
def notify_group() -> None:
    """The notifier: in-app notifications, mail and webhooks derived from the audit trail."""


@notify_group.command("once")
def notify_once_command() -> None:
    """Run one pass (read the trail, remind, queue digests, send what is due) and print what it did."""
    from ledger.services.notifications.worker import run_once

    report = run_once()
    click.echo(
        f"entries read {report.entries_read}, notifications {report.notifications}, reminders "
        f"{report.reminders}, digests {report.digests}, sent {report.sent}, failed tries {report.failed_tries}"
    )


@notify_group.command("run")
@click.option(
    "--every",
    type=click.FloatRange(0.5, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between passes.",
)
def notify_run_command(every: float) -> None:
    """Keep running passes until stopped (the production worker; `ledger run` has one in development)."""
    from ledger.services.notifications.worker import run_forever

    click.echo(f"notifier running, a pass every {every} s (Ctrl-C stops it)")
    try:
        run_forever(current_app._get_current_object(), every)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        click.echo("notifier stopped")
