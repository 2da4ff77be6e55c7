"""Verifying an audit log's ranges in parallel processes, joined through the Merkle frontier.

:func:`verify_log` is one pass in one process, and in CPython each entry's checks cost far more
than its hash. :func:`verify_log_in_ranges` cuts the log into ranges of ``2**k`` entries that
start at multiples of ``2**k``, and worker processes each read and check one range at a time with
the very same per-entry checks (:func:`ledger.audit.log_verifier.check_record`): canonical bytes,
shape, ``seq``, the chain inside the range, stored leaf hashes. A worker returns only a compact
summary: the range's first ``prev``, its last leaf hash, the peaks of its own Merkle frontier at
its end and at every checkpoint size inside it, and the bytes of the entries the caller wants
to see (the replay's). Because each range is aligned to its own size, the whole log's frontier
at any size inside a range is the frontier of the ranges before it followed by the range's own
peaks, so the parent checks the chain across range boundaries, then every checkpoint (signature,
root, cosignatures), saved checkpoint, the end of the log and the witness quorum exactly as
:func:`verify_log` does, through the same code.

A run in ranges only ever confirms that a log is sound. Whatever goes wrong or looks unusual
in it (a failing entry, a broken link, a bad checkpoint, a worker that could not read its rows)
makes it give up, and the log is verified again by :func:`verify_log` in this process, whose
report (the first bad ``seq``, the reason, the message) is then the answer. A small log goes
straight to :func:`verify_log`: starting processes costs more than it saves. With one worker the
ranges are verified one after the other in this process: a range checked as one block (see
:func:`_verify_block`) costs about half of checking its entries one by one.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from functools import partial
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Protocol

from ledger.audit.canonical import ZERO_HASH, JsonValue
from ledger.audit.cosignature import CosignatureVerifier
from ledger.audit.fast_entry import as_dict, fast_entries
from ledger.audit.log_verifier import (
    DEFAULT_PROGRESS_INTERVAL,
    LogRecord,
    ProgressCallback,
    StoredRange,
    TrustedCheckpoint,
    _check_arguments,
    _Failure,
    _LogVerification,
    _report,
    check_record,
    parse_entry,
    verify_log,
)
from ledger.audit.merkle import MerkleFrontier, leaf_hashes, peaks_of, perfect_levels
from ledger.audit.note import NoteVerifier
from ledger.audit.report import Trust, VerificationReport

DEFAULT_RANGE_SIZE = 1 << 14
DEFAULT_PARALLEL_FROM = 50_000


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Parallelism:
    """How a log is cut up: ``workers`` processes (1: the ranges in this process), ranges of
    ``range_size`` entries (a power of two), and no ranges below ``parallel_from`` entries."""

    workers: int
    range_size: int = DEFAULT_RANGE_SIZE
    parallel_from: int = DEFAULT_PARALLEL_FROM

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.range_size < 1 or self.range_size & (self.range_size - 1):
            raise ValueError("range_size must be a power of two")

    @classmethod
    def from_environment(cls, workers: int | None = None) -> Parallelism:
        """``workers`` (default: ``LEDGER_VERIFY_WORKERS``, else the cores this process may use),
        ``LEDGER_VERIFY_RANGE`` and ``LEDGER_VERIFY_PARALLEL_FROM``."""
        environ = os.environ
        if workers is None:
            workers = int(environ.get("LEDGER_VERIFY_WORKERS") or _default_workers())
        return cls(
            workers=workers,
            range_size=int(environ.get("LEDGER_VERIFY_RANGE") or DEFAULT_RANGE_SIZE),
            parallel_from=int(environ.get("LEDGER_VERIFY_PARALLEL_FROM") or DEFAULT_PARALLEL_FROM),
        )

    def applies_to(self, size: int | None) -> bool:
        return size is not None and size >= max(self.parallel_from, 2)


class RangeSource(Protocol):
    """Stored entries by range; picklable, since each worker process reads its own ranges."""

    def stored(self, first: int, last: int) -> StoredRange:
        """The stored entries of ``seq`` ``first`` .. ``last`` in order (fewer if some are missing)."""
        ...


EntryFilter = Callable[[dict[str, JsonValue]], bool]
"""Which entries the parent's ``on_entry`` needs (module-level, so that it pickles)."""


@dataclass(frozen=True, slots=True)
class _Range:
    first: int
    last: int
    sizes: frozenset[int]  # checkpoint sizes inside the range, where the parent needs its peaks
    wanted: EntryFilter | None


