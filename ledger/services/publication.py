"""The public publication: the open-data packages anyone may open, without signing in.

The same documents are served at ``/public/...`` and written as files by ``ledger export
public DIR``, byte for byte, so a hub may serve either: the directory ``DIR`` published at
``<LEDGER_PUBLIC_URL>/public/`` is the endpoint. Each document is named by its path under
``/public``:

- ``ocds/releases.json``, ``ocds/releases-2.json``, ...: OCDS release packages, a page of
  contracts each (``LEDGER_DEFAULT_PAGE_SIZE`` contracts, every release of a contract on one
  page), linked by ``links.next`` and ``links.prev`` as OCDS pages its packages;
- ``ocds/records.json``, ``ocds/records-2.json``, ...: the record packages of the same pages;
- ``360giving.json``: every grant, one file, as 360Giving data is registered.

Every document passes the publication policy (``publication_policy.enforce``) before it is
served or written. A document's date is when what it holds last changed, not when it was asked
for, so it stays the same (and keeps its ETag) until the data changes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import func, select

from ledger.audit.canonical import parse_timestamp
from ledger.config import Settings
from ledger.errors import NotFound
from ledger.exports import ocds, threesixtygiving
from ledger.exports.json_numbers import dumps_exact
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.audit import AuditEntry
from ledger.services import ocds_publication, open_data
from ledger.services.publication_policy import GRANTS, OCDS_RECORDS, OCDS_RELEASES, enforce
from ledger.services.publication_settings import publication_settings

OCDS_KINDS = {"releases": OCDS_RELEASES, "records": OCDS_RECORDS}


@dataclass(frozen=True)
class PublicDocument:
    """One published document: its exact bytes and their entity tag."""

    path: str
    body: bytes

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:32]


def _page_path(kind: str, page: int) -> str:
    return f"ocds/{kind}.json" if page == 1 else f"ocds/{kind}-{page}.json"


def _as_of() -> str | None:
    """When the service's data last changed: the time of the latest audit entry."""
    ts = db.session.scalar(select(func.max(AuditEntry.ts)))
    return (
        parse_timestamp(ts).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        if ts
        else None
    )


def _document(path: str, kind: str, package: dict[str, Any]) -> PublicDocument:
    return PublicDocument(path, (dumps_exact(enforce(kind, package)) + "\n").encode("utf-8"))


def _ocds_page(settings: Settings, kind: str, page: int) -> tuple[PublicDocument, int]:
    """The page, and how many pages there are."""
    size = settings.default_page_size
    contracts, total = open_data.public_contracts((page - 1) * size, size)
    pages = max(1, math.ceil(total / size))
    if page < 1 or page > pages:
        raise NotFound(translatable("There is no page %(page)s.", page=page))
    processes = ocds_publication.stored_releases([c.fund.id for c in contracts])
    if kind == "releases":
        package = ocds.release_package(settings, [r for published in processes for r in published])
    else:
        package = ocds.record_package(settings, processes)
    base = f"{settings.public_url}/public/"
    package["uri"] = base + _page_path(kind, page)
    # A page of records and the page of releases with the same number hold the same contracts.
    for record in package.get("records", []):
        for listed in record["releases"]:
            listed["url"] = f"{base}{_page_path('releases', page)}#{listed['url'].rpartition('#')[2]}"
    as_of = _as_of()
    if as_of is not None:
        package["publishedDate"] = as_of
    links = {}
    if page < pages:
        links["next"] = base + _page_path(kind, page + 1)
    if page > 1:
        links["prev"] = base + _page_path(kind, page - 1)
    if links:
        package["links"] = links
    return _document(_page_path(kind, page), OCDS_KINDS[kind], package), pages


def ocds_page(kind: str, page: int) -> PublicDocument:
    """Page ``page`` (from 1) of the OCDS release or record packages (``kind``)."""
    return _ocds_page(publication_settings(), kind, page)[0]


def grants_document() -> PublicDocument:
    """Every published grant as one 360Giving package (none published yet: not found)."""
    settings = publication_settings()
    grants = open_data.public_grants()
    if not grants:
        # A 360Giving package holds at least one grant.
        raise NotFound(translatable("No grants are published yet."))
    return _document("360giving.json", GRANTS, threesixtygiving.grants_package(settings, grants))


def every_document() -> Iterator[PublicDocument]:
    """Every public document, as ``ledger export public`` writes them."""
    settings = publication_settings()
    for kind in OCDS_KINDS:
        first, pages = _ocds_page(settings, kind, 1)
        yield first
        for page in range(2, pages + 1):
            yield _ocds_page(settings, kind, page)[0]
    if open_data.public_grants():
        yield grants_document()
