"""The Unified Social Credit Code (统一社会信用代码) of GB 32100-2015.

Every legal person and organisation in China has one 18-character code:

====  =============================================  ================
pos   part                                           characters
====  =============================================  ================
1     registration authority (5 = civil affairs)     code alphabet
2     entity type (1 social group, 2 social service  code alphabet
      organisation, 3 foundation, ...)
3-8   administrative division (GB/T 2260)            digits
9-17  organisation code (GB 11714)                   code alphabet
18    check character, ISO 7064 style mod 31         code alphabet
====  =============================================  ================

The alphabet is the digits and the capital letters without I, O, S, V and Z (31 characters,
valued 0-30). The check character is ``31 - (sum of value * 3^(i-1) mod 31) mod 31``. Position 1
is not restricted to the civil-affairs values because overseas NGO offices carry ``G1...`` codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.messages import translatable

ALPHABET: Final[str] = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES: Final[dict[str, int]] = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS: Final[tuple[int, ...]] = tuple(pow(3, i, 31) for i in range(17))
LENGTH: Final[int] = 18


@dataclass(frozen=True)
class CreditCodeProblem:
    """Why a code is not valid, said so that a person can fix it."""

    message: str


def check_character(first17: str) -> str:
    """The check character that completes the first 17 characters of a code."""
    total = sum(_VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    """Codes are case-insensitive on paper; the canonical form is upper case without spaces."""
    return code.strip().upper()


def credit_code_problem(code: str) -> CreditCodeProblem | None:
    """Return what is wrong with ``code`` (already normalised), or None when it is valid."""
    if len(code) != LENGTH:
        return CreditCodeProblem(
            translatable(
                "must be %(length)s characters long, not %(actual)s", length=LENGTH, actual=len(code)
            )
        )
    for position, char in enumerate(code, start=1):
        if 3 <= position <= 8 and char not in "0123456789":
            return CreditCodeProblem(
                translatable(
                    "character %(char)s at position %(position)s must be a digit "
                    "(positions 3-8 are the administrative division code)",
                    char=repr(char),
                    position=position,
                )
            )
        if char not in _VALUES:
            return CreditCodeProblem(
                translatable(
                    "character %(char)s at position %(position)s is not allowed "
                    "(digits and capital letters except I, O, S, V, Z)",
                    char=repr(char),
                    position=position,
                )
            )
    expected = check_character(code[:17])
    if code[17] != expected:
        return CreditCodeProblem(
            translatable(
                "check character is %(found)s, expected %(expected)s",
                found=repr(code[17]),
                expected=repr(expected),
            )
        )
    return None


def is_valid_credit_code(code: str) -> bool:
    return credit_code_problem(code) is None
