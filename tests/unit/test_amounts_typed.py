"""Amounts as people type them: separators, full-width digits, a currency sign, spaces; ambiguity refused."""

from __future__ import annotations

import pytest

from ledger.errors import ValidationFailed
from ledger.services.amounts import parse_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1250.50", "CNY", 125050),
        ("1,250.50", "CNY", 125050),
        ("１２５０．５０", "CNY", 125050),
        ("１，２５０．５０", "CNY", 125050),
        ("¥1,250.50", "CNY", 125050),
        ("￥ 1 250.50", "CNY", 125050),
        ("￥１２５０", "CNY", 125000),
        ("  1,250.50  ", "CNY", 125050),
        ("\u3000１２５０．５\u3000", "CNY", 125050),
        ("CNY 1,250.50", "CNY", 125050),
        ("1250.5元", "CNY", 125050),
        ("1,234,567.89", "CNY", 123456789),
        ("1 234 567", "CNY", 123456700),
        ("1,250", "CNY", 125000),
        ("-¥1,250.50", "CNY", -125050),
        ("¥300", "JPY", 300),
        ("0.10", "CNY", 10),
    ],
)
def test_what_people_type_is_read(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency, "amount").minor == minor


@pytest.mark.parametrize(
    "text",
    ["1,25.0", "1.250,50", "1,2500.00", "12,50", "1,250 000.00", "1,,250", "1.2.3", ",250"],
)
def test_what_could_be_read_two_ways_is_refused_saying_how_to_write_it(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_amount(text, "CNY", "amount")
    [message] = refused.value.errors["amount"]
    assert message.msgid.startswith('write the amount as "1,250.50"')


@pytest.mark.parametrize(
    ("text", "field"),
    [("abc", "amount"), ("", "amount"), ("$1,250.50", "amount"), ("1.001", "amount"), ("1e3", "amount")],
)
def test_what_is_not_an_amount_is_refused_at_the_field(text: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_amount(text, "CNY", field)
    assert list(refused.value.errors) == [field]
