"""Money: exact amounts in a currency, and nothing else.

An amount is an integer number of the currency's minor units (fen for CNY), so arithmetic is
exact and the database stores integers. At the edges it is a decimal *string* with the scale the
currency fixes ("1250.00" CNY, "300" JPY); floats are refused everywhere, because 0.1 + 0.2 is not
0.3 and a ledger must never round by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from ledger.messages import translatable

# ISO 4217 minor-unit exponents of the currencies the service accepts.
CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    "CNY": 2,
    "HKD": 2,
    "MOP": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
}

# Larger amounts would not survive JSON consumers that read numbers as doubles (2^53).
MAX_MINOR_UNITS: Final[int] = 2**53 - 1

_AMOUNT = re.compile(r"^(?P<sign>-)?(?P<whole>0|[1-9][0-9]*)(?:\.(?P<fraction>[0-9]+))?$")


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def currency_exponent(currency: str) -> int:
    """The number of decimal places of ``currency``, or a ``MoneyError`` if unsupported."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        supported = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise MoneyError(f"unsupported currency {currency!r}; supported: {supported}") from None


@dataclass(frozen=True, order=True)
class Money:
    """An exact amount: ``minor`` units of ``currency``."""

    currency: str
    minor: int

    def __post_init__(self) -> None:
        currency_exponent(self.currency)
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise MoneyError("minor units must be an integer")
        if abs(self.minor) > MAX_MINOR_UNITS:
            raise MoneyError(translatable("amount is too large"))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(currency, 0)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Read a decimal string such as ``"1250.00"``; more decimals than the currency has fail."""
        if not isinstance(text, str):
            raise MoneyError(translatable('an amount must be a decimal string such as "1250.00"'))
        match = _AMOUNT.match(text)
        if match is None:
            raise MoneyError(
                translatable('%(text)s is not a decimal amount such as "1250.00"', text=repr(text))
            )
        exponent = currency_exponent(currency)
        fraction = match.group("fraction") or ""
        if len(fraction) > exponent:
            raise MoneyError(
                translatable(
                    "%(currency)s amounts have at most %(places)s decimal places",
                    currency=currency,
                    places=exponent,
                )
            )
        minor = int(match.group("whole")) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
        return cls(currency, -minor if match.group("sign") else minor)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-currency_exponent(self.currency))

    def __str__(self) -> str:
        exponent = currency_exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        whole, fraction = divmod(abs(self.minor), 10**exponent)
        return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"

    def shown(self) -> str:
        """As people read it: ``"¥60,000.00"`` for yuan, ``"USD 1,250.50"`` for other currencies."""
        text = str(self)
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        whole, dot, fraction = digits.partition(".")
        grouped = f"{int(whole):,}{dot}{fraction}"
        return f"{sign}¥{grouped}" if self.currency == "CNY" else f"{sign}{self.currency} {grouped}"

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.currency, self.minor + other.minor)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.currency, self.minor - other.minor)

    def __neg__(self) -> Money:
        return Money(self.currency, -self.minor)

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    @property
    def is_positive(self) -> bool:
        return self.minor > 0


def percent(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` (both minor units), two decimals; "0.00" when ``whole`` is 0."""
    if whole == 0:
        return "0.00"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
