"""The books as Beancount files: which organisations the caller may export, and their receipts.

The writing is ``ledger.exports.beancount``'s; this module decides whose books and receipts the
caller may read and hands the writer only those.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from ledger.errors import NotFound
from ledger.exports.beancount import BeancountExport, write_books
from ledger.extensions import db
from ledger.models.expense_report import Receipt
from ledger.models.organisation import Organisation
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.funds import categories_of
from ledger.services.receipts import read_receipt


def export_beancount(
    actor: Actor,
    directory: Path,
    organisation_id: uuid.UUID | None = None,
    progress: Callable[[int], None] | None = None,
) -> BeancountExport:
    """Write the books of one organisation, or of all the actor may read, into an empty ``directory``."""
    organisations = _organisations(actor, organisation_id)

    def receipt(sha256: str) -> tuple[Receipt, bytes]:
        return read_receipt(actor, sha256)

    return write_books(organisations, directory, receipt, categories_of, progress)


def _organisations(actor: Actor, organisation_id: uuid.UUID | None) -> list[Organisation]:
    authorize(actor, Permission.READ_BOOKS, organisation_id)
    if organisation_id is not None:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise NotFound.thing("organisation", organisation_id)
        return [organisation]
    statement = select(Organisation).order_by(Organisation.credit_code.nulls_last(), Organisation.id)
    visible = visible_organisation_ids(actor)
    if visible is not None:
        statement = statement.where(Organisation.id.in_(visible))
    return list(db.session.scalars(statement))
