"""The audit trail as auditors and admins read it; organisation members never do."""

from __future__ import annotations

from ledger.audit import store
from ledger.errors import NotFound, ValidationFailed
from ledger.models.audit import AuditCheckpoint, AuditEntry
from ledger.services.access import Actor, Permission, authorize


def read_entries(actor: Actor, after: int, limit: int) -> list[AuditEntry]:
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    return store.entries_after(after, limit)


def latest_checkpoint(actor: Actor) -> AuditCheckpoint:
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    checkpoint = store.latest_checkpoint()
    if checkpoint is None:
        raise NotFound("No checkpoint has been signed yet.")
    return checkpoint


def checkpoint_of_size(actor: Actor, size: int) -> AuditCheckpoint:
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    checkpoint = store.checkpoint_of_size(size)
    if checkpoint is None:
        raise NotFound(f"No checkpoint was signed at tree size {size}.")
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
