"""The audit trail as auditors, admins and supervisors read it; organisation members never do.

A reader whose role is held at a node reads the entries about their subtree
(``services/audit_reach.py``); checkpoints, keys and proofs are the same for every reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.audit import store
from ledger.errors import NotFound, ValidationFailed
from ledger.messages import translatable
from ledger.models.audit import AuditCheckpoint, AuditEntry
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_reach import AuditArea

# How many entries a scoped read looks at per query while it fills a page.
SCAN_BATCH = 1000


@dataclass(frozen=True)
class EntryPage:
    """Entries after a seq, and the seq the log was read up to (continue with ``after=scanned_to``)."""

    entries: list[AuditEntry]
    scanned_to: int
    at_end: bool


def read_entry_page(actor: Actor, after: int, limit: int, scan_limit: int | None = None) -> EntryPage:
    """Up to ``limit`` entries after ``after`` that ``actor`` may read.

    A scoped reader's entries are searched forward in batches until ``limit`` match or the log
    ends (or ``scan_limit`` entries were looked at, when given); ``scanned_to`` is where to go on.
    """
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    if actor.reaches_everything:
        entries = store.entries_after(after, limit)
        return EntryPage(entries, entries[-1].seq if entries else after, len(entries) < limit)
    area = AuditArea.of(actor)
    found: list[AuditEntry] = []
    position, looked_at = after, 0
    while True:
        batch = store.entries_after(position, SCAN_BATCH)
        for entry in batch:
            looked_at += 1
            position = entry.seq
            if area.holds(entry):
                found.append(entry)
                if len(found) == limit:
                    return EntryPage(found, position, False)
            if scan_limit is not None and looked_at >= scan_limit:
                return EntryPage(found, position, False)
        if len(batch) < SCAN_BATCH:
            return EntryPage(found, position, True)


def read_entries(actor: Actor, after: int, limit: int) -> list[AuditEntry]:
    """Up to ``limit`` entries after ``after`` that ``actor`` may read."""
    return read_entry_page(actor, after, limit).entries


def latest_checkpoint(actor: Actor) -> AuditCheckpoint:
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    checkpoint = store.latest_checkpoint()
    if checkpoint is None:
        raise NotFound(translatable("No checkpoint has been signed yet."))
    return checkpoint


def checkpoint_of_size(actor: Actor, size: int) -> AuditCheckpoint:
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    checkpoint = store.checkpoint_of_size(size)
    if checkpoint is None:
        raise NotFound(translatable("No checkpoint was signed at tree size %(size)s.", size=size))
    return checkpoint


def verifier_keys(actor: Actor) -> list[str]:
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    return [key.vkey for key in store.signing_keys()]


def inclusion_proof(actor: Actor, seq: int, tree_size: int) -> store.InclusionProof:
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    try:
        return store.inclusion_proof(seq, tree_size)
    except store.ProofRequestError as error:
        raise ValidationFailed.field(error.field, str(error)) from None


def consistency_proof(actor: Actor, size1: int, size2: int) -> store.ConsistencyProof:
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    try:
        return store.consistency_proof(size1, size2)
    except store.ProofRequestError as error:
        raise ValidationFailed.field(error.field, str(error)) from None
