"""Ranges verified in parallel processes give exactly the one-process verifier's report.

``verify_log`` in one process is the reference; ``verify_log_in_ranges`` must return the same
report (every field) for sound logs, without falling back to it, and for every kind of
tampering, where it gives up and the reference names the first problem. Ranges are tiny here
(1 to 8 entries) so that boundaries fall everywhere: on checkpoints, on tampered rows, at the end.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import parallel_verifier
from ledger.audit.canonical import leaf_hash
from ledger.audit.log_verifier import LogRecord, StoredRange, TrustedCheckpoint, verify_log
from ledger.audit.note import NoteSigner, generate_signer
from ledger.audit.parallel_verifier import Parallelism, verify_log_in_ranges
from ledger.audit.report import VerificationReport
from ledger.audit.verify import main, verify_bundle

from .bundle_factory import ORIGIN, make_bundle, make_entries, sign_checkpoints

COUNT = 37
SIZES = [0, 1, 4, 5, 16, 20, 32, 37]


@dataclass(frozen=True)
class ListedRows:
    """Records held in a tuple, read by seq as the database's rows are (ORDER BY seq): a range
    source that pickles to the worker processes."""

    rows: tuple[LogRecord, ...]

    def stored(self, first: int, last: int) -> StoredRange:
        chosen = sorted((r for r in self.rows if first <= r.seq <= last), key=lambda r: r.seq)
        hashes = [r.stored_leaf_hash for r in chosen]
        return StoredRange(
            [r.seq for r in chosen],
            [r.canonical for r in chosen],
            None if None in hashes else [h for h in hashes if h is not None],
        )


def wants_even(entry: dict[str, Any]) -> bool:
    return int(entry["seq"]) % 2 == 0


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def entries() -> list[bytes]:
    return make_entries(COUNT)


def rows(entries: list[bytes]) -> list[LogRecord]:
    return [LogRecord(seq, canonical, leaf_hash(canonical)) for seq, canonical in enumerate(entries, 1)]


def both(
    records: list[LogRecord], checkpoints: dict[int, str], signer: NoteSigner, range_size: int, **options: Any
) -> tuple[VerificationReport, VerificationReport]:
    """The reference's report and the one from ranges, with their progress calls."""
    seen_one: list[int] = []
    seen_ranges: list[int] = []
    one = verify_log(
        records,
        checkpoints,
        [signer.verifier],
        ORIGIN,
        progress=seen_one.append,
        progress_interval=3,
        **options,
    )
    ranges = verify_log_in_ranges(
        ListedRows(tuple(records)),
        COUNT,
        lambda: records,
        checkpoints,
        [signer.verifier],
        ORIGIN,
        parallelism=Parallelism(workers=2, range_size=range_size, parallel_from=2),
        progress=seen_ranges.append,
        progress_interval=3,
        **options,
    )
    if one.ok:
        assert seen_ranges == seen_one
    return one, ranges


@pytest.fixture
def one_process_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> VerificationReport:
        calls.append(1)
        return verify_log(*args, **kwargs)

    monkeypatch.setattr(parallel_verifier, "verify_log", counted)
    return calls


@pytest.mark.parametrize("range_size", [1, 2, 4, 8, 64])
def test_a_sound_log_gives_the_same_report_without_the_one_process_run(
    signer: NoteSigner, entries: list[bytes], range_size: int, one_process_calls: list[int]
) -> None:
    checkpoints = sign_checkpoints(entries, SIZES, signer)
    saved = [TrustedCheckpoint.read("saved", checkpoints[size]) for size in (5, 32)]
    one, ranges = both(rows(entries), checkpoints, signer, range_size, trusted=saved)
    assert one.ok, one.failure_line()
    assert ranges == one
    assert one_process_calls == []  # the ranges never needed the one-process run


