"""Expense reports: organisations account for what they spent from a fund.

The reports themselves are being built; disbursements already ask whether a fund has an
approved report (a tranche may wait for one), and until reports exist the answer is no.
"""

from __future__ import annotations

import uuid


def has_approved_report(fund_id: uuid.UUID) -> bool:
    return False
