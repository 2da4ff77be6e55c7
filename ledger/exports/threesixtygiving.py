"""360Giving 1.4 grants for incubation funds and welfare-lottery grants.

One grant per fund (draft funds are not published): ``id = <LEDGER_360G_PREFIX>-<fund
reference>``, the amount awarded and the amount disbursed so far with each payment as a
disbursement transaction, the recipient organisation and the funder by their Unified Social
Credit Code (``CN-USCI-…``), the planned dates, and classifications by fund kind and by the
expense categories budgeted. Nothing about the service's users is published.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from ledger.config import Settings
from ledger.exports.ocds import funder_party_id, identifier_part, organisation_party_id
from ledger.exports.published import PublishedGrant
from ledger.extensions import db
from ledger.models.fund import BudgetEntry
from ledger.models.organisation import Organisation
from ledger.money import Money

# 360Giving has no language variants, so each text is given once, in Chinese, the language the
# grants are made and reported in (OCDS, which has variants, carries the English as ``title_en``).
KINDS = {
    "incubation_fund": "公益创投孵化资金",
    "lottery_grant": "彩票公益金资助",
}


def _decimal(minor: int, currency: str) -> Decimal:
    return Decimal(str(Money(currency, minor)))


def _months(start: date, end: date) -> int:
    """The planned duration in whole months, as 360Giving counts it (at least one)."""
    return max(1, (end.year - start.year) * 12 + end.month - start.month + (1 if end.day >= start.day else 0))


def grant(settings: Settings, published: PublishedGrant) -> dict[str, Any]:
    fund = published.fund
    organisation = db.session.get(Organisation, fund.organisation_id)
    assert organisation is not None
    paid = published.paid
    budgeted = db.session.execute(
        select(BudgetEntry.category_code, func.sum(BudgetEntry.amount_delta_minor))
        .where(BudgetEntry.fund_id == fund.id)
        .group_by(BudgetEntry.category_code)
        .order_by(BudgetEntry.category_code)
    ).all()
    programme = KINDS[fund.kind]
    # The organisation's community, by its administrative division code (统计用区划代码). The
    # 360Giving geoCodeType codelist names only UK (ONS) code types, so no type is given.
    location = {"name": published.community.name, "countryCode": "CN", "geoCode": published.community.code}
    names = published.category_names
    record: dict[str, Any] = {
        "id": f"{settings.grant_id_prefix}-{identifier_part(fund.reference)}",
        "title": fund.title[:140],
        "description": fund.restriction_purpose or fund.title,
        "currency": fund.currency,
        "amountAwarded": _decimal(fund.award_minor, fund.currency),
        "amountDisbursed": _decimal(published.received_minor, fund.currency),
        "awardDate": published.awarded_on.isoformat(),
        "plannedDates": [
            {
                "startDate": fund.period_start.isoformat(),
                "endDate": fund.period_end.isoformat(),
                "duration": _months(fund.period_start, fund.period_end),
            }
        ],
        "recipientOrganization": [
            {
                "id": organisation_party_id(settings, organisation),
                "name": organisation.name,
                "location": [location],
            }
        ],
        "beneficiaryLocation": [location],
        "fundingOrganization": [{"id": funder_party_id(settings, fund), "name": fund.funder_name}],
        "grantProgramme": [{"code": fund.kind, "title": programme}],
        "classifications": [
            {"vocabulary": "community-fund-ledger:fund-kind", "code": fund.kind, "title": programme}
        ]
        + [
            {
                "vocabulary": "community-fund-ledger:expense-category",
                "code": code,
                "title": names[code].name_zh if code in names else code,
            }
            for code, total in budgeted
            if int(total or 0) > 0
        ],
        "dateModified": _moment(published.modified_at),
    }
    if paid:  # a grant with nothing paid yet has no transactions, not an empty list
        record["disbursementTransaction"] = [
            {
                "id": str(d.id),
                "transactionDate": d.paid_on.isoformat() if d.paid_on else None,
                "currency": d.currency,
                "value": _decimal(d.amount_minor, d.currency),
            }
            for d in paid
        ]
    return record


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def grants_package(settings: Settings, grants: list[PublishedGrant]) -> dict[str, Any]:
    """The grants as one package; it was last modified when its latest grant changed."""
    changed = max((published.modified_at for published in grants), default=None)
    return {
        "grants": [grant(settings, published) for published in grants],
        "version": "1.4",
        "title": f"{settings.publisher_name}: grants",
        "publisher": {"name": settings.publisher_name, "identifier": settings.publisher_identifier},
        "license": settings.licence_url,
        **({"issued": _moment(changed), "modified": _moment(changed)} if changed else {}),
    }