def _tampered(entries: list[bytes], case: str, at: int) -> list[LogRecord]:
    records = rows(entries)
    index = at - 1
    if case == "payload edited, stored hash stale":
        edited = entries[index].replace(b'"currency":"CNY"', b'"currency":"USD"')
        records[index] = LogRecord(at, edited, records[index].stored_leaf_hash)
    elif case == "payload and stored hash edited":
        edited = entries[index].replace(b'"currency":"CNY"', b'"currency":"USD"')
        records[index] = LogRecord(at, edited, leaf_hash(edited))
    elif case == "row deleted":
        del records[index]
    elif case == "rows swapped":
        # Their contents: a source in seq order cannot hand rows over out of order.
        this, following = records[index], records[index + 1]
        records[index] = LogRecord(at, following.canonical, following.stored_leaf_hash)
        records[index + 1] = LogRecord(at + 1, this.canonical, this.stored_leaf_hash)
    elif case == "row not canonical":
        spaced = entries[index].replace(b",", b", ", 1)
        records[index] = LogRecord(at, spaced, leaf_hash(spaced))
    elif case == "row not an entry":
        records[index] = LogRecord(at, b"{}", leaf_hash(b"{}"))
    elif case == "stored hash zeroed":
        records[index] = LogRecord(at, records[index].canonical, bytes(32))
    elif case == "tail cut":
        del records[index:]
    return records


