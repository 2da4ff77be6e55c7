"""Sending signed checkpoints to witnesses and keeping their cosignatures (C2SP tlog-witness client).

``LEDGER_WITNESSES`` lists the witnesses (``name=url=vkey``, see :mod:`ledger.config`). After a
transaction that stored a signed checkpoint has *committed*, the newest checkpoint goes to each
witness: ``POST <url>/add-checkpoint`` with ``old <size>``, where size is the largest checkpoint
that witness has cosigned (0 the first time), the RFC 6962 consistency proof from that size, an
empty line and the signed note. A witness that answers 409 (``text/x.tlog.size``) has cosigned
another size: the request is made again from that size. A 200 answer holds cosignature lines;
those that verify with the witness's configured key are kept in ``witness_cosignature``.

Nothing here runs under the log's lock or inside the sequencer's transaction: the push starts
from an ``after_commit`` hook, reads what it needs in short transactions of its own, and makes
its network calls with no transaction open (on SQLite an open transaction holds the database's
write lock). In ``inline`` sequencing (development, tests) the push happens right away in the
committing thread; in ``background`` sequencing a daemon thread per process does it. A witness
that is down, slow or refuses never breaks a write: the failure is logged as a warning and the
next checkpoint tries again. ``ledger audit witness`` pushes the newest checkpoint on demand.

Reading side: :func:`cosigned_note` and :func:`cosigned_checkpoint_notes` give checkpoints with
their cosignature lines appended after the log's signature, still a valid C2SP signed note (the
API and export bundles serve them so).
"""

from __future__ import annotations

import base64
import http.client
import logging
import os
import threading
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, current_app, has_app_context
from sqlalchemy import Connection, Table, event, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.audit import store
from ledger.audit.cosignature import Cosignature, CosignatureError, append_signature_lines
from ledger.audit.merkle import consistency_proof_from_nodes, consistency_proof_keys
from ledger.audit.note import NoteError, parse_signature_line, split_note
from ledger.config import Settings, WitnessEndpoint, current_settings
from ledger.extensions import db
from ledger.models.audit import AuditCheckpoint, MerkleNode
from ledger.models.witness import WitnessCosignature

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
"""Per request to a witness; a slow witness only delays the next push, never a write (background)."""
MAX_ATTEMPTS = 3
SIZE_CONTENT_TYPE = "text/x.tlog.size"
EXTENSION = "ledger.witnessing"
_NEW_CHECKPOINT = "ledger.new_checkpoint"

_cosignatures = cast(Table, WitnessCosignature.__table__)
_checkpoints = cast(Table, AuditCheckpoint.__table__)
_nodes = cast(Table, MerkleNode.__table__)
_push_lock = threading.Lock()


@dataclass(frozen=True)
class WitnessResult:
    """What one witness did with the newest checkpoint."""

    witness: str
    ok: bool
    message: str
    size: int | None = None


# --- serving checkpoints with their cosignatures -----------------------------------------


def _lines_by_size(sizes: list[int] | None = None) -> dict[int, list[str]]:
    statement = select(_cosignatures.c.size, _cosignatures.c.line).order_by(
        _cosignatures.c.size, _cosignatures.c.key_name, _cosignatures.c.key_id
    )
    if sizes is not None:
        statement = statement.where(_cosignatures.c.size.in_(sizes))
    lines: dict[int, list[str]] = defaultdict(list)
    for size, line in db.session.execute(statement):
        lines[int(size)].append(line)
    return lines


def cosigned_note(checkpoint: AuditCheckpoint) -> str:
    """The checkpoint's signed note with the witnesses' cosignature lines after the log's signature."""
    lines = _lines_by_size([checkpoint.size]).get(checkpoint.size)
    return append_signature_lines(checkpoint.note, lines) if lines else checkpoint.note


def cosigned_checkpoint_notes() -> dict[int, str]:
    """Every checkpoint by size, as :func:`cosigned_note` gives it (for export and verification)."""
    notes = store.checkpoint_notes()
    for size, lines in _lines_by_size().items():
        if size in notes:
            notes[size] = append_signature_lines(notes[size], lines)
    return notes


