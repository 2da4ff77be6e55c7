"""Build audit logs and export bundles for tests, without Flask or a database.

Other test suites can reuse these helpers, e.g. to compare the server's export with a bundle
built here, or to feed a known-good log to ``ledger audit verify``::

    from tests.audit.bundle_factory import make_bundle

    bundle = make_bundle(tmp_path / "bundle", 20, [4, 10, 16], generate_signer(ORIGIN))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.audit.bundle import Manifest, write_bundle
from ledger.audit.canonical import ZERO_HASH, build_entry, canonical_bytes, leaf_hash
from ledger.audit.checkpoint import Checkpoint, sign_checkpoint
from ledger.audit.merkle import MemoryTree
from ledger.audit.note import NoteSigner

ORIGIN = "grants.example.org/audit-log"
BASE_TIME = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)

_ACTIONS = (
    ("expense_report.submitted", "expense_report", "org_member"),
    ("expense_report.approved", "expense_report", "finance_officer"),
    ("disbursement.prepared", "disbursement", "finance_officer"),
    ("disbursement.paid", "disbursement", "finance_officer"),
    ("fund.activated", "fund", "admin"),
)


@dataclass(frozen=True)
class BuiltBundle:
    """A bundle on disk plus what went into it."""

    directory: Path
    entries: tuple[bytes, ...]
    """Canonical bytes of each entry, seq order (entries[0] is seq 1)."""
    leaf_hashes: tuple[bytes, ...]
    checkpoints: Mapping[int, str]
    manifest: Manifest

    def root(self, size: int) -> bytes:
        """Merkle root of the first ``size`` entries."""
        return MemoryTree(self.leaf_hashes[:size]).root()


def make_entries(count: int, *, variant: str = "", start: datetime = BASE_TIME) -> list[bytes]:
    """``count`` chained audit entries (canonical bytes); ``variant`` changes their content."""
    entries: list[bytes] = []
    previous = ZERO_HASH
    for seq in range(1, count + 1):
        action, subject_type, role = _ACTIONS[seq % len(_ACTIONS)]
        entry = build_entry(
            seq=seq,
            ts=start + timedelta(seconds=seq, microseconds=seq),
            actor={"id": f"user-{seq % 7}", "role": role},
            action=action,
            subject={"type": subject_type, "id": f"{subject_type}-{seq // 3}{variant}"},
            data={
                "amount": f"{seq * 125}.50",
                "currency": "CNY",
                "payee": "社区服务中心",
                "lines": [{"category": "5101", "minor_units": seq * 100}],
                "restricted": seq % 2 == 0,
                "note": None,
            },
            prev=previous,
        )
        canonical = canonical_bytes(entry)
        entries.append(canonical)
        previous = leaf_hash(canonical)
    return entries


def sign_checkpoints(
    entries: Sequence[bytes], sizes: Iterable[int], signer: NoteSigner, origin: str | None = None
) -> dict[int, str]:
    """Signed checkpoint notes of the given prefix sizes of ``entries``."""
    tree = MemoryTree(leaf_hash(canonical) for canonical in entries)
    return {
        size: sign_checkpoint(Checkpoint(origin or signer.name, size, tree.root(size)), signer)
        for size in sorted(set(sizes))
    }


def make_bundle(
    directory: Path,
    n_entries: int,
    checkpoint_sizes: Iterable[int],
    signer: NoteSigner,
    *,
    variant: str = "",
) -> BuiltBundle:
    """Write a sound bundle of ``n_entries`` entries, checkpointed at ``checkpoint_sizes``.

    The origin is the signer's key name, as a log's key is named after its origin.
    """
    entries = make_entries(n_entries, variant=variant)
    checkpoints = sign_checkpoints(entries, checkpoint_sizes, signer)
    # As the exporter does: a consistency proof from each checkpoint to the newest.
    tree = MemoryTree(leaf_hash(canonical) for canonical in entries)
    sizes = sorted(checkpoints)
    proofs = {(size, sizes[-1]): tree.consistency_proof(size, sizes[-1]) for size in sizes[:-1]}
    manifest = write_bundle(directory, entries, checkpoints, [signer.vkey], signer.name, proofs)
    return BuiltBundle(
        directory=directory,
        entries=tuple(entries),
        leaf_hashes=tuple(leaf_hash(canonical) for canonical in entries),
        checkpoints=checkpoints,
        manifest=manifest,
    )