CASES = [
    "payload edited, stored hash stale",
    "payload and stored hash edited",
    "row deleted",
    "rows swapped",
    "row not canonical",
    "row not an entry",
    "stored hash zeroed",
    "tail cut",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("at", [1, 4, 5, 16, 17, 33, 36])
def test_every_tampering_gets_the_reference_report(
    signer: NoteSigner, entries: list[bytes], case: str, at: int
) -> None:
    checkpoints = sign_checkpoints(entries, SIZES, signer)
    one, ranges = both(_tampered(entries, case, at), checkpoints, signer, 4)
    assert not one.ok
    assert ranges == one


def test_bad_checkpoints_and_saved_ones_get_the_reference_report(
    signer: NoteSigner, entries: list[bytes]
) -> None:
    forger = generate_signer(ORIGIN)
    other = make_entries(COUNT, variant="x")
    cases = [
        {**sign_checkpoints(entries, SIZES, signer), 16: sign_checkpoints(entries, [16], forger)[16]},
        {**sign_checkpoints(entries, SIZES, signer), 20: sign_checkpoints(other, [20], signer)[20]},
        {**sign_checkpoints(entries, SIZES, signer), 21: sign_checkpoints(entries, [20], signer)[20]},
        sign_checkpoints([*entries, *make_entries(COUNT + 3)[COUNT:]], [*SIZES, COUNT + 3], signer),
    ]
    for checkpoints in cases:
        one, ranges = both(rows(entries), checkpoints, signer, 4)
        assert not one.ok
        assert ranges == one
    saved = [TrustedCheckpoint.read("saved", sign_checkpoints(other, [9], signer)[9])]
    one, ranges = both(rows(entries), sign_checkpoints(entries, SIZES, signer), signer, 8, trusted=saved)
    assert not one.ok
    assert ranges == one


def test_the_entries_wanted_reach_on_entry_in_order(
    signer: NoteSigner, entries: list[bytes], one_process_calls: list[int]
) -> None:
    fed: list[int] = []
    report = verify_log_in_ranges(
        ListedRows(tuple(rows(entries))),
        COUNT,
        lambda: rows(entries),
        {},
        [signer.verifier],
        ORIGIN,
        parallelism=Parallelism(workers=2, range_size=4, parallel_from=2),
        on_entry=lambda entry: fed.append(int(entry["seq"])),
        wanted=wants_even,
    )
    assert report.ok
    assert fed == list(range(2, COUNT + 1, 2))
    assert one_process_calls == []


def test_a_small_log_stays_in_the_one_process_run(
    signer: NoteSigner, entries: list[bytes], one_process_calls: list[int]
) -> None:
    report = verify_log_in_ranges(
        ListedRows(tuple(rows(entries))),
        COUNT,
        lambda: rows(entries),
        {},
        [signer.verifier],
        ORIGIN,
        parallelism=Parallelism(workers=2),
    )
    assert report.ok
    assert one_process_calls == [1]


def test_one_worker_verifies_the_ranges_in_this_process(
    signer: NoteSigner, entries: list[bytes], one_process_calls: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool() -> None:
        raise AssertionError("one worker starts no process")

    monkeypatch.setattr(parallel_verifier, "_pool_context", no_pool)
    checkpoints = sign_checkpoints(entries, SIZES, signer)
    records = rows(entries)
    report = verify_log_in_ranges(
        ListedRows(tuple(records)),
        COUNT,
        lambda: records,
        checkpoints,
        [signer.verifier],
        ORIGIN,
        parallelism=Parallelism(workers=1, range_size=8, parallel_from=2),
    )
    assert one_process_calls == []  # the pool would have failed, and the one-process run answered
    assert report == verify_log(records, checkpoints, [signer.verifier], ORIGIN)


def test_a_bundle_verified_in_ranges(
    tmp_path: Path, signer: NoteSigner, monkeypatch: pytest.MonkeyPatch, one_process_calls: list[int]
) -> None:
    monkeypatch.setenv("LEDGER_VERIFY_RANGE", "4")
    monkeypatch.setenv("LEDGER_VERIFY_PARALLEL_FROM", "2")
    bundle = make_bundle(tmp_path / "b", COUNT, SIZES[1:], signer)
    sound = verify_bundle(bundle.directory, [signer.verifier], workers=2)
    assert sound == verify_bundle(bundle.directory, [signer.verifier], workers=1)
    assert sound.ok
    assert one_process_calls == []  # one worker or two: ranges, never the one-process run
    # A line changed in the middle of a range, and the last line's newline removed.
    broken = tmp_path / "broken"
    shutil.copytree(bundle.directory, broken)
    lines = (broken / "entries.jsonl").read_bytes().split(b"\n")
    lines[9] = lines[9].replace(b'"currency":"CNY"', b'"currency":"EUR"')
    (broken / "entries.jsonl").write_bytes(b"\n".join(lines))
    assert verify_bundle(broken, [signer.verifier], workers=2) == verify_bundle(
        broken, [signer.verifier], workers=1
    )
    (broken / "entries.jsonl").write_bytes(b"\n".join(lines).rstrip(b"\n"))
    assert verify_bundle(broken, [signer.verifier], workers=2) == verify_bundle(
        broken, [signer.verifier], workers=1
    )


def test_the_offline_command_takes_a_worker_count(
    tmp_path: Path, signer: NoteSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_VERIFY_RANGE", "4")
    monkeypatch.setenv("LEDGER_VERIFY_PARALLEL_FROM", "2")
    bundle = make_bundle(tmp_path / "b", COUNT, SIZES[1:], signer)
    assert main([str(bundle.directory), "--key", signer.vkey, "--workers", "2", "--quiet"]) == 0
    with pytest.raises(SystemExit) as usage:
        main([str(bundle.directory), "--workers", "0"])
    assert usage.value.code == 2


@pytest.mark.parametrize(("first", "last"), [(1, 1), (1, 16), (17, 32), (33, 37), (1, 37)])
def test_a_range_checked_as_one_block_sums_up_as_entry_by_entry(
    entries: list[bytes], first: int, last: int
) -> None:
    """The block path (one decode for the range, Merkle a level at a time) against the
    entry-by-entry checks as its oracle: the same summary, checkpoint peaks and kept entries."""
    task = parallel_verifier._Range(first, last, frozenset({first, (first + last) // 2, last}), wants_even)
    stored = ListedRows(tuple(rows(entries))).stored(first, last)
    block = parallel_verifier._verify_block(stored, task)
    assert block is not None
    assert block == parallel_verifier._verify_entry_by_entry(stored, task)
    assert len(block.kept) == sum(1 for seq in range(first, last + 1) if seq % 2 == 0)


def test_a_range_with_anything_wrong_is_not_taken_as_a_block(entries: list[bytes]) -> None:
    for case in CASES:  # at 9, inside the range: the chain inside it breaks, or a check fails
        stored = ListedRows(tuple(_tampered(entries, case, 9))).stored(1, 16)
        assert (
            parallel_verifier._verify_block(stored, parallel_verifier._Range(1, 16, frozenset(), None))
            is None
        )
