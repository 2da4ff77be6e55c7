"""Crash safety: the service under gunicorn on PostgreSQL, killed (-9) or cut off from its database.

Writers post balanced adjustments, each with its own Idempotency-Key, as fast as they can. Mid-load
the whole gunicorn process group is killed with SIGKILL and started again (and, in the second
test, PostgreSQL is restarted under it). Afterwards every write a client saw acknowledged (201)
is in the books, every entry is whole (its declared postings, balanced), every key names at most
one entry and a retry of any key returns that entry, and the audit trail and the replay verify
once the entries queued at the moment of the crash are sequenced.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from ledger.audit.trail import sequence_pending
from ledger.extensions import db
from ledger.models import JournalEntry, Posting
from ledger.services.audit_verification import verify_database
from tests.builders import ADJUSTMENT
from tests.conftest import TEST_SECRET, DemoWorld, is_postgres

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres_only,
    pytest.mark.skipif(not is_postgres(), reason="gunicorn on PostgreSQL"),
    pytest.mark.skipif(
        shutil.which("pg_ctlcluster") is None, reason="needs the local PostgreSQL cluster tools"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
LOAD_WRITES = 40  # acknowledged writes before the disturbance and again after recovery


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(app: Flask, database_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "LEDGER_ENV": "testing",
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_INSTANCE_PATH": app.instance_path,
        "LEDGER_SECRET_KEY": TEST_SECRET,
        "LEDGER_ARGON2_MEMORY_KIB": "8",
        "LEDGER_ARGON2_TIME_COST": "1",
        "LEDGER_AUDIT_SEQUENCING": "background",  # as in production
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: SIGKILL reaches the workers too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(port)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


def _wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up")


class Writers:
    """Threads posting adjustments; they remember which keys the server acknowledged."""

    def __init__(self, port: int, token: str, organisation: str, count: int = 4) -> None:
        self.url = f"http://127.0.0.1:{port}/api/v1/organisations/{organisation}/journal-entries"
        self.token = token
        self.acknowledged: set[str] = set()
        self.attempted: set[str] = set()
        self.statuses: dict[int, int] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._write, daemon=True) for _ in range(count)]

    def post(self, key: str) -> int:
        request = urllib.request.Request(  # noqa: S310
            self.url,
            data=json.dumps(ADJUSTMENT).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return 0  # the connection broke: not acknowledged

    def _write(self) -> None:
        while not self.stop.is_set():
            key = uuid.uuid4().hex
            with self.lock:
                self.attempted.add(key)
            status = self.post(key)
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status == 201:
                    self.acknowledged.add(key)
            if status == 0:
                time.sleep(0.05)

    def wait_until(self, condition: Callable[[Writers], bool], what: str, timeout: float = 60) -> None:
        """Poll until ``condition`` holds (read under the lock) instead of sleeping a guessed time."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if condition(self):
                    return
                statuses = dict(self.statuses)
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {statuses}"
            time.sleep(0.05)

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _check_books(app: Flask, writers: Writers) -> None:
    with app.app_context():
        sequence_pending()  # entries queued when the sequencer died are appended now
        keyed = dict(
            db.session.execute(
                select(JournalEntry.idempotency_key, func.count())
                .where(JournalEntry.idempotency_key.in_(writers.attempted))
                .group_by(JournalEntry.idempotency_key)
            ).all()
        )
        missing = writers.acknowledged - set(keyed)
        assert not missing, f"{len(missing)} acknowledged writes are missing"
        assert all(count == 1 for count in keyed.values())
        # Nothing half-written: every entry has its declared postings and balances.
        whole = db.session.execute(
            select(JournalEntry.id, JournalEntry.posting_count, func.count(Posting.id))
            .join(Posting, Posting.journal_entry_id == JournalEntry.id)
            .group_by(JournalEntry.id, JournalEntry.posting_count)
        ).all()
        assert all(declared == found for _id, declared, found in whole)
        result = verify_database()
        assert result.ok, result.lines()
        db.session.remove()


def _scenario(app: Flask, world: DemoWorld, database_url: str, disturb: str) -> tuple[Writers, list[int]]:
    """Run writers, disturb the service mid-load, let it recover; then retry keys sent during it."""
    token = world.auth("finance1")["Authorization"].split(" ", 1)[1]
    organisation = world.member_organisation["member01"]
    port = _free_port()
    with ExitStack() as servers:
        server = servers.enter_context(gunicorn(app, database_url, port))
        writers = Writers(port, token, organisation)
        with writers:
            writers.wait_until(lambda w: len(w.acknowledged) >= LOAD_WRITES, "writes under load")
            if disturb == "kill":
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
                broken = writers.statuses.get(0, 0)
                writers.wait_until(lambda w: w.statuses.get(0, 0) > broken, "a write to the dead server")
                servers.enter_context(gunicorn(app, database_url, port))
            else:
                cluster = sorted(os.listdir("/etc/postgresql"))[-1]
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"],
                    check=True,
                    capture_output=True,
                )
            recovered = len(writers.acknowledged)
            writers.wait_until(
                lambda w: len(w.acknowledged) >= recovered + LOAD_WRITES, "writes after recovery"
            )
        assert writers.acknowledged, writers.statuses
        # A retry of a key sent around the disturbance returns its one entry, or makes it now.
        retries = [writers.post(key) for key in sorted(writers.attempted)[:40]]
    return writers, retries


def test_kill_9_mid_load_loses_no_acknowledged_write(app: Flask, world: DemoWorld, database_url: str) -> None:
    writers, retries = _scenario(app, world, database_url, "kill")
    assert writers.statuses.get(0, 0) >= 1  # the crash did cut requests off
    assert set(retries) <= {200, 201}
    _check_books(app, writers)


@pytest.mark.serial  # the restart drops every other test's connections too
def test_a_database_restart_mid_load_loses_no_acknowledged_write(
    app: Flask, world: DemoWorld, database_url: str
) -> None:
    writers, retries = _scenario(app, world, database_url, "restart")
    assert set(retries) <= {200, 201}
    with app.app_context():
        db.engine.dispose()  # this process's own connections died with the restart too
    _check_books(app, writers)
    assert max(writers.statuses) < 600
