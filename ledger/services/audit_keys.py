"""The log's signing keys: created by ``ledger init``, rotated on demand, never forgotten."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ledger.audit.keys import load_signer, write_new_signer
from ledger.audit.note import NoteSigner
from ledger.config import current_settings
from ledger.extensions import db
from ledger.models.audit import AuditSigningKey
from ledger.models.base import utcnow
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event


@dataclass(frozen=True)
class KeyReport:
    key_id: str
    vkey: str
    created: bool


def _register(actor: Actor, signer: NoteSigner, action: str, extra: dict[str, str]) -> None:
    if db.session.get(AuditSigningKey, signer.key_id) is None:
        db.session.add(AuditSigningKey(key_id=signer.key_id, name=signer.name, vkey=signer.vkey))
        db.session.flush()
        record_event(actor, action, "signing_key", signer.key_id, {"vkey": signer.vkey, **extra})


def ensure_signing_key(actor: Actor) -> KeyReport:
    """Create the instance's signing key if there is none, and register its verifier key."""
    settings = current_settings()
    signer = load_signer(settings.instance_path, settings.log_origin)
    created = signer is None
    if signer is None:
        signer = write_new_signer(settings.instance_path, settings.log_origin)
    _register(actor, signer, "audit.signing_key_added", {})
    return KeyReport(signer.key_id, signer.vkey, created)


def rotate_signing_key(actor: Actor) -> KeyReport:
    """Retire the current key and start signing with a new one; old checkpoints stay verifiable."""
    authorize(actor, Permission.MANAGE_SIGNING_KEYS)
    settings = current_settings()
    old = load_signer(settings.instance_path, settings.log_origin)
    signer = write_new_signer(settings.instance_path, settings.log_origin)
    if old is not None:
        retired = db.session.get(AuditSigningKey, old.key_id)
        if retired is not None and retired.retired_at is None:
            retired.retired_at = utcnow()
    _register(actor, signer, "audit.signing_key_rotated", {"retired_key_id": old.key_id if old else ""})
    return KeyReport(signer.key_id, signer.vkey, True)


def current_key_ids() -> list[str]:
    return list(
        db.session.scalars(select(AuditSigningKey.key_id).where(AuditSigningKey.retired_at.is_(None)))
    )
