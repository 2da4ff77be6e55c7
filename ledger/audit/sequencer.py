"""Running the sequencer beside the requests, so that a request only queues its entries.

In ``background`` mode (the production default) a commit that queued audit entries wakes this
process's sequencer thread and returns at once. The thread waits a few milliseconds so that the
entries of many requests gather, then appends them to the log in one batch under the one lock.
Only one process sequences at a time; the others see the lock taken and leave it to that one,
which looks at the queue again after every batch. An idle wake-up appends entries left queued by
a process that died, and signs the checkpoint that falls due by time: the thread sleeps at most
until then (``LEDGER_CHECKPOINT_EVERY_SECONDS``, default 1 s, after the last checkpoint), so no
appended entry waits longer than that for a signed checkpoint.

In ``inline`` mode (development and tests) the committing request appends its entries itself
before it answers, so what a request did is in the log when the response arrives.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

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


class BackgroundSequencer:
    """One daemon thread per process (started on first use, again after a fork)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0

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

    def _run(self) -> None:
        sleep = IDLE_SECONDS
        while True:
            woken = self.wake.wait(timeout=sleep)
            self.wake.clear()
            stopping = self.stopping.is_set()
            if not stopping:
                self.stopping.wait(GATHER_SECONDS)
            lock_was_taken = False
            with self.app.app_context():
                try:
                    run = sequence_queue(wait=stopping, gather=0.0 if stopping else GATHER_SECONDS)
                    lock_was_taken = run.lock_was_taken
                    if not woken:
                        sign_checkpoint_if_due()
                    due = seconds_until_checkpoint_due()
                    sleep = IDLE_SECONDS if due is None else min(IDLE_SECONDS, max(due, SHORTEST_SLEEP))
                except Exception:
                    log.exception("the audit sequencer failed; the entries stay queued and it will retry")
                finally:
                    db.session.remove()
            if stopping:
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