# --- pushing checkpoints to witnesses ------------------------------------------------------


def _read(work: Any) -> Any:
    """Run ``work(connection)`` in a short transaction of its own (never across a network call)."""
    with db.engine.begin() as connection:
        return work(connection)


def _latest_checkpoint(connection: Connection) -> tuple[int, str] | None:
    row = connection.execute(
        select(_checkpoints.c.size, _checkpoints.c.note).order_by(_checkpoints.c.size.desc()).limit(1)
    ).first()
    return None if row is None else (int(row.size), str(row.note))


def _cosigned_size(connection: Connection, witness: WitnessEndpoint) -> int:
    """The largest checkpoint this witness's key has cosigned for us (0: none yet)."""
    size = connection.scalar(
        select(func.max(_cosignatures.c.size)).where(
            _cosignatures.c.key_name == witness.verifier.name,
            _cosignatures.c.key_id == witness.verifier.key_id,
        )
    )
    return int(size or 0)


def _consistency_proof(connection: Connection, size1: int, size2: int) -> list[bytes]:
    keys = consistency_proof_keys(size1, size2)
    rows = connection.execute(
        select(_nodes.c.level, _nodes.c.idx, _nodes.c.hash).where(
            tuple_(_nodes.c.level, _nodes.c.idx).in_(sorted(set(keys)))
        )
    )
    nodes = {(int(level), int(index)): bytes(digest) for level, index, digest in rows}
    return consistency_proof_from_nodes(size1, size2, nodes)


def _store_cosignature(connection: Connection, size: int, cosignature: Cosignature) -> None:
    row = {
        "size": size,
        "key_name": cosignature.name,
        "key_id": cosignature.key_id,
        "timestamp": cosignature.timestamp,
        "line": cosignature.line,
    }
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    # Another process may have kept this witness's cosignature of the same size first: keep that one.
    statement = dialect_insert(_cosignatures).values(**row, received_at=func.now()).on_conflict_do_nothing()
    connection.execute(statement)


