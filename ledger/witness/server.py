"""The witness's HTTP API: C2SP tlog-witness ``add-checkpoint``, and the cosigned checkpoint for auditors.

``POST /add-checkpoint`` (https://c2sp.org/tlog-witness). The body is::

    old <size the client believes the witness last cosigned>\\n
    <zero to 63 lines, each one base64 hash of the RFC 6962 consistency proof>\\n
    \\n
    <the signed checkpoint note>

and the answers are exactly the specification's:

=====  ==========================================================================================
200    the checkpoint is consistent: body = this witness's cosignature line(s) (``— name base64``)
400    malformed body (old line, proof lines, note or checkpoint), old size > checkpoint size,
       a non-empty proof with old size 0
403    no signature on the checkpoint verifies with a key the witness trusts for its origin
404    the witness does not follow the checkpoint's origin
409    old size is not the size it last cosigned (body: that size and a newline, ``Content-Type:
       text/x.tlog.size``), or the same size with a different root hash (same body)
422    the consistency proof from the cosigned checkpoint to this one does not verify
=====  ==========================================================================================

Refusals of a validly signed checkpoint (409 for a different root at the same size, 422) are
kept in the witness database with the request: they may prove the log forked.

``GET /checkpoint?origin=<origin>`` returns the latest checkpoint this witness cosigned for that
log: the log's note with this witness's cosignature line, ``text/plain``; 404 if none. An
auditor saves it and passes it to the verifiers as ``--trusted-checkpoint`` (and the witness's
key as ``--witness-key``). ``GET /key`` returns the witness's verifier key (a convenience: take
the key you trust from the witness's operator, not from the network).

Run it with ``ledger witness serve``, or under any WSGI server::

    gunicorn 'ledger.witness.server:create_witness_app("witness.sqlite3", "witness.key")'
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ledger.audit.checkpoint import MalformedCheckpoint, open_checkpoint, parse_checkpoint_body
from ledger.audit.cosignature import Cosigner
from ledger.audit.merkle import EMPTY_ROOT, ProofError, verify_consistency
from ledger.audit.note import KeyFormatError, NoteError, format_signature_line, split_note
from ledger.witness.state import CosignedCheckpoint, WitnessState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SIZE_CONTENT_TYPE = "text/x.tlog.size"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
MAX_PROOF_LINES = 63
MAX_BODY_BYTES = 1024 * 1024
MAX_TREE_SIZE = 2**63 - 1
"""SQLite integers are 64-bit; no log grows that long."""

_OLD_LINE = re.compile(r"old (0|[1-9][0-9]*)")
_HASH_SIZE = 32


class BadRequest(ValueError):
    """The request body is not an add-checkpoint request (400)."""


@dataclass(frozen=True)
class AddCheckpointRequest:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Split an add-checkpoint body into old size, proof hashes and note; raises :class:`BadRequest`."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    first, newline, rest = text.partition("\n")
    if not newline:
        raise BadRequest("the body must start with an 'old <size>' line ending in a newline")
    match = _OLD_LINE.fullmatch(first)
    if match is None:
        raise BadRequest("the first line must be 'old <size>' (decimal, no leading zeros)")
    old_size = int(match.group(1))
    if old_size > MAX_TREE_SIZE:
        raise BadRequest("old size is too large")
    proof: list[bytes] = []
    while True:
        line, newline, rest = rest.partition("\n")
        if not newline:
            raise BadRequest("no empty line between the consistency proof and the checkpoint")
        if line == "":
            break
        if len(proof) == MAX_PROOF_LINES:
            raise BadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
        try:
            digest = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise BadRequest(f"consistency proof line {len(proof) + 1} is not base64") from None
        if len(digest) != _HASH_SIZE:
            raise BadRequest(f"consistency proof line {len(proof) + 1} is not a 32-byte hash")
        proof.append(digest)
    return AddCheckpointRequest(old_size, tuple(proof), rest)


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = TEXT_CONTENT_TYPE


def _size_conflict(size: int) -> Reply:
    return Reply(409, f"{size}\n", SIZE_CONTENT_TYPE)


class Witness:
    """The witness's decisions, independent of HTTP (tests call it directly)."""

    def __init__(
        self, state: WitnessState, cosigner: Cosigner, clock: Callable[[], float] = time.time
    ) -> None:
        self.state = state
        self.cosigner = cosigner
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> Reply:
        try:
            request = parse_add_checkpoint(body)
            text, signatures = split_note(request.note)
            checkpoint = parse_checkpoint_body(text)
        except (BadRequest, NoteError, MalformedCheckpoint) as error:
            return Reply(400, f"{error}\n")
        if checkpoint.size > MAX_TREE_SIZE:
            return Reply(400, "checkpoint size is too large\n")
        verifiers = self.state.log_verifiers(checkpoint.origin)
        if not verifiers:
            return Reply(404, f"this witness does not follow the log {checkpoint.origin!r}\n")
        try:
            _checkpoint, key_ids = open_checkpoint(request.note, verifiers)
        except (NoteError, MalformedCheckpoint) as error:
            return Reply(403, f"the checkpoint is not signed by a key trusted for its origin: {error}\n")
        if request.old_size > checkpoint.size:
            return Reply(
                400, f"old size {request.old_size} is larger than the checkpoint's {checkpoint.size}\n"
            )
        if request.old_size == 0 and request.proof:
            return Reply(400, "the consistency proof must be empty when the old size is 0\n")
        log_lines = [
            format_signature_line(s)
            for s in signatures
            if s.name == checkpoint.origin and s.key_id in key_ids
        ]
        with self.state.transaction() as connection:
            latest = self.state.latest_in(connection, checkpoint.origin)
            cosigned_size = latest.size if latest is not None else 0
            cosigned_root = latest.root if latest is not None else EMPTY_ROOT
            if request.old_size != cosigned_size:
                return _size_conflict(cosigned_size)
            refusal: tuple[Reply, str] | None = None
            if request.old_size == checkpoint.size:
                if checkpoint.root != cosigned_root:
                    refusal = (
                        _size_conflict(cosigned_size),
                        f"root {checkpoint.root_hex} differs from the cosigned root {cosigned_root.hex()} "
                        f"at size {cosigned_size}",
                    )
                elif request.proof:
                    refusal = (Reply(422, "the proof between equal sizes must be empty\n"), "non-empty proof")
            elif request.old_size > 0:
                try:
                    verify_consistency(
                        request.old_size, checkpoint.size, request.proof, cosigned_root, checkpoint.root
                    )
                except ProofError as error:
                    reason = f"no consistency from the cosigned size {cosigned_size}: {error}"
                    refusal = (Reply(422, f"{reason}\n"), reason)
            if refusal is not None:
                reply, reason = refusal
                self.state.record_refusal_in(
                    connection,
                    checkpoint.origin,
                    request.old_size,
                    checkpoint.size,
                    reply.status,
                    reason,
                    body.decode("utf-8"),
                )
                return reply
            cosignature = self.cosigner.cosign(text, int(self.clock()))
            note = text + "\n" + "".join(f"{line}\n" for line in [*log_lines, cosignature.line])
            self.state.store_in(
                connection,
                CosignedCheckpoint(
                    checkpoint.origin, checkpoint.size, checkpoint.root, note, cosignature.timestamp
                ),
            )
        # Stored and committed before answering, as the specification requires.
        return Reply(200, cosignature.line + "\n")

    def checkpoint(self, origin: str | None) -> Reply:
        if not origin:
            return Reply(400, "give the log's origin: /checkpoint?origin=<origin>\n")
        latest = self.state.latest(origin)
        if latest is None:
            return Reply(404, f"this witness has cosigned no checkpoint of {origin!r}\n")
        return Reply(200, latest.note)

    def key(self) -> Reply:
        return Reply(200, self.cosigner.vkey + "\n")


