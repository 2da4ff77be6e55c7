"""Reading amounts a person or client sent: what people type, in a currency, or a 422 naming the field.

An amount may be written as the pages show it and as people type it: thousands separators
("1,250.50", "1 250.50"), full-width digits and punctuation ("１２５０．５０"), a leading currency
sign or code ("¥1,250.50", "￥ 1 250.50", "CNY 1,250.50") and surrounding spaces. Anything that
could be read two ways ("1,25.0", "1.250,50") is refused with a message saying how to write it.
The API and the pages read amounts here, so both accept the same.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from ledger.errors import ValidationFailed
from ledger.messages import Message, translatable
from ledger.money import Money, MoneyError, currency_exponent

# The signs people put before an amount, by currency (after NFKC, "￥" is "¥").
CURRENCY_SIGNS: Final[dict[str, tuple[str, ...]]] = {
    "CNY": ("¥", "元"),
    "JPY": ("¥", "円"),
    "HKD": ("HK$", "$"),
    "MOP": ("MOP$",),
    "TWD": ("NT$",),
    "USD": ("US$", "$"),
    "EUR": ("€",),
    "GBP": ("£",),
}

# Group separators: comma, space, no-break and thin spaces (full-width ones are NFKC-folded).
_SPACES = "\u0020\u00a0\u2009\u202f"
_GROUPED = re.compile(
    r"^(?P<whole>[0-9]{1,3}(?:(?P<sep>[,\u0020\u00a0\u2009\u202f])[0-9]{3})(?:(?P=sep)[0-9]{3})*)"
    r"(?P<rest>\.[0-9]+)?$"
)
_PLAIN = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


def normalised_amount(text: str, currency: str) -> str:
    """``text`` as the plain decimal ``Money.parse`` reads (``"¥1,250.50"`` -> ``"1250.50"``).

    Raises ``MoneyError`` with a translatable message when the text is not an amount, or could be
    read in two ways.
    """
    if not isinstance(text, str):
        raise MoneyError(translatable('an amount must be a decimal string such as "1250.00"'))
    folded = unicodedata.normalize("NFKC", text).replace("\u3000", " ").strip(_SPACES + "\t")
    sign = ""
    if folded.startswith("-"):
        sign, folded = "-", folded[1:].lstrip(_SPACES)
    for mark in (currency, *CURRENCY_SIGNS.get(currency, ())):
        if folded.startswith(mark):
            folded = folded[len(mark) :].lstrip(_SPACES)
            break
    for mark in CURRENCY_SIGNS.get(currency, ()):
        if mark in ("元", "円") and folded.endswith(mark):
            folded = folded[: -len(mark)].rstrip(_SPACES)
    if not sign and folded.startswith("-"):
        sign, folded = "-", folded[1:].lstrip(_SPACES)
    if _PLAIN.match(folded):
        return sign + _no_leading_zeros(folded)
    grouped = _GROUPED.match(folded)
    if grouped is not None and grouped.group("sep"):
        whole = grouped.group("whole").replace(grouped.group("sep"), "")
        return sign + _no_leading_zeros(whole + (grouped.group("rest") or ""))
    if re.fullmatch(r"[0-9.,\u0020\u00a0\u2009\u202f]+", folded) and any(c.isdigit() for c in folded):
        raise MoneyError(
            translatable(
                'write the amount as "1,250.50": a comma between groups of three digits,'
                " and a point before the decimals"
            )
        )
    raise MoneyError(translatable('%(text)s is not a decimal amount such as "1250.00"', text=repr(text)))


def _no_leading_zeros(text: str) -> str:
    whole, point, fraction = text.partition(".")
    return (whole.lstrip("0") or "0") + point + fraction


def parse_amount(text: str, currency: str, field: str) -> Money:
    """Read a money string for ``field``, or a 422 saying what is wrong with it."""
    try:
        currency_exponent(currency)
    except MoneyError as error:
        raise ValidationFailed.field("currency", str(error)) from None
    try:
        return Money.parse(normalised_amount(text, currency), currency)
    except MoneyError as error:
        # The error's own argument, not str(error): it may be a translatable message.
        message: Message | str = error.args[0]
        raise ValidationFailed.field(field, message) from None
