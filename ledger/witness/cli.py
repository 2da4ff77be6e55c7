"""``ledger witness ...``: create, configure and run a witness; read what it cosigned.

These commands need neither the ledger's settings nor its database: a witness is run by someone
else, elsewhere, with its own key file and its own SQLite file.

    ledger witness init --db witness.sqlite3 --key witness.key --name witness.example.org/w1 \\
        [--log <log vkey> ...]                       create key and database, print the vkey
    ledger witness add-log --db witness.sqlite3 <log vkey>   follow a log (origin = key name)
    ledger witness serve --db witness.sqlite3 --key witness.key --port 8871 [--log <vkey> ...]
    ledger witness latest --db witness.sqlite3 --origin <origin>      or  --url http://...
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import NoReturn

import click

from ledger.audit.note import KeyFormatError, NoteError
from ledger.witness.server import Witness, WitnessApp, load_cosigner, write_cosigner
from ledger.witness.state import WitnessState, WitnessStateError

witness_group = click.Group("witness", help="Run a transparency-log witness (C2SP tlog-witness).")

DB_OPTION = click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness's SQLite database.",
)
LOG_OPTION = click.option(
    "--log",
    "log_vkeys",
    multiple=True,
    metavar="VKEY",
    help="A log's verifier key to follow (its name is the log's origin); repeatable.",
)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _add_logs(state: WitnessState, vkeys: tuple[str, ...], argument: str = "--log") -> None:
    for vkey in vkeys:
        try:
            verifier = state.add_log_key(vkey)
        except NoteError as error:
            _fail(f"{argument} {vkey!r}: {error}", 2)
        click.echo(f"following log {verifier.name} (key {verifier.key_id})", err=True)


@witness_group.command("init")
@DB_OPTION
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the witness's private key (must not exist).",
)
@click.option("--name", required=True, help="The witness's key name, e.g. witness.example.org/w1.")
@LOG_OPTION
def init_command(db_path: Path, key_path: Path, name: str, log_vkeys: tuple[str, ...]) -> None:
    """Create the witness's key and database, and print its verifier key (publish that)."""
    if key_path.exists():
        _fail(f"{key_path} exists; a witness keeps its key (remove it yourself to start over)")
    try:
        cosigner = write_cosigner(key_path, name)
    except KeyFormatError as error:
        _fail(f"--name: {error}", 2)
    state = WitnessState.create(db_path)
    _add_logs(state, log_vkeys)
    click.echo(cosigner.vkey)


@witness_group.command("add-log")
@DB_OPTION
@click.argument("vkeys", nargs=-1, required=True, metavar="VKEY...")
def add_log_command(db_path: Path, vkeys: tuple[str, ...]) -> None:
    """Follow the log(s) whose verifier key(s) are given (a key's name is its log's origin)."""
    try:
        state = WitnessState.open(db_path)
    except WitnessStateError as error:
        _fail(str(error))
    _add_logs(state, vkeys, "VKEY")


@witness_group.command("serve")
@DB_OPTION
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The witness's private key file.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), required=True, help="Port (0: any free port).")
@LOG_OPTION
def serve_command(db_path: Path, key_path: Path, host: str, port: int, log_vkeys: tuple[str, ...]) -> None:
    """Serve the witness's HTTP API until interrupted.

    Prints one line ``witness <name> listening on http://HOST:PORT`` on stdout once it accepts
    connections. For production, run ``ledger.witness.server:create_witness_app`` under gunicorn.
    """
    from werkzeug.serving import make_server

    try:
        state = WitnessState.open(db_path) if db_path.exists() else WitnessState.create(db_path)
        cosigner = load_cosigner(key_path)
    except (WitnessStateError, OSError, KeyFormatError) as error:
        _fail(str(error))
    _add_logs(state, log_vkeys)
    if not state.origins():
        click.echo(
            "warning: this witness follows no log yet (use --log or `ledger witness add-log`)", err=True
        )
    server = make_server(host, port, WitnessApp(Witness(state, cosigner)), threaded=True)
    click.echo(f"witness {cosigner.name} listening on http://{host}:{server.server_port}", nl=True)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@witness_group.command("latest")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the witness's own database.",
)
@click.option("--url", help="Or ask a running witness (its URL prefix).")
@click.option("--origin", required=True, help="The log's origin.")
def latest_command(db_path: Path | None, url: str | None, origin: str) -> None:
    """Print the latest checkpoint the witness cosigned for a log (save it for --trusted-checkpoint)."""
    if (db_path is None) == (url is None):
        _fail("give exactly one of --db and --url", 2)
    if db_path is not None:
        try:
            latest = WitnessState.open(db_path).latest(origin)
        except WitnessStateError as error:
            _fail(str(error))
        if latest is None:
            _fail(f"the witness has cosigned no checkpoint of {origin!r}")
        click.echo(latest.note, nl=False)
        return
    assert url is not None
    address = f"{url.rstrip('/')}/checkpoint?{urllib.parse.urlencode({'origin': origin})}"
    if not address.startswith(("http://", "https://")):
        _fail("--url must be an http:// or https:// URL", 2)
    try:
        with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310 (scheme checked)
            click.echo(response.read().decode("utf-8"), nl=False)
    except urllib.error.HTTPError as error:
        _fail(f"{address}: {error.code} {error.read().decode('utf-8', 'replace').strip()}")
    except (urllib.error.URLError, OSError) as error:
        _fail(f"{address}: {error}")
