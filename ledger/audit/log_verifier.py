"""Streaming verification of an audit log against its signed checkpoints.

:func:`verify_log` reads entries once, in ``seq`` order, holding only the
previous leaf hash and a Merkle frontier (O(log n) memory), and checks, for
each entry in turn:

1. the stored bytes are exactly canonical JCS (``not_canonical``);
2. they form a valid entry object (``malformed_entry``);
3. ``seq`` continues the run 1, 2, 3, ... (``gap``);
4. ``prev`` is the leaf hash recomputed from the previous entry's bytes
   (``broken_link``);
5. a stored leaf hash, when the source has one, equals the recomputed one
   (``hash_mismatch``): stored hashes are never trusted, only compared;

and, as soon as the stream reaches a checkpoint's tree size, that the
checkpoint is signed by a trusted key for this log's origin
(``checkpoint_signature_invalid``) and that its root is the Merkle root of
the entries so far (``checkpoint_root_mismatch``). After the last entry, any
checkpoint still unchecked covers entries that are not there
(``checkpoint_beyond_log``).

Checkpoints the verifying party saved earlier (:class:`TrustedCheckpoint`,
``--trusted-checkpoint``) are checked the same way when the stream reaches
their size, but fail with their own reasons: the log no longer has their root
(``trusted_checkpoint_mismatch``: forked or rewritten) or no longer reaches
their size (``trusted_checkpoint_beyond_log``: truncated). They are what
catches an administrator who deleted or rewrote entries together with the
log's own checkpoints.

Witnesses (``--witness-key``, C2SP tlog-cosignature): every checkpoint note,
the log's own and the saved ones, may carry cosignature lines. A line that
claims one of the given witness keys (same name and key id) must verify
(``cosignature_invalid``); lines from other keys are ignored, as the signed-note
specification says. After the whole log has passed, the *newest* checkpoint
(the largest tree size; every checkpoint below it is consistent with it, as the
stream just showed) must carry valid cosignatures from at least
``witness_quorum`` distinct given keys (``witness_quorum_not_met``). Older
checkpoints need none: a witness cosigns a checkpoint only after checking it
extends every one it cosigned before, so a quorum on the newest covers the log
up to that size.

The first failure ends the run and is returned in the report. The same core
serves the offline verifier (entries from ``entries.jsonl``) and the server's
``ledger audit verify`` (rows from the database).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ledger.audit.canonical import (
    ZERO_HASH,
    JsonValue,
    MalformedEntry,
    NotCanonical,
    leaf_hash,
    parse_canonical,
    validate_entry,
)
from ledger.audit.checkpoint import Checkpoint, MalformedCheckpoint, open_checkpoint, parse_checkpoint_body
from ledger.audit.cosignature import CosignatureVerifier, check_cosignatures
from ledger.audit.merkle import MerkleFrontier
from ledger.audit.note import NoteError, NoteVerifier, split_note
from ledger.audit.report import CheckpointSummary, Reason, Trust, VerificationReport

DEFAULT_PROGRESS_INTERVAL = 100_000

ProgressCallback = Callable[[int], None]
"""Called with the number of entries checked so far."""


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One stored entry as a source hands it over.

    ``seq`` is where the source says the entry sits (a row's ``seq`` column,
    or a line's position in ``entries.jsonl``); ``canonical`` is the stored
    bytes; ``stored_leaf_hash`` is the hash the source kept, if any.
    """

    seq: int
    canonical: bytes
    stored_leaf_hash: bytes | None = None


@dataclass(frozen=True, slots=True)
class StoredRange:
    """A range of stored entries as its source hands them over, column by column and in order:
    each one's ``seq``, stored bytes and, if the source keeps them, leaf hashes (a block read
    at once, as a worker process verifies it; the columns of :class:`LogRecord`)."""

    seqs: list[int]
    lines: list[bytes]
    leaf_hashes: list[bytes] | None = None
    block: bytes | None = None
    """The lines as read, each ending with a newline, when the source has them so."""

    def joined(self) -> bytes:
        """The lines as one block, each ending with a newline."""
        return self.block if self.block is not None else b"\n".join(self.lines) + b"\n"

    def records(self) -> Iterator[LogRecord]:
        hashes = self.leaf_hashes
        for index, (seq, line) in enumerate(zip(self.seqs, self.lines, strict=True)):
            yield LogRecord(seq, line, None if hashes is None else hashes[index])


