"""OCDS 1.1 release packages for government procurement-of-services contracts (政府购买服务).

Each procurement contract fund is one contracting process, ``ocid = <LEDGER_OCDS_PREFIX>-<fund
reference>``. It publishes one release per change: the award and contract when the fund was set
up (with its payment tranches as ``payment`` milestones and its deliverables as ``delivery``
milestones), one ``implementation`` release per payment made (a transaction from the buyer to
the supplier), and a ``contractTermination`` release when the fund is closed. The compiled
record of each contract is its current state. Parties are identified by their Unified Social
Credit Code (scheme ``CN-USCI``); nothing about the service's users is published.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ledger.config import Settings
from ledger.exports.published import PublishedContract
from ledger.extensions import db
from ledger.models.disbursement import Tranche
from ledger.models.fund import Fund, FundStatus
from ledger.models.organisation import Organisation
from ledger.money import Money

CHINA = timezone(timedelta(hours=8))
OCDS_VERSION = "1.1"
FUNDER_NAMESPACE = uuid.UUID("6f1d0c2e-6a43-5a3e-9d0b-6c0f3c1e2a40")
"""Funders without a credit code are named by a name-based UUID in this namespace (fixed forever)."""


def _amount(minor: int, currency: str) -> dict[str, Any]:
    return {"amount": Decimal(str(Money(currency, minor))), "currency": currency}


def _day(day: date) -> str:
    """A calendar day as an OCDS date-time: midnight in China."""
    return datetime.combine(day, time.min, tzinfo=CHINA).isoformat()


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def party_id(settings: Settings, credit_code: str | None, local_kind: str, local_key: str) -> str:
    """``CN-USCI-<code>`` (the org-id.guide list of Unified Social Credit Codes) when the code is
    known; otherwise an id under the publisher's own identifier,
    ``<LEDGER_PUBLISHER_ID>-<local_kind>-<local_key>``, which names no registered list."""
    if credit_code:
        return f"CN-USCI-{credit_code}"
    return f"{settings.publisher_identifier}-{local_kind}-{local_key}"


def organisation_party_id(settings: Settings, organisation: Organisation) -> str:
    """An organisation's party id: by its credit code; a filed (备案) one has none and is named
    by its id in this service, which survives a change of name or a new filing."""
    return party_id(settings, organisation.credit_code, "org", str(organisation.id))


def funder_party_id(settings: Settings, fund: Fund) -> str:
    """A funder's party id: by its credit code; without one, by its name (funders are not
    records of their own here), so that every fund of the same funder names the same party."""
    key = uuid.uuid5(FUNDER_NAMESPACE, fund.funder_name.strip())
    return party_id(settings, fund.funder_credit_code, "funder", str(key))


def identifier_part(reference: str) -> str:
    """A fund reference as it may appear inside an ocid or a 360Giving id (letters, digits, ``-``)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", reference)


def _ocid(settings: Settings, fund: Fund) -> str:
    return f"{settings.ocds_prefix}-{identifier_part(fund.reference)}"


