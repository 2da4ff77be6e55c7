"""An entry's change as a person reads it: field by field, before and after, in words.

``audit_browse`` sets the subject's state before an entry beside its state after it; this module
names the fields (``FIELD_NAMES``) and writes each value the way the pages write it: people by
name, statuses and kinds in words (``ledger.vocabulary``), categories by their names, amounts with
thousands separators, report lines and comments as sentences.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from ledger.extensions import db
from ledger.messages import Bilingual, Message, translatable
from ledger.models.reference import ExpenseCategory
from ledger.vocabulary import value_words

# Field names a change table shows, in words. Every field of every recorded state has one (a test
# reads the whole demo trail); a field added later without one is shown as the trail spells it.
FIELD_NAMES: dict[str, Message] = {
    "status": translatable("Status"),
    "title": translatable("Title"),
    "name": translatable("Name"),
    "code": translatable("Division code"),
    "former_code": translatable("Former division code"),
    "division_list": translatable("Division list"),
    "kind": translatable("Kind"),
    "amount": translatable("Amount"),
    "award": translatable("Award"),
    "currency": translatable("Currency"),
    "lines": translatable("Lines"),
    "comments": translatable("Comments"),
    "interim": translatable("Interim report"),
    "memo": translatable("Memo"),
    "reason": translatable("Reason"),
    "decision_note": translatable("Decision note"),
    "role": translatable("Role"),
    "username": translatable("Username"),
    "is_active": translatable("Active"),
    "display_name": translatable("Display name"),
    "scopes": translatable("Areas"),
    "organisation_ids": translatable("Organisations"),
    "user_id": translatable("User"),
    "purpose": translatable("Purpose"),
    "expires_at": translatable("Expires at"),
    "period": translatable("Period"),
    "year": translatable("Year"),
    "month": translatable("Month"),
    "paid_on": translatable("Paid on"),
    "bank_reference": translatable("Bank reference"),
    "decided_by": translatable("Decided by"),
    "approved_by": translatable("Approved by"),
    "paid_by": translatable("Paid by"),
    "prepared_by": translatable("Prepared by"),
    "filed_by": translatable("Filed by"),
    "proposed_by": translatable("Proposed by"),
    "voided_by": translatable("Voided by"),
    "cancel_reason": translatable("Reason for cancelling"),
    "media_type": translatable("File type"),
    "size": translatable("Size (bytes)"),
    "credit_code": translatable("Unified social credit code"),
    "registration_type": translatable("Registration type"),
    "filed_on": translatable("Filed on"),
    "filing_category": translatable("Filing category"),
    "filing_number": translatable("Filing number"),
    "filing_office_code": translatable("Filing office"),
    "money_held_by": translatable("Money held by"),
    "reference": translatable("Reference"),
    "funder_name": translatable("Funder"),
    "funder_credit_code": translatable("Funder's credit code"),
    "funding_division_code": translatable("Funding division"),
    "admin_cost_cap_bp": translatable("Cap on administrative costs (basis points)"),
    "banned_categories": translatable("Categories not allowed"),
    "category_list_version": translatable("Category list"),
    "disclosure_deadline": translatable("Disclosure due"),
    "awarded_on": translatable("Award decided on"),
    "signed_on": translatable("Signed on"),
    "releases": translatable("Releases"),
    "label_required": translatable("Lottery label required"),
    "milestones": translatable("Milestones"),
    "restricted": translatable("Restricted"),
    "restriction_purpose": translatable("Restricted to"),
    "revenue_account": translatable("Revenue account"),
    "changes": translatable("Budget changes"),
    "tranches": translatable("Tranches"),
    "source": translatable("Source"),
    "source_id": translatable("Source record"),
    "date": translatable("Date"),
    "description": translatable("Description"),
    "postings": translatable("Postings"),
    "reverses": translatable("Reverses"),
    "divisions": translatable("Divisions"),
    "levels": translatable("Levels"),
    "sha256": translatable("SHA-256"),
    "import": translatable("Import"),
    "row_count": translatable("Rows imported"),
    "vkey": translatable("Verification key"),
    "version": translatable("Version"),
    "due_on": translatable("Due on"),
    "covers_year": translatable("Year covered"),
    "responsible_role": translatable("Responsible"),
    "responsible_user_id": translatable("Responsible person"),
    "done_by": translatable("Done by"),
    "done_by_ref": translatable("Fulfilled by"),
    "done_note": translatable("Note"),
    "withdrawn_by": translatable("Withdrawn by"),
    "withdrawal_note": translatable("Reason for withdrawing"),
    "email": translatable("Email address"),
    "email_mode": translatable("Mail"),
    "language": translatable("Language"),
    "url": translatable("Address"),
    "event_types": translatable("Events"),
}

# Fields not worth a row: they change on every write, or only link rows together (the entry
# already names its organisation, fund or report), or are digests a reader cannot compare by eye.
UNSHOWN = {
    "version",
    "journal_entry_id",
    "organisation_id",
    "fund_id",
    "community_id",
    "tranche_id",
    "revision_id",
    "receipt_sha256",
    "stored_sha256",
}
PEOPLE_FIELDS = {
    "user_id",
    "decided_by",
    "approved_by",
    "paid_by",
    "prepared_by",
    "filed_by",
    "proposed_by",
    "voided_by",
    "done_by",
    "withdrawn_by",
    "responsible_user_id",
}


_AMOUNT_FIELDS = {"amount", "award"}
_CATEGORY_LIST_FIELDS = {"banned_categories"}
WHOLE_DEPLOYMENT = translatable("the whole deployment")

Shown = Message | Bilingual | str


@dataclass(frozen=True)
class Change:
    field: str
    label: Message | str
    before: Shown
    after: Shown


class ValueWords:
    """Writes recorded values in words; knows the people and the expense categories by name."""

    def __init__(self, people: Mapping[str, str]) -> None:
        self.people = people
        self._categories: dict[str, Bilingual] | None = None

    def changes(self, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Change]:
        """The fields that differ, in the order the state after the entry lists them."""
        before, after = before or {}, after or {}
        found = []
        for name in [*after, *(k for k in before if k not in after)]:
            if name in UNSHOWN or before.get(name) == after.get(name):
                continue
            was, now = self.shown(name, before.get(name)), self.shown(name, after.get(name))
            if was != now:  # an empty list where there was nothing is no change to a reader
                found.append(Change(name, FIELD_NAMES.get(name, name), was, now))
        return found

    def shown(self, name: str, value: Any) -> Shown:
        if value is None or value == [] or value == "":
            return ""
        if name in PEOPLE_FIELDS and isinstance(value, str):
            return self.people.get(value) or short(value)
        if name == "lines" and _all_mappings(value):
            return _joined([self._line(line) for line in value], "\n")
        if name == "comments" and _all_mappings(value):
            return "\n".join(self._comment(comment) for comment in value)
        if name in _CATEGORY_LIST_FIELDS and isinstance(value, list):
            return _joined([self.category(str(code)) for code in value], "、")
        if name == "scopes" and isinstance(value, list):
            # "*" (the whole deployment) is held alone: it covers every node.
            return WHOLE_DEPLOYMENT if "*" in value else "、".join(str(code) for code in value)
        if name == "period" and isinstance(value, list) and len(value) == 2:
            return f"{value[0]} – {value[1]}"
        if name in _AMOUNT_FIELDS and isinstance(value, str):
            return _amount(value)
        if isinstance(value, str):
            return value_words(name, value)
        if isinstance(value, bool):
            return "✓" if value else "✗"
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 400 else text[:400] + "…"

    def category(self, code: str) -> Bilingual | str:
        if self._categories is None:
            rows = db.session.scalars(select(ExpenseCategory))
            self._categories = {row.code: Bilingual(row.name_zh, row.name_en) for row in rows}
        return self._categories.get(code, code)

    def _line(self, line: Mapping[str, Any]) -> Bilingual | str:
        """A report line as a reader says it: category, amount, payee, date."""
        rest = " ".join(
            part
            for part in (
                _amount(str(line.get("amount", ""))),
                str(line.get("payee", "")),
                str(line.get("incurred_on", "")),
                _invoice_words(line.get("invoice")),
            )
            if part
        )
        return _joined([self.category(str(line.get("category", ""))), rest], " ")

    def _comment(self, comment: Mapping[str, Any]) -> str:
        who = self.people.get(str(comment.get("by"))) or short(str(comment.get("by", "")))
        return f"{who}: {comment.get('comment', '')}".strip()


def _invoice_words(invoice: Any) -> str:
    """A line's invoice as its code and number (发票 code-number), or nothing for a line without one."""
    if not isinstance(invoice, Mapping) or not invoice.get("number"):
        return ""
    code = invoice.get("code")
    return f"#{code}-{invoice['number']}" if code else f"#{invoice['number']}"


def short(text: str) -> str:
    """An id cut to what a person compares by eye."""
    return text if len(text) <= 12 else text[:8] + "…"


def _all_mappings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, Mapping) for v in value)


def _amount(text: str) -> str:
    try:
        return f"{Decimal(text):,.2f}"
    except (InvalidOperation, ValueError):
        return text


def _joined(parts: Iterable[Bilingual | str], separator: str) -> Bilingual | str:
    """Parts joined; in both languages when any part has two (a category's names)."""
    kept = [p for p in parts if p != ""]
    if not any(isinstance(p, Bilingual) for p in kept):
        return separator.join(kept)
    english_separator = ", " if separator == "、" else separator
    return Bilingual(
        separator.join(p.zh if isinstance(p, Bilingual) else p for p in kept),
        english_separator.join(str(p) for p in kept),
    )