@dataclass(frozen=True, slots=True)
class _Summary:
    first_prev: str
    last_hash: bytes
    peaks: tuple[bytes, ...]
    peaks_at: dict[int, tuple[bytes, ...]]
    kept: list[bytes]


def _verify_range(source: RangeSource, task: _Range) -> _Summary | None:
    """A worker's job: check one range on its own; None when anything is wrong or unusual."""
    collecting = gc.isenabled()
    gc.disable()  # the range's objects hold no cycles; tracking them cost a quarter of the time
    try:
        stored = source.stored(task.first, task.last)
        return _verify_block(stored, task) or _verify_entry_by_entry(stored, task)
    except Exception:  # any doubt: the parent verifies in one process, which reports it
        return None
    finally:
        if collecting:
            gc.enable()


def _verify_block(stored: StoredRange, task: _Range) -> _Summary | None:
    """The whole range at once: :func:`fast_entries` accepts every entry, then the leaf hashes,
    the chain and the Merkle levels are computed a level at a time; None when that is not
    possible (anything unusual in the block), and the range is checked entry by entry."""
    count = task.last - task.first + 1
    if stored.seqs != list(range(task.first, task.last + 1)):
        return None
    entries = fast_entries(stored.joined(), count, task.first)
    if entries is None:
        return None
    digests = leaf_hashes(stored.lines)
    if stored.leaf_hashes is not None and stored.leaf_hashes != digests:
        return None
    # Each entry's prev is the leaf hash before it: compared as two joined strings.
    if "".join([entry.prev for entry in entries[1:]]) != b"".join(digests[:-1]).hex():
        return None
    levels = perfect_levels(digests)
    peaks_at = {size: peaks_of(levels, size - task.first + 1) for size in task.sizes}
    kept: list[bytes] = []
    if task.wanted is not None:
        wanted = task.wanted
        kept = [line for line, entry in zip(stored.lines, entries, strict=True) if wanted(as_dict(entry))]
    return _Summary(entries[0].prev, digests[-1], peaks_of(levels, count), peaks_at, kept)


def _verify_entry_by_entry(stored: StoredRange, task: _Range) -> _Summary | None:
    """The range one entry at a time, through the one-process verifier's own checks."""
    frontier = MerkleFrontier()
    previous: bytes | None = None
    first_prev = ""
    peaks_at: dict[int, tuple[bytes, ...]] = {}
    kept: list[bytes] = []
    seq = task.first
    for record in stored.records():
        if seq > task.last:
            return None
        entry, digest = check_record(record, seq, previous)
        if previous is None:
            first_prev = str(entry["prev"])
        if task.wanted is not None and task.wanted(entry):
            kept.append(record.canonical)
        frontier.append(digest)
        previous = digest
        if seq in task.sizes:
            peaks_at[seq] = frontier.peaks
        seq += 1
    if seq != task.last + 1 or previous is None:
        return None
    return _Summary(first_prev, previous, frontier.peaks, peaks_at, kept)


def _pool_context() -> multiprocessing.context.BaseContext:
    # Not "fork": the service runs threads (the sequencer), and a child forked while one of them
    # holds a lock can hang. The fork server starts clean and forks each worker from itself.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _in_processes(source: RangeSource, tasks: Iterable[_Range], workers: int) -> Generator[_Summary | None]:
    """The ranges' summaries in order, from ``workers`` processes, two ranges per worker handed
    out ahead of the one being read (so that a run that gives up has little left running)."""
    pool = _pool_context().Pool(workers)
    try:
        upcoming = iter(tasks)
        ahead: deque[AsyncResult[_Summary | None]] = deque(
            pool.apply_async(_verify_range, (source, task)) for task in islice(upcoming, 2 * workers)
        )
        while ahead:
            summary = ahead.popleft().get()
            ahead.extend(pool.apply_async(_verify_range, (source, task)) for task in islice(upcoming, 1))
            yield summary
    finally:
        # Never terminate(): a worker killed while writing its result leaves the pool's result
        # lock held, and the pool's threads then wait for it forever (seen in CI). Only the
        # ranges already handed out are waited for.
        pool.close()
        pool.join()


