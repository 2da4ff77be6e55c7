"""Reading amounts a client sent: a decimal string in a currency, or a 422 naming the field."""

from __future__ import annotations

from ledger.errors import ValidationFailed
from ledger.money import Money, MoneyError, currency_exponent


def parse_amount(text: str, currency: str, field: str) -> Money:
    """Read a money string for ``field``, or a 422 saying what is wrong with it."""
    try:
        currency_exponent(currency)
    except MoneyError as error:
        raise ValidationFailed.field("currency", str(error)) from None
    try:
        return Money.parse(text, currency)
    except MoneyError as error:
        # The error's own argument, not str(error): it may be a translatable message.
        raise ValidationFailed.field(field, error.args[0]) from None
