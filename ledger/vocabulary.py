"""The words for the codes the service stores: statuses, roles, kinds, registration types.

One table each, used by the pages (the badges and labels) and by the auditor's entries browser
(the before/after table), so that a status reads the same everywhere. The values are messages of
the catalog (``translatable``), shown in the reader's language.
"""

from __future__ import annotations

from ledger.messages import Message, translatable

STATUS: dict[str, Message] = {
    "draft": translatable("draft"),
    "submitted": translatable("submitted"),
    "approved": translatable("approved"),
    "returned": translatable("returned"),
    "rejected": translatable("rejected"),
    "voided": translatable("voided"),
    "reversed": translatable("reversed"),
    "prepared": translatable("prepared"),
    "proposed": translatable("proposed"),
    "paid": translatable("paid"),
    "cancelled": translatable("cancelled"),
    "active": translatable("active"),
    "suspended": translatable("suspended"),
    "closed": translatable("closed"),
    "open": translatable("open"),
    "year_closed": translatable("year closed"),
    "filed": translatable("filed"),
    "registered": translatable("registered"),
    "deregistered": translatable("deregistered"),
}
ROLE: dict[str, Message] = {
    "org_member": translatable("organisation member"),
    "finance_officer": translatable("finance officer"),
    "auditor": translatable("auditor"),
    "supervisor": translatable("supervisor"),
    "admin": translatable("administrator"),
}
COMMUNITY_KIND: dict[str, Message] = {"urban": translatable("urban"), "rural": translatable("rural")}
DISBURSEMENT_KIND: dict[str, Message] = {
    "tranche_advance": translatable("tranche advance"),
    "reimbursement": translatable("reimbursement"),
}
FUND_KIND: dict[str, Message] = {
    "incubation_fund": translatable("incubation fund"),
    "lottery_grant": translatable("lottery grant"),
    "procurement_contract": translatable("procurement contract"),
}
ORGANISATION_STATUS: dict[str, Message] = {k: STATUS[k] for k in ("filed", "registered", "deregistered")}
FILING_CATEGORY: dict[str, Message] = {
    "life_services": translatable("life services"),
    "charity": translatable("public welfare and charity"),
    "culture_sports": translatable("culture and sports"),
    "mediation": translatable("mediation"),
    "other": translatable("other"),
}
REGISTRATION_TYPE: dict[str, Message] = {
    "social_group": translatable("social group"),
    "social_service_organisation": translatable("social service organisation"),
    "foundation": translatable("foundation"),
    "other": translatable("other"),
}
RECEIPT_KIND: dict[str, Message] = {
    "digital_invoice": translatable("digital invoice"),
    "vat_invoice": translatable("VAT invoice"),
    "fiscal_receipt": translatable("fiscal receipt"),
    "plain_receipt": translatable("receipt or other voucher"),
}
REQUIREMENT_KIND: dict[str, Message] = {
    "interim_report": translatable("interim report"),
    "final_report": translatable("final report"),
    "lottery_disclosure": translatable("lottery-fund disclosure"),
    "tranche_condition": translatable("tranche condition"),
    "annual_report": translatable("annual report"),
    "deliverable": translatable("deliverable"),
}
REQUIREMENT_STATE: dict[str, Message] = {
    "upcoming": translatable("upcoming"),
    "due": translatable("due soon"),
    "overdue": translatable("overdue"),
    "done": translatable("done"),
    "withdrawn": translatable("withdrawn"),
}
RESPONSIBLE_ROLE: dict[str, Message] = {
    "member": translatable("the organisation"),
    "officer": translatable("finance officers"),
}
TOKEN_PURPOSE: dict[str, Message] = {
    "login": translatable("sign-in"),
    "cli": translatable("command line"),
}

# A field of a recorded state whose values are codes, and the words for them. ``kind`` is shared
# by communities, funds, disbursements and requirements; their codes do not overlap.
VALUES_BY_FIELD: dict[str, dict[str, Message]] = {
    "status": STATUS,
    "role": ROLE,
    "kind": {**COMMUNITY_KIND, **DISBURSEMENT_KIND, **FUND_KIND, **REQUIREMENT_KIND},
    "responsible_role": RESPONSIBLE_ROLE,
    "filing_category": FILING_CATEGORY,
    "registration_type": REGISTRATION_TYPE,
    "purpose": TOKEN_PURPOSE,
    "receipt_kind": RECEIPT_KIND,
}


def value_words(field: str, value: str) -> Message | str:
    """``value`` of ``field`` in words where it is a code with words; otherwise as it stands."""
    return VALUES_BY_FIELD.get(field, {}).get(value, value)
