"""Export bundles: the whole trail as files an auditor verifies offline.

``entries.jsonl`` (each line exactly the stored canonical bytes), ``checkpoints/<size>.txt``
(each signed note with the witness cosignatures received so far), ``proofs/`` (a consistency
proof from each checkpoint to the newest), ``keys.txt`` and ``manifest.json``; see README
"For auditors".
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ledger.audit import store
from ledger.audit.bundle import Manifest, write_bundle
from ledger.config import current_settings
from ledger.errors import Conflict, Forbidden
from ledger.messages import translatable
from ledger.services.access import Actor, Permission, authorize
from ledger.services.witnessing import cosigned_checkpoint_notes

ARCHIVE_FORMATS = ("zip", "tar.gz")


def _authorize_export(actor: Actor) -> None:
    """The bundle holds every entry: for readers whose area is the whole deployment. A reader of a
    part of the tree reads the entries about it (``services/audit_log.read_entries``) instead."""
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    if not actor.reaches_everything:
        raise Forbidden(
            translatable("The audit export holds every entry; it is for staff of the whole deployment."),
            code="access.outside_scope",
        )


def export_bundle(actor: Actor, directory: Path, progress: Callable[[int], None] | None = None) -> Manifest:
    """Write the bundle into ``directory`` (which must be empty or not exist)."""
    _authorize_export(actor)
    if directory.exists() and any(directory.iterdir()):
        raise Conflict(
            translatable("%(folder)s is not empty; export into a new folder.", folder=str(directory))
        )
    directory.mkdir(parents=True, exist_ok=True)

    def canonical_lines() -> Iterator[bytes]:
        for count, entry in enumerate(store.iter_entries(), start=1):
            if progress is not None and count % 10_000 == 0:
                progress(count)
            yield entry.canonical

    checkpoints = cosigned_checkpoint_notes()
    return write_bundle(
        directory,
        canonical_lines(),
        checkpoints,
        [key.vkey for key in store.signing_keys()],
        current_settings().log_origin,
        _proofs_to_the_newest(sorted(checkpoints)),
    )


def _proofs_to_the_newest(sizes: list[int]) -> dict[tuple[int, int], list[bytes]]:
    """A consistency proof from every checkpoint to the newest one (O(log n) hashes each)."""
    if not sizes:
        return {}
    newest = sizes[-1]
    return {(size, newest): store.consistency_proof(size, newest).hashes for size in sizes[:-1]}


def export_archive(actor: Actor, archive_format: str) -> Path:
    """The bundle as one ``.zip`` or ``.tar.gz`` file in a temporary folder (the caller removes it)."""
    _authorize_export(actor)
    workspace = Path(tempfile.mkdtemp(prefix="ledger-audit-export-"))
    bundle = workspace / "audit-bundle"
    export_bundle(actor, bundle)
    if archive_format == "zip":
        return Path(shutil.make_archive(str(bundle), "zip", workspace, "audit-bundle"))
    archive = workspace / "audit-bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="audit-bundle")
    return archive