def _post(url: str, body: str) -> tuple[int, str, str]:
    """POST ``body``; returns (status, content type, text). Raises OSError-like errors when unreachable."""
    request = urllib.request.Request(  # noqa: S310 (the URL's scheme is checked in ledger.config)
        f"{url}/add-checkpoint",
        data=body.encode("utf-8"),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", errors="replace")
        return error.code, error.headers.get("Content-Type", ""), text


def _valid_cosignatures(witness: WitnessEndpoint, text: str, answer: str) -> list[Cosignature]:
    """The cosignatures in a 200 answer made by the configured key over ``text`` (others ignored)."""
    valid = []
    for line in answer.splitlines():
        if not line:
            continue
        try:
            signature = parse_signature_line(line)
        except NoteError:
            continue
        if not witness.verifier.matches(signature):
            continue
        try:
            cosignature = Cosignature.from_note_signature(signature)
        except CosignatureError:
            continue
        if witness.verifier.verifies(text, cosignature):
            valid.append(cosignature)
    return valid


def _push_to(witness: WitnessEndpoint, size: int, note: str) -> WitnessResult:
    text, _signatures = split_note(note)

    def result(ok: bool, message: str) -> WitnessResult:
        return WitnessResult(witness.name, ok, message, size if ok else None)

    old = _read(lambda connection: _cosigned_size(connection, witness))
    if old == size:
        return result(True, f"checkpoint {size} is already cosigned")
    refused_at: set[int] = set()
    for _attempt in range(MAX_ATTEMPTS):
        if old > size:
            return result(
                False,
                f"the witness has cosigned size {old}, beyond this log's newest checkpoint {size}: "
                "was the database restored from a backup, or the log forked?",
            )
        proof = [] if old in (0, size) else _read(lambda c, m=old: _consistency_proof(c, m, size))
        body = f"old {old}\n" + "".join(f"{base64.b64encode(h).decode()}\n" for h in proof) + "\n" + note
        try:
            status, content_type, answer = _post(witness.url, body)
        except (OSError, http.client.HTTPException, ValueError) as error:
            return result(False, f"unreachable ({witness.url}): {error}")
        if status == 200:
            cosignatures = _valid_cosignatures(witness, text, answer)
            if not cosignatures:
                return result(False, f"answered 200 without a valid cosignature by {witness.verifier.vkey}")
            _read(lambda connection, kept=cosignatures[0]: _store_cosignature(connection, size, kept))
            return result(True, f"cosigned checkpoint {size} (from size {old})")
        if status == 409 and content_type.split(";")[0].strip() == SIZE_CONTENT_TYPE:
            try:
                witness_size = int(answer.strip())
            except ValueError:
                return result(False, f"answered 409 with an unreadable size {answer[:40]!r}")
            if witness_size == old or witness_size in refused_at:
                return result(
                    False,
                    f"refused: it cosigned a different root at size {witness_size} (a fork of this log?)",
                )
            refused_at.add(old)
            old = witness_size
            continue
        return result(False, f"refused with HTTP {status}: {answer.strip()[:300]}")
    return result(False, f"gave up after {MAX_ATTEMPTS} attempts")


def push_latest_checkpoint() -> list[WitnessResult]:
    """Send the newest signed checkpoint to every configured witness now; one result per witness.

    Failures are results (and warnings in the log), never exceptions: writes must not depend on
    witnesses being up.
    """
    settings = current_settings()
    if not settings.witnesses:
        return []
    with _push_lock:
        latest = _read(_latest_checkpoint)
        if latest is None:
            return [WitnessResult(w.name, False, "no signed checkpoint yet") for w in settings.witnesses]
        size, note = latest
        results = []
        for witness in settings.witnesses:
            try:
                outcome = _push_to(witness, size, note)
            except Exception as error:  # a witness must never break the caller
                log.exception("witness %s: pushing checkpoint %s failed", witness.name, size)
                outcome = WitnessResult(witness.name, False, f"failed: {error}")
            if not outcome.ok:
                log.warning(
                    "witness %s did not cosign checkpoint %s: %s", witness.name, size, outcome.message
                )
            results.append(outcome)
        return results


class BackgroundWitnessing:
    """One daemon thread per process that pushes the newest checkpoint whenever one is committed."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def notify(self) -> None:
        with self.lock:
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="ledger-witnessing", daemon=True)
                self.thread.start()
        self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            with self.app.app_context():
                try:
                    push_latest_checkpoint()
                except Exception:
                    log.exception("sending the checkpoint to the witnesses failed; the next one retries")


def checkpoint_committed(app: Flask) -> None:
    """A signed checkpoint was committed: push it now (inline) or wake the background thread."""
    settings: Settings = app.extensions["ledger.settings"]
    if not settings.witnesses:
        return
    if settings.audit_sequencing == "inline":
        try:
            push_latest_checkpoint()
        except Exception:
            log.exception("sending the checkpoint to the witnesses failed; the next one retries")
        return
    pusher = app.extensions.get(EXTENSION)
    if pusher is None:
        pusher = app.extensions.setdefault(EXTENSION, BackgroundWitnessing(app))
    pusher.notify()


@event.listens_for(Session, "after_flush")
def _note_new_checkpoint(session: Session, _flush_context: Any) -> None:
    if any(isinstance(instance, AuditCheckpoint) for instance in session.new):
        session.info[_NEW_CHECKPOINT] = True


@event.listens_for(Session, "after_rollback")
def _forget_new_checkpoint(session: Session) -> None:
    session.info.pop(_NEW_CHECKPOINT, None)


@event.listens_for(Session, "after_commit")
def _push_committed_checkpoint(session: Session) -> None:
    # The log's transaction (and so its lock) has ended here: network calls may follow.
    if session.info.pop(_NEW_CHECKPOINT, False) and has_app_context():
        checkpoint_committed(cast(Flask, current_app._get_current_object()))  # type: ignore[attr-defined]
