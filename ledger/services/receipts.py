"""Receipts as the service sees them: uploaded by an organisation, readable by those allowed."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import func, select

from ledger.config import current_settings
from ledger.errors import LedgerError, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.expense_report import Receipt
from ledger.receipts import (
    InvalidReceiptName,
    ReceiptMissing,
    ReceiptRejected,
    ReceiptStore,
    StoredReceipt,
    load_or_create_key,
)
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.audit_subjects import record_event


class PayloadTooLarge(LedgerError):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedReceipt(LedgerError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported content type"


def receipt_store() -> ReceiptStore:
    settings = current_settings()
    return ReceiptStore(settings.instance_path / "receipts", load_or_create_key(settings.instance_path))


def upload_receipt(actor: Actor, organisation_id: uuid.UUID, data: bytes) -> Receipt:
    """Store a receipt for one of the actor's organisations (kept once, by content)."""
    authorize(actor, Permission.FILE_EXPENSE_REPORTS, organisation_id)
    try:
        stored: StoredReceipt = receipt_store().put(data)
    except ReceiptRejected as error:
        if error.reason == "too_large":
            raise PayloadTooLarge(error.message, errors={"file": [error.message]}) from None
        if error.reason == "unsupported_type":
            raise UnsupportedReceipt(error.message, errors={"file": [error.message]}) from None
        raise ValidationFailed.field("file", error.message) from None
    file_digest = receipt_store().file_digest(stored.sha256)
    receipt = db.session.get(Receipt, stored.sha256)
    if receipt is None:
        receipt = Receipt(
            sha256=stored.sha256,
            media_type=stored.media_type,
            size=stored.size,
            organisation_id=organisation_id,
            uploaded_by=actor.audit_identity["id"],
            stored_sha256=file_digest,
        )
        db.session.add(receipt)
        db.session.flush()
        record_event(
            actor,
            "receipt.uploaded",
            "receipt",
            stored.sha256,
            {
                "organisation_id": str(organisation_id),
                "media_type": stored.media_type,
                "size": stored.size,
                "stored_sha256": file_digest,
            },
        )
    elif receipt.organisation_id != organisation_id:
        # Another organisation uploaded the very same file: it is theirs to claim, not ours.
        raise ValidationFailed.field(
            "file", translatable("this receipt was already filed by another organisation")
        )
    elif receipt.stored_sha256 != file_digest:
        # The stored copy was damaged (or missing) and this upload wrote a good one in its place.
        receipt.stored_sha256 = file_digest
        db.session.flush()
        record_event(actor, "receipt.restored", "receipt", stored.sha256, {"stored_sha256": file_digest})
    return receipt


def receipt_file_problems(
    recorded: dict[str, str], progress: Callable[[int], None] | None = None
) -> list[str]:
    """Receipts whose stored file differs from the digest the trail recorded when it was written.

    ``recorded`` maps receipt SHA-256 to the file digest the trail holds (replayed); the table's
    column must agree with it too. Receipts stored before digests were recorded are skipped.
    """
    store = receipt_store()
    problems = []
    checked = 0
    for receipt in db.session.scalars(select(Receipt).order_by(Receipt.sha256)):
        expected = recorded.get(receipt.sha256)
        if receipt.stored_sha256 != expected:
            problems.append(
                f"receipt {receipt.sha256}: the table records file digest {receipt.stored_sha256}, "
                f"the trail {expected}"
            )
        elif expected is not None:
            try:
                actual = store.file_digest(receipt.sha256)
            except ReceiptMissing:
                problems.append(f"receipt {receipt.sha256}: the stored file is missing")
            else:
                if actual != expected:
                    problems.append(
                        f"receipt {receipt.sha256}: the stored file's SHA-256 is {actual}, "
                        f"recorded when it was written {expected}: the file was changed on disk"
                    )
        checked += 1
        if progress is not None and checked % RECEIPT_PROGRESS_EVERY == 0:
            progress(checked)
    if progress is not None and checked % RECEIPT_PROGRESS_EVERY:
        progress(checked)
    return problems


RECEIPT_PROGRESS_EVERY = 500


def receipt_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Receipt)) or 0)


def read_receipt(actor: Actor, sha256: str) -> tuple[Receipt, bytes]:
    receipt = db.session.get(Receipt, sha256) if len(sha256) == 64 else None
    if receipt is None:
        authorize(actor, Permission.READ_FUNDS)
        raise NotFound.thing("receipt", sha256[:64])
    authorize(actor, Permission.READ_FUNDS, receipt.organisation_id)
    try:
        return receipt, receipt_store().get(sha256)
    except (KeyError, InvalidReceiptName):
        raise NotFound.thing("receipt", sha256) from None


def media_types(actor: Actor, sha256s: list[str]) -> dict[str, str]:
    """The media type of each receipt ``actor`` may see (to preview images and link PDFs)."""
    authorize(actor, Permission.READ_FUNDS)
    found: list[Receipt] = (
        list(db.session.scalars(select(Receipt).where(Receipt.sha256.in_(sha256s)))) if sha256s else []
    )
    visible = visible_organisation_ids(actor)
    return {r.sha256: r.media_type for r in found if visible is None or r.organisation_id in visible}
