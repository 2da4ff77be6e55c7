"""Open data: which funds a caller may publish, as OCDS packages and 360Giving grants.

Everything published is about organisations and money, never about the service's users: every
package passes the publication policy (``publication_policy``). An organisation member gets their
own organisation's contracts and grants only; others get all. Draft funds are not published.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from ledger.audit.canonical import parse_timestamp
from ledger.exports import ocds, threesixtygiving
from ledger.exports.published import PublishedContract, PublishedGrant
from ledger.extensions import db
from ledger.models.audit import AuditEntry
from ledger.models.community import Community
from ledger.models.fund import Fund, FundKind, FundStatus
from ledger.models.organisation import Organisation
from ledger.services import ocds_publication
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.disbursements import paid_disbursements
from ledger.services.fund_figures import figures_of
from ledger.services.funds import categories_of, get_fund
from ledger.services.publication_policy import GRANTS, OCDS_RECORDS, OCDS_RELEASES, enforce
from ledger.services.publication_settings import publication_settings

CONTRACT_KINDS = (FundKind.PROCUREMENT_CONTRACT,)
GRANT_KINDS = (FundKind.INCUBATION_FUND, FundKind.LOTTERY_GRANT)


def _published_funds(actor: Actor, kinds: Iterable[FundKind], fund_id: uuid.UUID | None) -> list[Fund]:
    authorize(actor, Permission.READ_FUNDS)
    statement = (
        select(Fund)
        .where(Fund.kind.in_([k.value for k in kinds]), Fund.status != FundStatus.DRAFT.value)
        .order_by(Fund.reference)
    )
    visible = visible_organisation_ids(actor)
    if visible is not None:
        statement = statement.where(Fund.organisation_id.in_(visible))
    if fund_id is not None:
        get_fund(actor, fund_id)  # 404 or 403 as for any other read of the fund
        statement = statement.where(Fund.id == fund_id)
    return list(db.session.scalars(statement))


def _contracts(actor: Actor, fund_id: uuid.UUID | None) -> list[PublishedContract]:
    return [
        PublishedContract(fund, paid_disbursements(fund.id))
        for fund in _published_funds(actor, CONTRACT_KINDS, fund_id)
    ]


def _awarded_on(fund: Fund) -> date:
    """The day the grant was awarded: as recorded on the fund, else its period's start (as the
    OCDS releases date an award, ``ocds.contract_dates``), never the day it was typed in."""
    return fund.awarded_on or fund.period_start


def _modified_at(fund: Fund, paid: Iterable[Any]) -> datetime:
    """When the grant last changed: the latest audit entry about the fund or one of its payments."""
    about_payments = and_(
        AuditEntry.subject_type == "disbursement", AuditEntry.subject_id.in_([str(d.id) for d in paid])
    )
    ts = db.session.scalar(
        select(func.max(AuditEntry.ts)).where(
            or_(
                and_(AuditEntry.subject_type == "fund", AuditEntry.subject_id == str(fund.id)), about_payments
            )
        )
    )
    return parse_timestamp(ts) if ts else fund.created_at


def _grant(fund: Fund) -> PublishedGrant:
    paid = paid_disbursements(fund.id)
    community = db.session.scalar(
        select(Community)
        .join(Organisation, Organisation.community_id == Community.id)
        .where(Organisation.id == fund.organisation_id)
    )
    assert community is not None
    return PublishedGrant(
        fund,
        paid,
        figures_of(fund).received,
        categories_of(fund.category_list_version),
        community,
        _awarded_on(fund),
        _modified_at(fund, paid),
    )


def _grants(actor: Actor, fund_id: uuid.UUID | None) -> list[PublishedGrant]:
    return [_grant(fund) for fund in _published_funds(actor, GRANT_KINDS, fund_id)]


def ocds_release_package(actor: Actor, fund_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The published releases of the procurement contracts the caller may see, exactly as
    published (``ocds_publication.publish_ocds`` publishes them)."""
    processes = ocds_publication.stored_releases([c.fund.id for c in _contracts(actor, fund_id)])
    releases = [r for published in processes for r in published]
    return enforce(OCDS_RELEASES, ocds.release_package(publication_settings(), releases))


def ocds_record_package(actor: Actor, fund_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Each contract's published releases and the record compiled from them."""
    processes = ocds_publication.stored_releases([c.fund.id for c in _contracts(actor, fund_id)])
    return enforce(OCDS_RECORDS, ocds.record_package(publication_settings(), processes))


def grants_package(actor: Actor, fund_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The incubation funds and lottery grants the caller may see, as a 360Giving package."""
    return enforce(GRANTS, threesixtygiving.grants_package(publication_settings(), _grants(actor, fund_id)))


def public_contracts(offset: int, limit: int) -> tuple[list[PublishedContract], int]:
    """One slice of every published procurement contract (by reference), and how many there are."""
    funds = _published_funds(Actor.operator(), CONTRACT_KINDS, None)
    return [PublishedContract(f, paid_disbursements(f.id)) for f in funds[offset : offset + limit]], len(
        funds
    )


def public_grants() -> list[PublishedGrant]:
    """Every published grant."""
    return _grants(Actor.operator(), None)
