"""What the open-data formats publish about a fund, gathered by ``ledger.services.open_data``.

The formats only arrange these facts; the service decides which funds the caller may publish
and computes the figures (by the one definition of each, in ``ledger.services``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from ledger.models.community import Community
from ledger.models.disbursement import Disbursement
from ledger.models.fund import Fund
from ledger.models.reference import ExpenseCategory


@dataclass(frozen=True)
class PublishedContract:
    """A procurement contract and its paid disbursements, by payment date."""

    fund: Fund
    paid: list[Disbursement]


@dataclass(frozen=True)
class PublishedGrant:
    """A grant, its paid disbursements (by payment date), what it received and its category names,
    where its organisation works, when it was awarded and when it last changed."""

    fund: Fund
    paid: list[Disbursement]
    received_minor: int
    category_names: Mapping[str, ExpenseCategory]
    community: Community
    awarded_on: date
    modified_at: datetime
