"""What may be published: the one list of the fields the public packages carry.

Every package the public endpoints and ``ledger export public`` serve passes ``enforce`` first.
A field is published only if its path is listed here (``[]`` stands for any item of a list);
``title_en`` or ``description_zh-Hans`` (a language variant, as OCDS writes them) is allowed
where its base field is. No string may look like an e-mail address. The packages are about
organisations and public money: nothing about the service's users (names, logins, e-mail
addresses) and nothing from receipts is listed, so a change that would publish one fails here
instead of going out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

OCDS_RELEASES: Final = "ocds-releases"
OCDS_RECORDS: Final = "ocds-records"
GRANTS: Final = "360giving"

_AMOUNT = ("amount", "currency")
_PARTY_REF = ("id", "name")
_PERIOD = ("startDate", "endDate")


def _under(prefix: str, names: tuple[str, ...]) -> set[str]:
    return {prefix} | {f"{prefix}.{name}" for name in names}


def _release_fields(prefix: str) -> set[str]:
    """The fields of one OCDS release (or compiled release) under ``prefix``."""
    fields = {prefix} | {
        f"{prefix}.{name}" for name in ("ocid", "id", "date", "tag", "tag[]", "initiationType", "language")
    }
    fields |= _under(f"{prefix}.buyer", _PARTY_REF)
    parties = f"{prefix}.parties[]"
    fields |= {f"{prefix}.parties"} | _under(parties, ("id", "name", "roles", "roles[]"))
    fields |= _under(f"{parties}.identifier", ("scheme", "id", "legalName", "uri"))
    fields |= _under(f"{parties}.address", ("region", "locality", "countryName"))
    fields |= _under(f"{prefix}.tender", ("id", "title", "mainProcurementCategory", "status"))
    fields |= _under(f"{prefix}.tender.procuringEntity", _PARTY_REF)
    award = f"{prefix}.awards[]"
    fields |= {f"{prefix}.awards"} | _under(award, ("id", "title", "status", "date", "suppliers"))
    fields |= _under(f"{award}.value", _AMOUNT) | _under(f"{award}.suppliers[]", _PARTY_REF)
    fields |= _under(f"{award}.contractPeriod", _PERIOD)
    contract = f"{prefix}.contracts[]"
    fields |= {f"{prefix}.contracts"} | _under(
        contract, ("id", "awardID", "title", "status", "dateSigned", "milestones", "implementation")
    )
    fields |= _under(f"{contract}.period", _PERIOD) | _under(f"{contract}.value", _AMOUNT)
    for milestones in (f"{contract}.milestones", f"{contract}.implementation.milestones"):
        fields |= {milestones} | _under(
            f"{milestones}[]", ("id", "title", "type", "dueDate", "dateMet", "status", "description")
        )
        fields |= _under(f"{milestones}[].value", _AMOUNT)
    transactions = f"{contract}.implementation.transactions"
    fields |= {transactions} | _under(f"{transactions}[]", ("id", "date", "value", "payer", "payee"))
    fields |= _under(f"{transactions}[].value", _AMOUNT)
    fields |= _under(f"{transactions}[].payer", _PARTY_REF) | _under(f"{transactions}[].payee", _PARTY_REF)
    return fields


def _package_fields() -> set[str]:
    return {
        "uri",
        "version",
        "publishedDate",
        "license",
        "publicationPolicy",
        "links",
        "links.next",
        "links.prev",
    } | _under("publisher", ("name", "scheme", "uid", "uri"))


def _grant_fields() -> set[str]:
    grant = "grants[]"
    location = ("name", "countryCode", "geoCode", "geoCodeType")
    fields = {"grants", "version", "title", "description", "issued", "modified", "license"}
    fields |= _under("publisher", ("name", "identifier", "website"))
    fields |= _under(
        grant,
        (
            "id",
            "title",
            "description",
            "currency",
            "amountAwarded",
            "amountDisbursed",
            "awardDate",
            "dateModified",
            "plannedDates",
            "recipientOrganization",
            "fundingOrganization",
            "beneficiaryLocation",
            "grantProgramme",
            "classifications",
            "disbursementTransaction",
        ),
    )
    fields |= _under(f"{grant}.plannedDates[]", ("startDate", "endDate", "duration"))
    recipient = f"{grant}.recipientOrganization[]"
    fields |= _under(recipient, ("id", "name", "location")) | _under(f"{recipient}.location[]", location)
    fields |= _under(f"{grant}.fundingOrganization[]", ("id", "name"))
    fields |= _under(f"{grant}.beneficiaryLocation[]", location)
    fields |= _under(f"{grant}.grantProgramme[]", ("code", "title"))
    fields |= _under(f"{grant}.classifications[]", ("vocabulary", "code", "title"))
    fields |= _under(f"{grant}.disbursementTransaction[]", ("id", "transactionDate", "currency", "value"))
    return fields


ALLOWED: Final[dict[str, frozenset[str]]] = {
    OCDS_RELEASES: frozenset(_package_fields() | {"releases"} | _release_fields("releases[]")),
    OCDS_RECORDS: frozenset(
        _package_fields()
        | {"records", "records[]", "records[].ocid", "records[].releases"}
        | _under("records[].releases[]", ("url", "date", "tag", "tag[]"))
        | _release_fields("records[].compiledRelease")
    ),
    GRANTS: frozenset(_grant_fields()),
}
"""For each kind of package, the paths of the fields it may publish."""

_LANGUAGE_VARIANT = re.compile(r"^(?P<base>.+)_(?P<tag>[a-z]{2}(?:-[A-Za-z0-9]{2,8})*)$")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


class NotPublishable(Exception):
    """A package holds a field or value the policy does not publish: nothing is served."""


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, item
            yield from _walk(item, child)
    elif isinstance(value, list):
        for item in value:
            yield f"{path}[]", item
            yield from _walk(item, f"{path}[]")


def _allowed(path: str, allowed: frozenset[str]) -> bool:
    if path in allowed:
        return True
    head, _, last = path.rpartition(".")
    variant = _LANGUAGE_VARIANT.match(last)
    return variant is not None and (f"{head}.{variant['base']}" if head else variant["base"]) in allowed


def violations(kind: str, document: dict[str, Any]) -> list[str]:
    """Each path of ``document`` the policy does not publish, and each value like an e-mail address."""
    allowed = ALLOWED[kind]
    found: list[str] = []
    for path, value in _walk(document, ""):
        if not _allowed(path, allowed):
            found.append(path)
        elif isinstance(value, str) and _EMAIL.search(value):
            found.append(f"{path}: an e-mail address")
    return sorted(set(found))


def enforce(kind: str, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` unchanged if the policy publishes all of it; refuses (fails closed) otherwise."""
    found = violations(kind, document)
    if found:
        raise NotPublishable(f"{kind} package holds fields that are not published: {', '.join(found)}")
    return document
