"""Publishing OCDS releases: each release is stored once, as published, and served as stored.

``publish_ocds`` computes the releases the procurement contracts' current state implies and
stores the ones not yet out; a release already published is never rebuilt. When what the state
implies for an event already published has changed (the contract's terms were edited, say), the
change goes out as a new release (an amendment) with its own id and date; the earlier one stays
as it was. The packages read only what is stored, so they serve exactly what was published.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ledger.exports import ocds
from ledger.exports.json_numbers import dumps_exact
from ledger.exports.published import PublishedContract
from ledger.extensions import db
from ledger.models.fund import Fund, FundKind, FundStatus
from ledger.models.ocds_release import PublishedRelease
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.audit_subjects import record_event
from ledger.services.disbursements import paid_disbursements
from ledger.services.publication_settings import publication_settings


def _digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(dumps_exact(content, indent=None).encode("utf-8")).hexdigest()


def _without_milestone_status(content: dict[str, Any]) -> dict[str, Any]:
    """An amendment restates the contract but not its milestones' progress: the payments'
    releases say when each was met, and an amendment dated later must not undo that."""
    body = json.loads(dumps_exact(content, indent=None), parse_float=Decimal)
    for contract in body.get("contracts", []):
        for milestone in contract.get("implementation", {}).get("milestones", []):
            milestone.pop("status", None)
    return dict(body)


def _release(
    implied: ocds.ImpliedRelease,
    release_id: str,
    moment: datetime,
    tags: tuple[str, ...],
    content: dict[str, Any],
) -> dict[str, Any]:
    return {
        "ocid": content["ocid"],
        "id": release_id,
        "date": ocds.moment_text(moment),
        "tag": list(tags),
        **{k: v for k, v in content.items() if k != "ocid"},
    }


def publish_ocds(actor: Actor, now: datetime | None = None) -> list[PublishedRelease]:
    """Store the releases the procurement contracts' state implies and that are not yet out."""
    authorize(actor, Permission.MANAGE_FUNDS)
    now = now or datetime.now(UTC)
    settings = publication_settings()  # production refuses to publish placeholders
    statement = (
        select(Fund)
        .where(Fund.kind == FundKind.PROCUREMENT_CONTRACT.value, Fund.status != FundStatus.DRAFT.value)
        .order_by(Fund.reference)
    )
    visible = visible_organisation_ids(actor)  # an admin of one area publishes that area's contracts
    if visible is not None:
        statement = statement.where(Fund.organisation_id.in_(visible))
    funds = list(db.session.scalars(statement))
    written: list[PublishedRelease] = []
    for fund in funds:
        earlier: dict[str, list[PublishedRelease]] = defaultdict(list)
        for row in db.session.scalars(
            select(PublishedRelease)
            .where(PublishedRelease.fund_id == fund.id)
            .order_by(PublishedRelease.published_at, PublishedRelease.id)
        ):
            earlier[row.event].append(row)
        contract = PublishedContract(fund, paid_disbursements(fund.id))
        # A contracting process keeps the ocid it was first published with, whatever the prefix
        # is set to later: an ocid names one process for good.
        first = next((rows[0].ocid for rows in earlier.values() if rows), None)
        for implied in ocds.implied_releases(settings, contract, first):
            digest = _digest(implied.content if implied.facts is None else implied.facts)
            previous = earlier[implied.event]
            if previous and previous[-1].digest == digest:
                continue
            ocid = implied.content["ocid"]
            if not previous:
                release_id = f"{ocid}-{implied.event}"
                release = _release(implied, release_id, implied.moment, implied.tags, implied.content)
                moment = implied.moment
            else:
                # The change has no business moment of its own: it is dated when it is published.
                release_id = f"{ocid}-{implied.event}-amendment-{len(previous)}"
                moment = max(now, implied.moment)
                release = _release(
                    implied,
                    release_id,
                    moment,
                    implied.amendment_tags,
                    _without_milestone_status(implied.content),
                )
            row = PublishedRelease(
                id=release_id,
                ocid=ocid,
                fund_id=fund.id,
                event=implied.event,
                digest=digest,
                released_at=moment,
                published_at=now,
                body=dumps_exact(release, indent=None),
            )
            db.session.add(row)
            earlier[implied.event].append(row)
            written.append(row)
    db.session.flush()
    if written:
        record_event(actor, "ocds.published", "ocds", "releases", {"releases": [row.id for row in written]})
    return written


def stored_releases(fund_ids: list[uuid.UUID]) -> list[list[dict[str, Any]]]:
    """The published releases of each fund (in ``fund_ids`` order, funds with none left out),
    each exactly as published, in the order of their dates."""
    by_fund: dict[uuid.UUID, list[PublishedRelease]] = defaultdict(list)
    if fund_ids:
        for row in db.session.scalars(
            select(PublishedRelease)
            .where(PublishedRelease.fund_id.in_(fund_ids))
            .order_by(PublishedRelease.released_at, PublishedRelease.published_at, PublishedRelease.id)
        ):
            by_fund[row.fund_id].append(row)
    return [
        [json.loads(row.body, parse_float=Decimal) for row in by_fund[fund_id]]
        for fund_id in fund_ids
        if by_fund[fund_id]
    ]
