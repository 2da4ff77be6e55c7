"""The imports and their columns: what a template holds and what an upload's headers may name.

Each column is a field of the input schema the single-item API loads (``ledger/inputs``): its
field name is its English header, and its header (a catalog message) is what the template shows,
in Chinese. A header in either language, or the field name, is read back. The rules a value must
follow are the schema's and the service's, never repeated here; a column only says whether the
template marks it required, which values a drop-down offers, and the sample row's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ledger.messages import Message, in_language, translatable
from ledger.models.community import CommunityKind
from ledger.models.disbursement import TrancheCondition
from ledger.models.organisation import FilingCategory, OrganisationStatus, RegistrationType
from ledger.models.user import Role

TEXT: Final = "text"
DATE: Final = "date"
MONEY: Final = "money"


@dataclass(frozen=True)
class ImportColumn:
    field: str
    header: Message
    required: bool = False
    choices: tuple[str, ...] = ()
    sample: str | None = None
    several: bool = False
    """The cell holds several values, separated by commas (organisation ids, scopes)."""
    form: str = TEXT
    width: int = 18

    def names(self) -> set[str]:
        """What a header may say to name this column: the field, or the header in either language."""
        return {self.field, in_language(self.header, "en"), in_language(self.header, "zh")}


@dataclass(frozen=True)
class ImportKind:
    name: str
    title: Message
    columns: tuple[ImportColumn, ...]
    unique: tuple[str, ...] = ()
    """Fields whose value must not repeat within one file."""
    in_fund: bool = False
    """Imported into one fund (its budget or its tranche schedule) rather than on their own."""

    def column(self, field: str) -> ImportColumn | None:
        return next((c for c in self.columns if c.field == field), None)

    def is_sample(self, values: dict[str, Any]) -> bool:
        """Whether a row is the template's sample row left as it was (it is not imported)."""
        return all(
            (str(values[c.field]) if values.get(c.field) is not None else None) == c.sample
            for c in self.columns
        )


def _values(enum: Any) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


COMMUNITIES = ImportKind(
    "communities",
    translatable("Communities"),
    (
        ImportColumn("code", translatable("Community code"), True, sample="420199001999"),
        ImportColumn("name", translatable("Community name"), sample="示例社区 Sample community", width=24),
        ImportColumn("kind", translatable("Urban or rural"), choices=_values(CommunityKind), sample="urban"),
        ImportColumn("division_list", translatable("Division list"), sample=None),
    ),
    unique=("code",),
)

ORGANISATIONS = ImportKind(
    "organisations",
    translatable("Organisations"),
    (
        ImportColumn("name", translatable("Organisation name"), True, sample="示例社区志愿者协会", width=26),
        ImportColumn("community_code", translatable("Community code"), True, sample="420199001999"),
        ImportColumn(
            "status",
            translatable("Registered or filed"),
            choices=(OrganisationStatus.REGISTERED.value, OrganisationStatus.FILED.value),
            sample="registered",
        ),
        ImportColumn(
            "credit_code", translatable("Unified Social Credit Code"), sample="51420000MJH200395N", width=22
        ),
        ImportColumn(
            "registration_type",
            translatable("Registration type"),
            choices=_values(RegistrationType),
            sample="social_group",
            width=26,
        ),
        ImportColumn("registered_on", translatable("Registered on"), sample="2025-03-01", form=DATE),
        ImportColumn("filing_number", translatable("Filing number"), width=22),
        ImportColumn("filing_office_code", translatable("Filing office code")),
        ImportColumn("filed_on", translatable("Filed on"), form=DATE),
        ImportColumn("filing_category", translatable("Filing category"), choices=_values(FilingCategory)),
        ImportColumn("money_held_by", translatable("Money held by"), width=24),
    ),
    unique=("credit_code",),
)

USERS = ImportKind(
    "users",
    translatable("Users"),
    (
        ImportColumn("username", translatable("Username"), True, sample="sample.user"),
        ImportColumn("display_name", translatable("Display name"), True, sample="示例用户"),
        ImportColumn("role", translatable("Role"), True, choices=_values(Role), sample="finance_officer"),
        ImportColumn("password", translatable("Initial password"), True, sample="change-me-at-once-2026"),
        ImportColumn(
            "organisation_codes",
            translatable("Organisations (credit code or filing number)"),
            several=True,
            width=38,
        ),
        ImportColumn("scopes", translatable("Areas (division codes)"), several=True, sample="420199001000"),
    ),
    unique=("username",),
)

BUDGET = ImportKind(
    "budget",
    translatable("Budget"),
    (
        ImportColumn("category_code", translatable("Category code"), True, sample="ACTIVITY"),
        ImportColumn("amount", translatable("Amount"), True, sample="0.00", form=MONEY),
    ),
    unique=("category_code",),
    in_fund=True,
)

TRANCHES = ImportKind(
    "tranches",
    translatable("Tranche schedule"),
    (
        ImportColumn("amount", translatable("Amount"), True, sample="0.00", form=MONEY),
        ImportColumn("due_date", translatable("Due date"), True, sample="2000-01-01", form=DATE),
        ImportColumn(
            "condition", translatable("Condition"), choices=_values(TrancheCondition), sample="none"
        ),
    ),
    in_fund=True,
)

KINDS: Final[dict[str, ImportKind]] = {
    k.name: k for k in (COMMUNITIES, ORGANISATIONS, USERS, BUDGET, TRANCHES)
}
STANDALONE: Final = ("communities", "organisations", "users")
IN_FUND: Final = ("budget", "tranches")
