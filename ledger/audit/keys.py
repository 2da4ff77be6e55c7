"""The log's signing key, kept in the instance folder and never in the database.

The private key is a PKCS#8 PEM file, encrypted when ``LEDGER_AUDIT_KEY_PASSPHRASE`` is set. Its
name is the log origin (a checkpoint's signature must come from a key named after its origin).
The database keeps only verifier keys, all of them, so checkpoints signed before a rotation
stay verifiable; the retired private key is renamed, not deleted, so an operator can still prove
possession of it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.audit.note import NoteSigner, generate_signer, signer_from_pem, signer_to_pem

KEY_FILE = "audit-signing-key.pem"


class SigningKeyError(Exception):
    """The signing key is missing, unreadable, or named for another log."""


def key_path(instance_path: Path) -> Path:
    return instance_path / KEY_FILE


def _passphrase() -> bytes | None:
    value = os.environ.get("LEDGER_AUDIT_KEY_PASSPHRASE")
    return value.encode("utf-8") if value else None


def load_signer(instance_path: Path, origin: str) -> NoteSigner | None:
    """The current signer, or None when no key has been created yet (``ledger init`` makes one)."""
    path = key_path(instance_path)
    if not path.is_file():
        return None
    try:
        return signer_from_pem(origin, path.read_bytes(), _passphrase())
    except (ValueError, TypeError) as error:
        raise SigningKeyError(
            f"cannot read {path}: wrong or missing LEDGER_AUDIT_KEY_PASSPHRASE, or not a key ({error})"
        ) from None


def write_new_signer(instance_path: Path, origin: str) -> NoteSigner:
    """Create a key file; an existing one is moved aside as ``audit-signing-key.<id>.retired.pem``."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = key_path(instance_path)
    if path.exists():
        old = load_signer(instance_path, origin)
        suffix = old.key_id if old is not None else "unknown"
        path.rename(instance_path / f"audit-signing-key.{suffix}.retired.pem")
    signer = generate_signer(origin)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(signer_to_pem(signer, _passphrase()))
    return signer