class RecordSourceError(Exception):
    """Raised by a record source that cannot deliver an entry at ``seq``.

    :func:`verify_log` turns it into a failure report at that ``seq`` (for
    example a last line of ``entries.jsonl`` without its newline).
    """

    def __init__(self, seq: int, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.seq = seq
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class TrustedCheckpoint:
    """A signed checkpoint saved earlier by whoever verifies; the log must still contain it.

    ``name`` says where it came from (a file) in messages; ``size`` is read from the note's text
    only to know when to check it: the signature is verified before the root is compared.
    """

    name: str
    note: str
    size: int

    @classmethod
    def read(cls, name: str, note: str) -> TrustedCheckpoint:
        """Raises :class:`NoteError` or :class:`MalformedCheckpoint` for a text that is no checkpoint."""
        text, _signatures = split_note(note)
        return cls(name, note, parse_checkpoint_body(text).size)


class _Failure(Exception):
    """Internal: stops the stream with a located failure."""

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        seq: int | None = None,
        checkpoint_size: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.seq = seq
        self.checkpoint_size = checkpoint_size


_fast_entry: Callable[[bytes], dict[str, JsonValue] | None] | None = None


def _load_fast_entry() -> Callable[[bytes], dict[str, JsonValue] | None]:
    # Imported on first use, so that only a verification loads msgspec and the fast path's types:
    # the service's requests import this module (through the trail) but never verify. (With it
    # imported at the top, tests/reliability/test_properties.py's derandomized run on PostgreSQL
    # took another course, for a reason not yet found.)
    global _fast_entry
    from ledger.audit.fast_entry import fast_entry

    _fast_entry = fast_entry
    return fast_entry


def parse_entry(canonical: bytes, seq: int) -> dict[str, JsonValue]:
    """The entry in ``canonical`` once its bytes are proven canonical and its shape valid.

    The fast path (:mod:`ledger.audit.fast_entry`) accepts what it is sure of; anything else
    takes the reference parser, which accepts it too or names the problem.
    """
    entry = (_fast_entry or _load_fast_entry())(canonical)
    if entry is not None:
        return entry
    try:
        value = parse_canonical(canonical)
    except NotCanonical as error:
        raise _Failure(Reason.NOT_CANONICAL, f"stored bytes {error}", seq=seq) from None
    try:
        validate_entry(value)
    except MalformedEntry as error:
        raise _Failure(Reason.MALFORMED_ENTRY, str(error), seq=seq) from None
    assert isinstance(value, dict)  # validate_entry guarantees it
    return value


def check_record(
    record: LogRecord, expected: int, previous_hash: bytes | None
) -> tuple[dict[str, JsonValue], bytes]:
    """One entry's own checks (1-5 above) at position ``expected``; returns it and its leaf hash.

    ``previous_hash`` None skips the link to the previous entry (a range verified apart from
    the entries before it, whose caller checks the first ``prev`` itself).
    """
    if record.seq != expected:
        raise _Failure(
            Reason.GAP, f"expected seq {expected}, the next stored row is seq {record.seq}", seq=expected
        )
    entry = parse_entry(record.canonical, expected)
    if entry["seq"] != expected:
        raise _Failure(
            Reason.GAP,
            f"expected seq {expected}, found seq {entry['seq']}: an entry is missing, "
            "duplicated or out of order",
            seq=expected,
        )
    if previous_hash is not None and entry["prev"] != previous_hash.hex():
        before = (
            "64 zeros for the first entry"
            if expected == 1
            else f"the leaf hash of seq {expected - 1}; seq {expected - 1} or {expected} was altered"
        )
        raise _Failure(Reason.BROKEN_LINK, f"prev is not {before}", seq=expected)
    digest = leaf_hash(record.canonical)
    if record.stored_leaf_hash is not None and record.stored_leaf_hash != digest:
        raise _Failure(
            Reason.HASH_MISMATCH,
            f"stored leaf hash {record.stored_leaf_hash.hex()} differs from the recomputed {digest.hex()}",
            seq=expected,
        )
    return entry, digest


class _LogVerification:
    """State of one streaming run; see :func:`verify_log`."""

    def __init__(
        self,
        checkpoints: Mapping[int, str],
        verifiers: Iterable[NoteVerifier],
        origin: str,
        trusted: Iterable[TrustedCheckpoint] = (),
        witnesses: Sequence[CosignatureVerifier] = (),
        witness_quorum: int = 0,
    ) -> None:
        self.checkpoints = checkpoints
        self.pending_sizes = sorted(checkpoints, reverse=True)  # smallest last: pop() order
        self.pending_trusted = sorted(trusted, key=lambda t: t.size, reverse=True)
        self.trusted_checked = 0
        self.verifiers = tuple(verifiers)
        self.origin = origin
        self.frontier = MerkleFrontier()
        self.previous_hash = ZERO_HASH
        self.checked: list[CheckpointSummary] = []
        self.last_verified_size = 0
        self.witnesses = tuple(dict.fromkeys(witnesses))
        self.witness_quorum = witness_quorum
        self.newest_cosigned_by: tuple[str, ...] = ()

    @property
    def entries_checked(self) -> int:
        return self.frontier.size

    def check_entry(self, record: LogRecord) -> dict[str, JsonValue]:
        entry, digest = check_record(record, self.frontier.size + 1, self.previous_hash)
        self.frontier.append(digest)
        self.previous_hash = digest
        return entry

    def check_due_checkpoints(self) -> None:
        """Check every checkpoint whose size the stream has just reached."""
        size = self.frontier.size
        while self.pending_sizes and self.pending_sizes[-1] <= size:
            checkpoint_size = self.pending_sizes.pop()
            if checkpoint_size < size:
                # Only possible for negative keys; sizes are reached one by one.
                raise _Failure(
                    Reason.CHECKPOINT_SIGNATURE_INVALID,
                    f"checkpoint size {checkpoint_size} is not a tree size",
                    checkpoint_size=checkpoint_size,
                )
            self.check_checkpoint(checkpoint_size, self.frontier.root())
        while self.pending_trusted and self.pending_trusted[-1].size <= size:
            self.check_trusted(self.pending_trusted.pop(), self.frontier.root())

    def _opened(
        self, note: str, fail: Callable[[Reason, str], _Failure]
    ) -> tuple[Checkpoint, tuple[str, ...]]:
        try:
            checkpoint, key_ids = open_checkpoint(note, self.verifiers)
        except NoteError as error:
            raise fail(Reason.CHECKPOINT_SIGNATURE_INVALID, str(error)) from None
        except MalformedCheckpoint as error:
            raise fail(
                Reason.CHECKPOINT_SIGNATURE_INVALID, f"signed text is not a checkpoint: {error}"
            ) from None
        if checkpoint.origin != self.origin:
            raise fail(
                Reason.CHECKPOINT_SIGNATURE_INVALID,
                f"checkpoint is for origin {checkpoint.origin!r}, this log is {self.origin!r}",
            )
        return checkpoint, key_ids

    def check_trusted(self, trusted: TrustedCheckpoint, log_root: bytes) -> None:
        def fail(reason: Reason, message: str) -> _Failure:
            return _Failure(
                reason, f"the checkpoint you saved ({trusted.name}): {message}", checkpoint_size=trusted.size
            )

        checkpoint, _key_ids = self._opened(trusted.note, fail)
        self.check_cosignatures(trusted.note, fail)
        if checkpoint.root != log_root:
            raise fail(
                Reason.TRUSTED_CHECKPOINT_MISMATCH,
                f"it signed root {checkpoint.root_hex} for size {trusted.size}, the log's root there is "
                f"{log_root.hex()}: the log was forked or rewritten since you saved it",
            )
        self.trusted_checked += 1

    def check_checkpoint(self, size: int, log_root: bytes) -> None:
        def fail(reason: Reason, message: str) -> _Failure:
            return _Failure(reason, message, checkpoint_size=size)

        checkpoint, key_ids = self._opened(self.checkpoints[size], fail)
        if checkpoint.size != size:
            raise fail(
                Reason.CHECKPOINT_SIGNATURE_INVALID,
                f"checkpoint filed under size {size} is signed for size {checkpoint.size}",
            )
        if checkpoint.root != log_root:
            raise fail(
                Reason.CHECKPOINT_ROOT_MISMATCH,
                f"signed root {checkpoint.root_hex} differs from the log's root {log_root.hex()} "
                f"at size {size}: some entry in {self.last_verified_size + 1}..{size} differs "
                "from what was signed",
            )
        self.newest_cosigned_by = self.check_cosignatures(self.checkpoints[size], fail)
        self.last_verified_size = size
        self.checked.append(CheckpointSummary(size=size, root_hex=checkpoint.root_hex, key_ids=key_ids))

    def check_cosignatures(self, note: str, fail: Callable[[Reason, str], _Failure]) -> tuple[str, ...]:
        """Verify the cosignatures on ``note`` by the given witness keys; their names, if all are valid."""
        if not self.witnesses:
            return ()
        found = check_cosignatures(note, self.witnesses)
        if found.invalid:
            raise fail(Reason.COSIGNATURE_INVALID, found.invalid[0])
        return tuple(sorted(cosignature.name for cosignature in found.valid))

    def check_witness_quorum(self) -> None:
        """The newest checkpoint must carry ``witness_quorum`` valid cosignatures from given keys."""
        if self.witness_quorum <= 0:
            return
        if not self.checked:
            raise _Failure(
                Reason.WITNESS_QUORUM_NOT_MET,
                f"the log has no signed checkpoint, so none carries the {self.witness_quorum} valid witness "
                "cosignature(s) needed",
                checkpoint_size=0,
            )
        newest = self.checked[-1].size
        valid = len(self.newest_cosigned_by)
        if valid < self.witness_quorum:
            missing = sorted({w.name for w in self.witnesses} - set(self.newest_cosigned_by))
            raise _Failure(
                Reason.WITNESS_QUORUM_NOT_MET,
                f"the newest checkpoint, size {newest}, carries {valid} valid cosignature(s) of the "
                f"{self.witness_quorum} needed from the witness keys given (none from: {', '.join(missing)})",
                checkpoint_size=newest,
            )

    def check_nothing_beyond_log(self) -> None:
        if self.pending_trusted:
            trusted = self.pending_trusted[-1]
            raise _Failure(
                Reason.TRUSTED_CHECKPOINT_BEYOND_LOG,
                f"the checkpoint you saved ({trusted.name}) covers {trusted.size} entries but the log "
                f"ends at seq {self.frontier.size}: entries were removed since you saved it",
                checkpoint_size=trusted.size,
            )
        if self.pending_sizes:
            size = self.pending_sizes[-1]
            raise _Failure(
                Reason.CHECKPOINT_BEYOND_LOG,
                f"a checkpoint covers {size} entries but the log ends at seq {self.frontier.size}: "
                "entries were removed",
                checkpoint_size=size,
            )


def _check_arguments(
    progress_interval: int, witness_quorum: int, witnesses: Sequence[CosignatureVerifier]
) -> None:
    """Refuse arguments no verification could honour (both the one-process and the range runs)."""
    if progress_interval < 1:
        raise ValueError("progress_interval must be at least 1")
    if not 0 <= witness_quorum <= len(set(witnesses)):
        raise ValueError(
            f"a quorum of {witness_quorum} cannot be met with {len(set(witnesses))} witness key(s)"
        )


def verify_log(
    records: Iterable[LogRecord | tuple[int, bytes]],
    checkpoints: Mapping[int, str],
    verifiers: Iterable[NoteVerifier],
    origin: str,
    *,
    trust: Trust = Trust.ANCHORED,
    progress: ProgressCallback | None = None,
    progress_interval: int = DEFAULT_PROGRESS_INTERVAL,
    on_entry: Callable[[dict[str, JsonValue]], None] | None = None,
    trusted: Iterable[TrustedCheckpoint] = (),
    witnesses: Sequence[CosignatureVerifier] = (),
    witness_quorum: int = 0,
) -> VerificationReport:
    """Verify a stream of stored entries against signed checkpoints.

    ``records`` yields :class:`LogRecord` (or ``(seq, canonical bytes)``
    pairs) in ``seq`` order; ``checkpoints`` maps tree size to signed
    checkpoint note (looked up lazily, so it may read files on demand);
    ``verifiers`` are the keys trusted to sign for ``origin``. ``trust`` only
    labels the report. ``progress`` is called every ``progress_interval``
    entries. ``on_entry`` receives each entry, parsed, once it has passed its
    checks (the server replays the trail with it without parsing twice).
    ``trusted`` are checkpoints saved earlier that the log must still contain.
    ``witnesses`` are witness keys whose cosignatures must verify wherever they appear, and the
    newest checkpoint must carry valid cosignatures from ``witness_quorum`` distinct ones.
    """
    _check_arguments(progress_interval, witness_quorum, witnesses)
    run = _LogVerification(checkpoints, verifiers, origin, trusted, witnesses, witness_quorum)
    try:
        run.check_due_checkpoints()  # a checkpoint of the empty tree, if any
        for item in records:
            record = item if isinstance(item, LogRecord) else LogRecord(item[0], item[1])
            entry = run.check_entry(record)
            if on_entry is not None:
                on_entry(entry)
            run.check_due_checkpoints()
            if progress is not None and run.entries_checked % progress_interval == 0:
                progress(run.entries_checked)
        run.check_nothing_beyond_log()
        run.check_witness_quorum()
    except RecordSourceError as error:
        return _report(run, trust, _Failure(error.reason, error.message, seq=error.seq))
    except _Failure as failure:
        return _report(run, trust, failure)
    return _report(run, trust, None)


def _report(run: _LogVerification, trust: Trust, failure: _Failure | None) -> VerificationReport:
    key_ids = tuple(sorted({key_id for summary in run.checked for key_id in summary.key_ids}))
    return VerificationReport(
        ok=failure is None,
        origin=run.origin,
        trust=trust,
        entries_checked=run.entries_checked,
        log_root_hex=run.frontier.root().hex(),
        checkpoints_checked=len(run.checked),
        latest_checkpoint=run.checked[-1] if run.checked else None,
        key_ids=key_ids,
        trusted_checked=run.trusted_checked,
        witness_keys=len(run.witnesses),
        witness_quorum=run.witness_quorum,
        newest_cosigned_by=run.newest_cosigned_by,
        reason=None if failure is None else failure.reason,
        first_bad_seq=None if failure is None else failure.seq,
        checkpoint_size=None if failure is None else failure.checkpoint_size,
        message="" if failure is None else failure.message,
    )
