"""Whether a trial balance balances is decided once, in ``TrialBalance.is_balanced``."""

from __future__ import annotations

import uuid
from datetime import date

from ledger.money import Money
from ledger.services.trial_balance import TrialBalance, TrialBalanceRow


def _row(code: str, debit: int, credit: int, currency: str = "CNY") -> TrialBalanceRow:
    return TrialBalanceRow(code, code, code, currency, Money(currency, debit), Money(currency, credit))


def test_balanced_when_debits_equal_credits_in_each_currency() -> None:
    rows = [
        _row("1002", 10_000_00, 2_500_00),  # bank: debit balance 7,500.00
        _row("4101", 0, 10_000_00),  # contributions: credit balance 10,000.00
        _row("5101", 2_500_00, 0),  # programme costs: debit balance 2,500.00
        _row("1002", 100_00, 0, "USD"),  # a second currency, out by 100.00
        _row("4101", 0, 90_00, "USD"),
    ]
    trial = TrialBalance(uuid.uuid4(), date(2026, 3, 31), rows)
    assert trial.is_balanced("CNY") is True
    assert trial.is_balanced("USD") is False