def _in_ranges(
    source: RangeSource,
    size: int,
    parallelism: Parallelism,
    run: _LogVerification,
    progress: ProgressCallback | None,
    progress_interval: int,
    on_entry: Callable[[dict[str, JsonValue]], None] | None,
    wanted: EntryFilter | None,
) -> bool:
    """Verify in ranges into ``run``; False as soon as something needs the one-process verifier."""
    step = parallelism.range_size
    due = sorted({*run.checkpoints, *(t.size for t in run.pending_trusted)})
    tasks = [
        _Range(
            first,
            min(first + step - 1, size),
            frozenset(s for s in due if first <= s <= first + step - 1),
            wanted if on_entry is not None else None,
        )
        for first in range(1, size + 1, step)
    ]
    ranges_root = MerkleFrontier()  # over the roots of the full ranges so far: leaves of 2**k entries
    previous_hash = ZERO_HASH
    reported = 0
    with ExitStack() as stack:
        if parallelism.workers == 1:  # the ranges one after the other, in this process
            summaries: Iterable[_Summary | None] = map(partial(_verify_range, source), tasks)
        else:
            workers = min(parallelism.workers, len(tasks))
            summaries = stack.enter_context(closing(_in_processes(source, tasks, workers)))
        for task, summary in zip(tasks, summaries, strict=True):
            if summary is None or summary.first_prev != previous_hash.hex():
                return False
            for checkpoint_size in sorted(task.sizes - {task.last}):  # the range's end: below
                local = summary.peaks_at[checkpoint_size]
                run.frontier = MerkleFrontier.from_peaks(checkpoint_size, ranges_root.peaks + local)
                run.check_due_checkpoints()
            if on_entry is not None:
                for canonical in summary.kept:
                    on_entry(parse_entry(canonical, 0))  # already proven: the fast path takes it
            if task.last - task.first + 1 == step:
                ranges_root.append(summary.peaks[0])  # a full range's frontier is its one root
                run.frontier = MerkleFrontier.from_peaks(task.last, ranges_root.peaks)
            else:
                run.frontier = MerkleFrontier.from_peaks(task.last, ranges_root.peaks + summary.peaks)
            run.check_due_checkpoints()
            run.previous_hash = previous_hash = summary.last_hash
            if progress is not None:
                while reported + progress_interval <= task.last:
                    reported += progress_interval
                    progress(reported)
    run.check_due_checkpoints()
    run.check_nothing_beyond_log()
    run.check_witness_quorum()
    return True


def verify_log_in_ranges(
    source: RangeSource | None,
    size: int | None,
    records: Callable[[], Iterable[LogRecord]],
    checkpoints: Mapping[int, str],
    verifiers: Iterable[NoteVerifier],
    origin: str,
    *,
    parallelism: Parallelism | None = None,
    trust: Trust = Trust.ANCHORED,
    progress: ProgressCallback | None = None,
    progress_interval: int = DEFAULT_PROGRESS_INTERVAL,
    on_entry: Callable[[dict[str, JsonValue]], None] | None = None,
    wanted: EntryFilter | None = None,
    on_restart: Callable[[], None] | None = None,
    trusted: Sequence[TrustedCheckpoint] = (),
    witnesses: Sequence[CosignatureVerifier] = (),
    witness_quorum: int = 0,
) -> VerificationReport:
    """:func:`verify_log`'s report for the log ``source`` holds, from ranges in parallel if it is large.

    ``size`` is the number of entries the source holds (seq 1..size, nothing else); with no
    source or size, one process. ``records`` gives every record in order for the one-process
    verifier. ``on_entry`` receives, in order, the parsed entries ``wanted`` accepts (every
    entry when ``wanted`` is None, which keeps the run in one process); if the run in ranges
    gives up after feeding some, ``on_restart`` is called before the one-process run feeds them
    all again. The other arguments are :func:`verify_log`'s.
    """
    parallelism = parallelism or Parallelism.from_environment()
    trusted = tuple(trusted)

    def one_process() -> VerificationReport:
        return verify_log(
            records(),
            checkpoints,
            verifiers,
            origin,
            trust=trust,
            progress=progress,
            progress_interval=progress_interval,
            on_entry=on_entry,
            trusted=trusted,
            witnesses=witnesses,
            witness_quorum=witness_quorum,
        )

    if (
        source is None
        or size is None
        or not parallelism.applies_to(size)
        or (on_entry is not None and wanted is None)
    ):
        return one_process()
    _check_arguments(progress_interval, witness_quorum, witnesses)
    run = _LogVerification(checkpoints, verifiers, origin, trusted, witnesses, witness_quorum)
    try:
        run.check_due_checkpoints()  # a checkpoint of the empty tree, if any
        sound = _in_ranges(source, size, parallelism, run, progress, progress_interval, on_entry, wanted)
    except _Failure:
        sound = False
    except Exception:  # a pool that cannot start, a source that cannot be read
        # The one-process run below meets the same problem, if it is one, and says what it is.
        sound = False
    if sound:
        return _report(run, trust, None)
    if on_entry is not None and on_restart is not None:
        on_restart()
    return one_process()
