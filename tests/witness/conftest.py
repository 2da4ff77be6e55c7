"""Witnesses in their own processes (``ledger witness serve``), and an app that uses them.

``witnesses`` starts two witnesses, each with its own key and SQLite file, following the test
log's key, on free ports, and waits until each has said it is listening. The ``app`` fixture of
this folder is the usual one plus ``LEDGER_WITNESSES`` naming them, so ``world``, ``client`` and
``runner`` here talk to a log that sends its checkpoints to real witness processes.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from ledger import create_app
from ledger.audit.keys import KEY_FILE, load_signer
from ledger.audit.sequencer import stop_sequencer
from ledger.config import load_settings
from ledger.extensions import db
from ledger.witness.cli import witness_group
from tests.conftest import settings_for_tests

LEDGER = str(Path(sys.executable).parent / "ledger")
START_TIMEOUT = 30.0


@dataclass
class RunningWitness:
    label: str
    name: str
    vkey: str
    url: str
    db: Path
    process: subprocess.Popen[str]

    @property
    def setting(self) -> str:
        """This witness's entry in ``LEDGER_WITNESSES``."""
        return f"{self.label}={self.url}={self.vkey}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def log_origin() -> str:
    return load_settings({"LEDGER_SECRET_KEY": "x" * 40}).log_origin


def log_vkey(template_instance: Path) -> str:
    """The test log's verifier key (every test database is signed with the template's key)."""
    signer = load_signer(template_instance, log_origin())
    assert signer is not None
    return signer.vkey


def _wait_until_listening(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=START_TIMEOUT):
            raise AssertionError("the witness did not start in time")
    line = process.stdout.readline()
    if " listening on " not in line:
        raise AssertionError(f"the witness did not start: {line!r} (exit {process.poll()})")
    return line.strip().rsplit(" ", 1)[1]


def start_witnesses(directory: Path, labels: list[str], vkey: str) -> list[RunningWitness]:
    """Create and start one witness per label, in parallel; returns them listening."""
    started = []
    for label in labels:
        db_path, key_path = directory / f"{label}.sqlite3", directory / f"{label}.key"
        name = f"witness.example.org/{label}"
        result = CliRunner().invoke(
            witness_group,
            ["init", "--db", str(db_path), "--key", str(key_path), "--name", name, "--log", vkey],
        )
        assert result.exit_code == 0, result.output
        witness_vkey = result.stdout.strip().splitlines()[-1]
        with (directory / f"{label}.log").open("w") as log_file:  # the child keeps its own copy
            process = subprocess.Popen(
                [LEDGER, "witness", "serve", "--db", str(db_path), "--key", str(key_path), "--port", "0"],
                stdout=subprocess.PIPE,
                stderr=log_file,
                text=True,
                env={**os.environ, "PYTHONWARNINGS": "error"},
            )
        started.append((label, name, witness_vkey, db_path, process))
    return [
        RunningWitness(label, name, witness_vkey, _wait_until_listening(process), db_path, process)
        for label, name, witness_vkey, db_path, process in started
    ]


@pytest.fixture
def witnesses(tmp_path: Path, template_instance: Path) -> Iterator[list[RunningWitness]]:
    directory = tmp_path / "witnesses"
    directory.mkdir()
    running = start_witnesses(directory, ["w1", "w2"], log_vkey(template_instance))
    yield running
    for witness in running:
        witness.stop()


@pytest.fixture
def app(
    database_url: str, tmp_path: Path, template_instance: Path, witnesses: list[RunningWitness]
) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy2(template_instance / KEY_FILE, instance / KEY_FILE)
    config = settings_for_tests(database_url, instance)
    config["LEDGER_WITNESSES"] = ",".join(witness.setting for witness in witnesses)
    app = create_app(config)
    yield app
    stop_sequencer(app)
    with app.app_context():
        db.engine.dispose()
