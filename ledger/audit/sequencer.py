"""Running the sequencer beside the requests, so that a request only queues its entries.

In ``background`` mode (the production default) a commit that queued audit entries wakes this
process's sequencer thread and returns at once. On PostgreSQL one process is the *leader*: its
thread holds a session advisory lock on a connection of its own, and it alone does the Merkle
work, for every process. It appends what is queued in batches under the log's one lock, looking
at the queue again every 20 ms while entries keep coming and, when the log is quiet, at most
every quarter of a second (sooner when its own process commits). The other processes' threads
are followers: they do nothing but ask for the leader's lock now and then (at most once a
second), so that when the leader's process ends or its connection drops (the lock goes with
it) another takes over within about a second. Before, every process's thread went for the
log's lock after its own commits, and sixteen of them mostly found each other in the way.

On SQLite (one writer at a time anyway) every process sequences its own commits, as before. An
idle wake-up appends entries left queued by a process that died, and the leader signs the
checkpoint that falls due by time: it sleeps at most until then
(``LEDGER_CHECKPOINT_EVERY_SECONDS``, default 1 s, after the last checkpoint), so no appended
entry waits longer than that for a signed checkpoint. The log's own lock (the head row) still
decides who appends: the leader lock only keeps the processes from competing for it.

In ``inline`` mode (development and tests) the committing request appends its entries itself
before it answers, so what a request did is in the log when the response arrives.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from sqlalchemy import Connection, text

from ledger.audit.trail import (
    seconds_until_checkpoint_due,
    sequence_pending,
    sequence_queue,
    sign_checkpoint_if_due,
)
from ledger.extensions import db

log = logging.getLogger(__name__)

EXTENSION = "ledger.sequencer"
GATHER_SECONDS = 0.02
BACKOFF_SECONDS = 0.2
IDLE_SECONDS = 1.0
SHORTEST_SLEEP = 0.01
# How often a quiet leader looks at the queue for entries other processes committed.
LEADER_POLL_SECONDS = 0.25
# How often a follower asks for the leader's lock, and a leader checks its connection.
FOLLOWER_RETRY_SECONDS = 1.0
LEADER_CHECK_SECONDS = 5.0
# pg_advisory_lock's key for the sequencer's leader (an arbitrary constant: "CFL" "seq").
LEADER_LOCK_KEY = 0x43464C_736571
# Connections a forked child inherited from its parent's leader: kept, never used or closed
# (closing one would end the parent's session, and its lock, on the socket they share).
_inherited: list[Any] = []


class Leadership:
    """This process's claim to be the one sequencer (PostgreSQL advisory lock on its own connection)."""

    def __init__(self) -> None:
        self.connection: Connection | None = None
        self.pid = 0
        self.next_try = 0.0
        self.next_check = 0.0

    def held(self) -> bool:
        """Whether this process leads, asking for the lock when it is time to ask again."""
        if self.pid != os.getpid():
            if self.connection is not None:
                _inherited.append(self.connection)
            self.connection, self.pid, self.next_try = None, os.getpid(), 0.0
        now = time.monotonic()
        if self.connection is not None:
            if now >= self.next_check:
                self.next_check = now + LEADER_CHECK_SECONDS
                try:
                    self.connection.execute(text("SELECT 1"))
                    self.connection.commit()
                except Exception:
                    log.warning("the audit sequencer lost its leader connection; another process may lead")
                    self.release()
                    return False
            return True
        if now < self.next_try:
            return False
        self.next_try = now + FOLLOWER_RETRY_SECONDS
        connection = db.engine.connect()
        try:
            won = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY})
            leads = bool(won.scalar())
            connection.commit()  # a session lock outlives the transaction; do not sit in one
        except Exception:
            connection.close()
            raise
        if not leads:
            connection.close()
            return False
        self.connection, self.next_check = connection, now + LEADER_CHECK_SECONDS
        return True

    def release(self) -> None:
        if self.connection is not None and self.pid == os.getpid():
            try:
                self.connection.invalidate()  # ends the session, and the lock with it
            except Exception:
                log.debug("closing the leader connection failed", exc_info=True)
        self.connection = None


class BackgroundSequencer:
    """One daemon thread per process (started on first use, again after a fork)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.leadership = Leadership()

    def notify(self) -> None:
        with self.lock:
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                self.pid = os.getpid()
                self.stopping.clear()
                self.thread = threading.Thread(target=self._run, name="ledger-audit-sequencer", daemon=True)
                self.thread.start()
        self.wake.set()

    def stop(self) -> None:
        """Finish the current batch, append what is queued, and end the thread."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None and self.pid == os.getpid():
            self.thread.join(timeout=30)
        self.thread = None

    def _leads(self) -> bool:
        """Whether this process's thread does the work: on SQLite always, on PostgreSQL the leader's."""
        if db.engine.dialect.name != "postgresql":
            return True
        try:
            return self.leadership.held()
        except Exception:
            log.exception("the audit sequencer could not ask for leadership; it will ask again")
            return False

    def _run(self) -> None:
        sleep = IDLE_SECONDS
        quiet_polls = 0
        while True:
            woken = self.wake.wait(timeout=sleep)
            self.wake.clear()
            stopping = self.stopping.is_set()
            lock_was_taken = False
            with self.app.app_context():
                try:
                    leads = stopping or self._leads()
                    if not leads:
                        # The leader appends this process's entries too; nothing to do but ask
                        # for its lock again later (``Leadership.held`` paces the asking).
                        sleep = FOLLOWER_RETRY_SECONDS
                        continue
                    if not stopping and woken:
                        self.stopping.wait(GATHER_SECONDS)
                    run = sequence_queue(wait=stopping, gather=0.0 if stopping else GATHER_SECONDS)
                    lock_was_taken = run.lock_was_taken
                    if not woken:
                        sign_checkpoint_if_due()
                    due = seconds_until_checkpoint_due()
                    sleep = IDLE_SECONDS if due is None else min(IDLE_SECONDS, max(due, SHORTEST_SLEEP))
                    if self.leadership.connection is not None:
                        # The leader polls for what the followers committed: often while entries
                        # keep coming, less often as the log stays quiet.
                        quiet_polls = 0 if run.appended else quiet_polls + 1
                        poll = min(LEADER_POLL_SECONDS, GATHER_SECONDS * 2**quiet_polls)
                        sleep = min(sleep, poll)
                except Exception:
                    log.exception("the audit sequencer failed; the entries stay queued and it will retry")
                finally:
                    db.session.remove()
            if stopping:
                self.leadership.release()
                return
            if lock_was_taken:
                # Another process is sequencing and will take our entries too; asking again at
                # once would only add load. A wake-up after the pause still finds anything left.
                self.stopping.wait(BACKOFF_SECONDS)


def entries_committed(app: Any, *, append_now: bool = False) -> None:
    """Called after a commit that queued audit entries: append them now or wake the thread."""
    if append_now or app.extensions["ledger.settings"].audit_sequencing == "inline":
        try:
            sequence_pending(wait=False)
        except Exception:
            log.exception("audit entries stay queued: the sequencer failed and will retry")
        return
    sequencer = app.extensions.get(EXTENSION)
    if sequencer is None:
        sequencer = app.extensions.setdefault(EXTENSION, BackgroundSequencer(app))
    sequencer.notify()


def stop_sequencer(app: Any) -> None:
    sequencer = app.extensions.get(EXTENSION)
    if sequencer is not None:
        sequencer.stop()
