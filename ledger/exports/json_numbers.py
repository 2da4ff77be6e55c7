"""JSON with exact decimal numbers: OCDS and 360Giving want amounts as JSON numbers.

Money is never a float here. Amounts are ``Decimal`` in the Python structure and are written as
the number token of their exact decimal text (``40000.00``), which ``json`` cannot do itself:
each Decimal is first replaced by a unique placeholder string, the document is serialised, and
the quoted placeholders are then swapped for the decimal text.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any


def dumps_exact(document: Any, *, indent: int | None = 2) -> str:
    marker = f"__decimal_{secrets.token_hex(8)}_"
    numbers: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError("an amount must be a finite number")
            numbers.append(format(value, "f"))
            return f"{marker}{len(numbers) - 1}"
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [swap(item) for item in value]
        if isinstance(value, float):
            raise TypeError("floats are not written: give amounts as Decimal")
        return value

    text = json.dumps(swap(document), ensure_ascii=False, indent=indent)
    for index in range(len(numbers) - 1, -1, -1):  # longest indexes first: "_12" before "_1"
        text = text.replace(f'"{marker}{index}"', numbers[index])
    return text