def _parties(
    settings: Settings, fund: Fund, organisation: Organisation
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    buyer_id = funder_party_id(settings, fund)
    supplier_id = organisation_party_id(settings, organisation)
    buyer: dict[str, Any] = {
        "id": buyer_id,
        "name": fund.funder_name,
        "roles": ["buyer", "procuringEntity", "payer"],
    }
    if fund.funder_credit_code:
        buyer["identifier"] = {
            "scheme": "CN-USCI",
            "id": fund.funder_credit_code,
            "legalName": fund.funder_name,
        }
    supplier: dict[str, Any] = {"id": supplier_id, "name": organisation.name, "roles": ["supplier", "payee"]}
    if organisation.credit_code:
        supplier["identifier"] = {
            "scheme": "CN-USCI",
            "id": organisation.credit_code,
            "legalName": organisation.name,
        }
    return (
        {"id": buyer_id, "name": fund.funder_name},
        {"id": supplier_id, "name": organisation.name},
        [buyer, supplier],
    )


def contracting_process(settings: Settings, published: PublishedContract) -> dict[str, Any]:
    """The releases of one contract and its compiled record."""
    fund = published.fund
    organisation = db.session.get(Organisation, fund.organisation_id)
    assert organisation is not None
    ocid = _ocid(settings, fund)
    buyer, supplier, parties = _parties(settings, fund, organisation)
    value = _amount(fund.award_minor, fund.currency)
    period = {"startDate": _day(fund.period_start), "endDate": _day(fund.period_end)}
    paid = published.paid
    paid_by_tranche = {d.tranche_id for d in paid if d.tranche_id}
    tranches = list(
        db.session.scalars(select(Tranche).where(Tranche.fund_id == fund.id).order_by(Tranche.number))
    )
    milestones = [
        {
            "id": f"payment-{t.number}",
            "title": f"第{t.number}期拨付 Tranche {t.number}",
            "type": "payment",
            "dueDate": _day(t.due_date),
            "status": "met" if t.id in paid_by_tranche else "scheduled",
            "value": _amount(t.amount_minor, fund.currency),
        }
        for t in tranches
    ] + [
        {
            "id": f"delivery-{n}",
            "title": str(m.get("title") or m.get("name") or f"Milestone {n}"),
            "type": "delivery",
            **({"dueDate": _day(date.fromisoformat(str(m["due_date"])))} if m.get("due_date") else {}),
            "status": "scheduled",
        }
        for n, m in enumerate(fund.milestones or [], start=1)
    ]
    award = {
        "id": f"{ocid}-award",
        "title": fund.title,
        "status": "active",
        "date": _moment(fund.created_at),
        "value": value,
        "suppliers": [supplier],
        "contractPeriod": period,
    }
    terminated = fund.status == FundStatus.CLOSED.value
    contract_id = f"{ocid}-contract"

    def contract(**extra: Any) -> dict[str, Any]:
        return {"id": contract_id, "awardID": award["id"], **extra}

    def release(suffix: str, when: str, tags: list[str], **fields: Any) -> dict[str, Any]:
        return {
            "ocid": ocid,
            "id": f"{ocid}-{suffix}",
            "date": when,
            "tag": tags,
            "initiationType": "tender",
            "language": "zh",
            "parties": parties,
            "buyer": buyer,
            **fields,
        }

    full_contract = contract(
        title=fund.title,
        status="terminated" if terminated else "active",
        period=period,
        value=value,
        dateSigned=_day(fund.period_start),
        milestones=milestones,
    )
    tender = {"id": f"{ocid}-tender", "title": fund.title, "mainProcurementCategory": "services"}
    releases = [
        release(
            "contract",
            _moment(fund.created_at),
            ["award", "contract"],
            tender=tender,
            awards=[award],
            contracts=[full_contract],
        )
    ]
    transactions: list[dict[str, Any]] = []
    for disbursement in paid:
        assert disbursement.paid_on is not None
        transactions.append(
            {
                "id": str(disbursement.id),
                "date": _day(disbursement.paid_on),
                "value": _amount(disbursement.amount_minor, disbursement.currency),
                "payer": buyer,
                "payee": supplier,
            }
        )
        releases.append(
            release(
                f"payment-{len(transactions)}",
                _day(disbursement.paid_on),
                ["implementation"],
                contracts=[contract(implementation={"transactions": list(transactions)})],
            )
        )
    if terminated:
        # The fund keeps no closing date of its own; the last payment (or the start) dates it.
        last_day = max([d.paid_on for d in paid if d.paid_on] + [fund.period_start])
        releases.append(
            release(
                "termination",
                _day(last_day),
                ["contractTermination"],
                contracts=[contract(status="terminated")],
            )
        )
    compiled = release(
        "compiled",
        max(r["date"] for r in releases),
        ["compiled"],
        tender=tender,
        awards=[award],
        contracts=[{**full_contract, "implementation": {"transactions": transactions}}],
    )
    return {"ocid": ocid, "releases": releases, "compiledRelease": compiled}


def _package_meta(settings: Settings, kind: str) -> dict[str, Any]:
    # The uri is where the public can open the package (the first page of the public
    # publication, served by /public and by the files of `ledger export public`).
    return {
        "uri": f"{settings.public_url}/public/ocds/{kind}.json",
        "publisher": {"name": settings.publisher_name, "uid": settings.publisher_identifier},
        "publishedDate": _moment(datetime.now(UTC)),
        "version": OCDS_VERSION,
        "license": settings.licence_url,
    }


def release_package(settings: Settings, contracts: list[PublishedContract]) -> dict[str, Any]:
    processes = [contracting_process(settings, published) for published in contracts]
    releases = [r for process in processes for r in process["releases"]]
    return {**_package_meta(settings, "releases"), "releases": releases}


def record_package(settings: Settings, contracts: list[PublishedContract]) -> dict[str, Any]:
    meta = _package_meta(settings, "records")
    records = []
    for published in contracts:
        process = contracting_process(settings, published)
        records.append(
            {
                "ocid": process["ocid"],
                "releases": [
                    {
                        "url": f"{settings.public_url}/public/ocds/releases.json#{r['id']}",
                        "date": r["date"],
                        "tag": r["tag"],
                    }
                    for r in process["releases"]
                ],
                "compiledRelease": process["compiledRelease"],
            }
        )
    return {**meta, "records": records}
