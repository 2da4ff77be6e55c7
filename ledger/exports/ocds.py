"""OCDS 1.1 releases for government procurement-of-services contracts (政府购买服务).

Each procurement contract fund is one contracting process, ``ocid = <LEDGER_OCDS_PREFIX>-<fund
reference>``. ``implied_releases`` says which releases the contract's state implies, one per
business event, each carrying only what that event changed (OCDS merges releases by the ids of
the objects in them): the award and contract when it was signed (its payment tranches and its
deliverables as ``implementation.milestones``), one ``implementation`` release per payment made
(the transaction, and the tranche's milestone met), one per deliverable an officer marked done
(its milestone met on that day), and a ``contractTermination`` release when the fund was closed
(deliverables still open then ``notMet``). Each is dated by its business event, in the deployment's time zone
(``LEDGER_TIME_ZONE``; +08:00 in China). Publishing
them (``ledger.services.ocds_publication``) stores each once; nothing here is rebuilt for a
release already out. Parties are identified by their Unified Social Credit Code (scheme
``CN-USCI``); nothing about the service's users is published.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ledger.business_dates import business_zone, end_of_day, start_of_day
from ledger.config import Settings
from ledger.exports.ocds_merge import compile_releases
from ledger.exports.published import PublishedContract
from ledger.extensions import db
from ledger.models.disbursement import Disbursement, Tranche
from ledger.models.fund import Fund, FundStatus
from ledger.models.organisation import Organisation
from ledger.models.requirement import Requirement, RequirementKind
from ledger.money import Money

OCDS_VERSION = "1.1"
FUNDER_NAMESPACE = uuid.UUID("6f1d0c2e-6a43-5a3e-9d0b-6c0f3c1e2a40")
"""Funders without a credit code are named by a name-based UUID in this namespace (fixed forever)."""


def _amount(minor: int, currency: str) -> dict[str, Any]:
    return {"amount": Decimal(str(Money(currency, minor))), "currency": currency}


# A day's release is dated at its start; a period ends at the end of its last day.
start_of = start_of_day
end_of = end_of_day


def moment_text(moment: datetime) -> str:
    """An OCDS date-time in the business time zone, to the second: ``2026-03-02T07:30:00+08:00``."""
    return moment.astimezone(business_zone()).isoformat(timespec="seconds")


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


@dataclass(frozen=True)
class ImpliedRelease:
    """A release the contract's state implies: the event it reports, when, and what it says.

    ``content`` is the release without its ``id``, ``date`` and ``tag``, which publication
    gives it (a first release or an amendment of the same event).
    """

    event: str
    moment: datetime
    tags: tuple[str, ...]
    amendment_tags: tuple[str, ...]
    content: dict[str, Any]
    # What a change of is a new release; the whole content when None.
    facts: dict[str, Any] | None = None


def contract_dates(fund: Fund, paid: list[Disbursement]) -> tuple[datetime, datetime]:
    """When the award was decided and the contract signed: the days recorded on the fund (the
    period's start when not recorded), never after the first payment."""
    first_paid = min((start_of(d.paid_on) for d in paid if d.paid_on), default=None)
    awarded = start_of(fund.awarded_on or fund.period_start)
    signed = start_of(fund.signed_on or fund.awarded_on or fund.period_start)
    if first_paid is not None:
        signed = min(signed, first_paid)
        awarded = min(awarded, signed)
    return awarded, signed


def _milestones(fund: Fund, tranches: list[Tranche]) -> list[dict[str, Any]]:
    """The contract's milestones as signed: payment tranches (``financing``) and deliverables."""
    payments = [
        {
            "id": f"tranche-{t.number}",
            "title": f"第{t.number}期拨付",
            "title_en": f"Tranche {t.number}",
            "type": "financing",
            "dueDate": moment_text(end_of(t.due_date)),
            "status": "scheduled",
        }
        for t in tranches
    ]
    deliveries = [
        {
            "id": f"delivery-{n}",
            "title": str(m.get("title") or m.get("name") or f"Milestone {n}"),
            "type": "delivery",
            **(
                {"dueDate": moment_text(end_of(date.fromisoformat(str(m["due_date"]))))}
                if m.get("due_date")
                else {}
            ),
            "status": "scheduled",
        }
        for n, m in enumerate(fund.milestones or [], start=1)
    ]
    return payments + deliveries


def _ids_only(value: Any) -> Any:
    """``value`` with the parties' names left out (references keep their ids)."""
    if isinstance(value, dict):
        if set(value) == {"id", "name"}:
            return {"id": value["id"]}
        return {k: _ids_only(v) for k, v in value.items() if k != "parties"}
    if isinstance(value, list):
        return [_ids_only(item) for item in value]
    return value


def implied_releases(
    settings: Settings, published: PublishedContract, ocid: str | None = None
) -> list[ImpliedRelease]:
    """The releases the contract's current state implies, in the order of their events, under
    ``ocid`` (the one it was first published with; by the settings' prefix when it is new)."""
    fund = published.fund
    organisation = db.session.get(Organisation, fund.organisation_id)
    assert organisation is not None
    ocid = ocid or ocid_of(settings, fund)
    buyer, supplier, parties = _parties(settings, fund, organisation)
    paid = published.paid
    tranches = list(
        db.session.scalars(select(Tranche).where(Tranche.fund_id == fund.id).order_by(Tranche.number))
    )
    number_of = {t.id: t.number for t in tranches}
    awarded, signed = contract_dates(fund, paid)
    award_id = f"{ocid}-award"
    contract_id = f"{ocid}-contract"

    def content(*, with_parties: bool = False, **fields: Any) -> dict[str, Any]:
        # The parties are named once, in the contract's release; later releases refer to them by
        # id, so that a party's new name does not restate every payment.
        named = {"parties": parties, "buyer": buyer} if with_parties else {}
        return {"ocid": ocid, "initiationType": "tender", "language": "zh", **named, **fields}

    period = {
        "startDate": moment_text(start_of(fund.period_start)),
        "endDate": moment_text(end_of(fund.period_end)),
    }
    value = _amount(fund.award_minor, fund.currency)
    releases = [
        ImpliedRelease(
            "contract",
            signed,
            ("award", "contract"),
            ("awardUpdate", "contractAmendment"),
            content(
                with_parties=True,
                tender={
                    "id": f"{ocid}-tender",
                    "title": fund.title,
                    "status": "complete",
                    "procuringEntity": buyer,
                    "mainProcurementCategory": "services",
                },
                awards=[
                    {
                        "id": award_id,
                        "title": fund.title,
                        "status": "active",
                        "date": moment_text(awarded),
                        "value": value,
                        "suppliers": [supplier],
                        "contractPeriod": period,
                    }
                ],
                contracts=[
                    {
                        "id": contract_id,
                        "awardID": award_id,
                        "title": fund.title,
                        "status": "active",
                        "period": period,
                        "value": value,
                        "dateSigned": moment_text(signed),
                        "implementation": {"milestones": _milestones(fund, tranches)},
                    }
                ],
            ),
        )
    ]
    # A party's new name is not a change of the contract: the release keeps the names it had.
    releases[0] = replace(releases[0], facts=_ids_only(releases[0].content))
    for disbursement in paid:
        assert disbursement.paid_on is not None
        when = start_of(disbursement.paid_on)
        implementation: dict[str, Any] = {
            "transactions": [
                {
                    "id": str(disbursement.id),
                    "date": moment_text(when),
                    "value": _amount(disbursement.amount_minor, disbursement.currency),
                    "payer": buyer,
                    "payee": supplier,
                }
            ]
        }
        if disbursement.tranche_id in number_of:
            implementation["milestones"] = [
                {
                    "id": f"tranche-{number_of[disbursement.tranche_id]}",
                    "status": "met",
                    "dateMet": moment_text(when),
                }
            ]
        releases.append(
            ImpliedRelease(
                f"payment-{disbursement.id}",
                when,
                ("implementation",),
                ("implementationUpdate",),
                content(
                    contracts=[{"id": contract_id, "awardID": award_id, "implementation": implementation}]
                ),
                # What the payment was (not the names it goes by): a change of it is an amendment.
                facts={
                    "transaction": str(disbursement.id),
                    "date": disbursement.paid_on.isoformat(),
                    "amount": disbursement.amount_minor,
                    "currency": disbursement.currency,
                    "milestones": implementation.get("milestones", []),
                },
            )
        )
    deliverables = list(
        db.session.scalars(
            select(Requirement)
            .where(Requirement.fund_id == fund.id, Requirement.kind == RequirementKind.DELIVERABLE.value)
            .order_by(Requirement.milestone_number)
        )
    )
    for deliverable in deliverables:
        if deliverable.done_at is None:
            continue
        met = {
            "id": f"delivery-{deliverable.milestone_number}",
            "status": "met",
            "dateMet": moment_text(deliverable.done_at),
        }
        releases.append(
            ImpliedRelease(
                f"delivery-{deliverable.milestone_number}",
                deliverable.done_at,
                ("implementation",),
                ("implementationUpdate",),
                content(
                    contracts=[
                        {"id": contract_id, "awardID": award_id, "implementation": {"milestones": [met]}}
                    ]
                ),
            )
        )
    if fund.status == FundStatus.CLOSED.value:
        # Funds closed before the closing moment was kept are dated by their last payment.
        closed = fund.closed_at or max([start_of(d.paid_on) for d in paid if d.paid_on] + [signed])
        terminated: dict[str, Any] = {"id": contract_id, "awardID": award_id, "status": "terminated"}
        # A deliverable still open when the contract ends was not met (one withdrawn was waived).
        not_met = [
            {"id": f"delivery-{d.milestone_number}", "status": "notMet"}
            for d in deliverables
            if d.done_at is None and d.withdrawn_at is None
        ]
        if not_met:
            terminated["implementation"] = {"milestones": not_met}
        releases.append(
            ImpliedRelease(
                "termination",
                closed,
                ("contractTermination",),
                ("contractTermination",),
                content(contracts=[terminated]),
            )
        )
    return releases


def ocid_of(settings: Settings, fund: Fund) -> str:
    return _ocid(settings, fund)


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


def release_package(settings: Settings, releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The releases exactly as they were published."""
    return {**_package_meta(settings, "releases"), "releases": releases}


def record_package(settings: Settings, processes: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """One record per contracting process: its published releases (linked) and the release
    compiled from them."""
    records = []
    for releases in processes:
        records.append(
            {
                "ocid": releases[0]["ocid"],
                "releases": [
                    {
                        "url": f"{settings.public_url}/public/ocds/releases.json#{r['id']}",
                        "date": r["date"],
                        "tag": r["tag"],
                    }
                    for r in releases
                ],
                "compiledRelease": compile_releases(releases),
            }
        )
    return {**_package_meta(settings, "records"), "records": records}