class WitnessApp:
    """The WSGI application around a :class:`Witness`."""

    def __init__(self, witness: Witness) -> None:
        self.witness = witness
        self.url_map = Map(
            [
                Rule("/add-checkpoint", endpoint="add-checkpoint", methods=["POST"]),
                Rule("/checkpoint", endpoint="checkpoint", methods=["GET"]),
                Rule("/key", endpoint="key", methods=["GET"]),
            ]
        )

    def dispatch(self, request: Request) -> Reply:
        endpoint, _arguments = self.url_map.bind_to_environ(request.environ).match()
        if endpoint == "add-checkpoint":
            request.max_content_length = MAX_BODY_BYTES
            return self.witness.add_checkpoint(request.get_data(cache=False))
        if endpoint == "checkpoint":
            return self.witness.checkpoint(request.args.get("origin"))
        return self.witness.key()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            reply = self.dispatch(request)
        except RequestEntityTooLarge:
            reply = Reply(413, f"the body exceeds {MAX_BODY_BYTES} bytes\n")
        except HTTPException as error:
            return error(environ, start_response)
        response = Response(reply.body.encode("utf-8"), status=reply.status, content_type=reply.content_type)
        return response(environ, start_response)


def load_cosigner(key_path: Path) -> Cosigner:
    """The witness key written by ``ledger witness init``; raises OSError or KeyFormatError."""
    return Cosigner.from_skey(key_path.read_text(encoding="utf-8"))


def write_cosigner(key_path: Path, name: str) -> Cosigner:
    """Create a new witness key file (mode 0600); refuses to overwrite one."""
    import os

    cosigner = Cosigner.generate(name)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(cosigner.skey + "\n")
    return cosigner


def create_witness_app(db_path: str | Path, key_path: str | Path) -> WitnessApp:
    """The WSGI application of the witness whose database and key are at these paths."""
    state = WitnessState.open(Path(db_path))
    try:
        cosigner = load_cosigner(Path(key_path))
    except KeyFormatError as error:
        raise KeyFormatError(f"{key_path}: {error}") from None
    return WitnessApp(Witness(state, cosigner))
