"""The streaming verifier core, fed directly as the server feeds it database rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.audit.canonical import leaf_hash
from ledger.audit.log_verifier import LogRecord, RecordSourceError, verify_log
from ledger.audit.merkle import MemoryTree
from ledger.audit.note import NoteSigner, generate_signer
from ledger.audit.report import Reason, Trust

from .bundle_factory import ORIGIN, make_entries, sign_checkpoints


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def entries() -> list[bytes]:
    return make_entries(20)


def rows(entries: list[bytes]) -> list[LogRecord]:
    return [LogRecord(seq, canonical, leaf_hash(canonical)) for seq, canonical in enumerate(entries, 1)]


def test_sound_log(signer: NoteSigner, entries: list[bytes]) -> None:
    checkpoints = sign_checkpoints(entries, [0, 5, 20], signer)
    report = verify_log(rows(entries), checkpoints, [signer.verifier], ORIGIN)
    assert report.ok, report.failure_line()
    assert report.entries_checked == 20
    assert report.checkpoints_checked == 3
    assert report.log_root_hex == MemoryTree(leaf_hash(e) for e in entries).root().hex()
    assert report.latest_checkpoint is not None
    assert report.latest_checkpoint.size == 20
    assert report.latest_checkpoint.key_ids == (signer.key_id,)
    assert report.key_ids == (signer.key_id,)
    assert report.trust is Trust.ANCHORED
    assert report.failure_line() == ""


def test_plain_pairs_are_accepted(signer: NoteSigner, entries: list[bytes]) -> None:
    report = verify_log(list(enumerate(entries, 1)), {}, [signer.verifier], ORIGIN, trust=Trust.BUNDLE_KEYS)
    assert report.ok
    assert report.latest_checkpoint is None
    assert report.trust is Trust.BUNDLE_KEYS


def test_stored_hash_that_differs_is_reported(signer: NoteSigner, entries: list[bytes]) -> None:
    records = rows(entries)
    records[6] = LogRecord(7, records[6].canonical, bytes(32))
    report = verify_log(records, {}, [signer.verifier], ORIGIN)
    assert (report.ok, report.reason, report.first_bad_seq) == (False, Reason.HASH_MISMATCH, 7)
    assert report.entries_checked == 6


def test_edited_payload_with_stale_stored_hash_is_caught_at_that_row(
    signer: NoteSigner, entries: list[bytes]
) -> None:
    # A DBA edits row 7's bytes (keeping them canonical) but cannot fix the stored hash
    # without also rewriting row 8's prev: the stored hash gives the exact row.
    records = rows(entries)
    edited = entries[6].replace(b'"currency":"CNY"', b'"currency":"USD"')
    records[6] = LogRecord(7, edited, records[6].stored_leaf_hash)
    report = verify_log(records, {}, [signer.verifier], ORIGIN)
    assert (report.reason, report.first_bad_seq) == (Reason.HASH_MISMATCH, 7)


def test_missing_row_is_a_gap(signer: NoteSigner, entries: list[bytes]) -> None:
    records = rows(entries)
    del records[3]
    report = verify_log(records, {}, [signer.verifier], ORIGIN)
    assert (report.reason, report.first_bad_seq) == (Reason.GAP, 4)
    assert "expected seq 4" in report.message


def test_source_errors_become_failures(signer: NoteSigner, entries: list[bytes]) -> None:
    def source() -> Iterator[LogRecord]:
        yield LogRecord(1, entries[0])
        raise RecordSourceError(2, Reason.NOT_CANONICAL, "row 2 has no payload")

    report = verify_log(source(), {}, [signer.verifier], ORIGIN)
    assert (report.reason, report.first_bad_seq, report.message) == (
        Reason.NOT_CANONICAL,
        2,
        "row 2 has no payload",
    )


def test_progress_is_reported(signer: NoteSigner, entries: list[bytes]) -> None:
    seen: list[int] = []
    report = verify_log(
        rows(entries), {}, [signer.verifier], ORIGIN, progress=seen.append, progress_interval=5
    )
    assert report.ok
    assert seen == [5, 10, 15, 20]


def test_checkpoint_of_the_empty_log(signer: NoteSigner) -> None:
    checkpoints = sign_checkpoints([], [0], signer)
    report = verify_log([], checkpoints, [signer.verifier], ORIGIN)
    assert report.ok
    assert report.latest_checkpoint is not None
    assert report.latest_checkpoint.size == 0


def test_first_failure_in_stream_order_wins(signer: NoteSigner, entries: list[bytes]) -> None:
    # Checkpoint 5 is signed by an unknown key and entry 12 is broken: the checkpoint comes first.
    forger = generate_signer(ORIGIN)
    checkpoints = sign_checkpoints(entries, [5], forger)
    records = rows(entries)
    records[11] = LogRecord(12, b"{}")
    report = verify_log(records, checkpoints, [signer.verifier], ORIGIN)
    assert (report.reason, report.checkpoint_size, report.first_bad_seq) == (
        Reason.CHECKPOINT_SIGNATURE_INVALID,
        5,
        None,
    )
    assert report.failure_line().startswith("FAIL checkpoint=5: checkpoint_signature_invalid: ")
