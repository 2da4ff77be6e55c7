"""Open data: which funds a caller may publish, as OCDS packages and 360Giving grants.

Everything published is about organisations and money, never about the service's users. An
organisation member gets their own organisation's contracts and grants only; others get all.
Draft funds are not published.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from ledger.config import current_settings
from ledger.exports import ocds, threesixtygiving
from ledger.exports.published import PublishedContract, PublishedGrant
from ledger.extensions import db
from ledger.models.fund import Fund, FundKind, FundStatus
from ledger.services import ocds_publication
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.disbursements import paid_disbursements
from ledger.services.fund_figures import figures_of
from ledger.services.funds import categories_of, get_fund

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


def _grants(actor: Actor, fund_id: uuid.UUID | None) -> list[PublishedGrant]:
    return [
        PublishedGrant(
            fund,
            paid_disbursements(fund.id),
            figures_of(fund).received,
            categories_of(fund.category_list_version),
        )
        for fund in _published_funds(actor, GRANT_KINDS, fund_id)
    ]


def ocds_release_package(actor: Actor, fund_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The published releases of the procurement contracts the caller may see, exactly as
    published (``ocds_publication.publish_ocds`` publishes them)."""
    processes = ocds_publication.stored_releases([c.fund.id for c in _contracts(actor, fund_id)])
    return ocds.release_package(current_settings(), [r for releases in processes for r in releases])


def ocds_record_package(actor: Actor, fund_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Each contract's published releases and the record compiled from them."""
    processes = ocds_publication.stored_releases([c.fund.id for c in _contracts(actor, fund_id)])
    return ocds.record_package(current_settings(), processes)


def grants_package(actor: Actor, fund_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The incubation funds and lottery grants the caller may see, as a 360Giving package."""
    return threesixtygiving.grants_package(current_settings(), _grants(actor, fund_id))
