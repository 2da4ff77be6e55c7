"""Exact money: decimal strings in, integer minor units inside, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.money import Money, MoneyError


@pytest.mark.parametrize(
    ("text", "currency", "minor", "shown"),
    [
        ("1250.00", "CNY", 125000, "1250.00"),
        ("1250", "CNY", 125000, "1250.00"),
        ("0.1", "CNY", 10, "0.10"),
        ("-3.05", "CNY", -305, "-3.05"),
        ("300", "JPY", 300, "300"),
        ("9007199254740.99", "CNY", 900719925474099, "9007199254740.99"),
    ],
)
def test_parse_and_show(text: str, currency: str, minor: int, shown: str) -> None:
    amount = Money.parse(text, currency)
    assert amount.minor == minor
    assert str(amount) == shown


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("1.001", "CNY"),
        ("1.5", "JPY"),
        ("1e3", "CNY"),
        ("01.00", "CNY"),
        ("1,000.00", "CNY"),
        (" 1.00", "CNY"),
        ("NaN", "CNY"),
        ("", "CNY"),
        ("1.00", "XXX"),
        ("99999999999999999.00", "CNY"),
    ],
)
def test_refuses_what_it_cannot_represent_exactly(text: str, currency: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text, currency)


def test_refuses_floats() -> None:
    with pytest.raises(MoneyError):
        Money.parse(0.1, "CNY")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money("CNY", 1.0)  # type: ignore[arg-type]


def test_arithmetic_is_exact_and_currency_safe() -> None:
    total = Money.parse("0.10", "CNY") + Money.parse("0.20", "CNY")
    assert total == Money.parse("0.30", "CNY")
    assert (total - Money.parse("0.30", "CNY")).is_zero
    assert (-total).minor == -30
    assert total.to_decimal() == Decimal("0.30")
    with pytest.raises(MoneyError):
        total + Money.parse("1", "USD")
