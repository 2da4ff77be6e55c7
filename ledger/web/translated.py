"""Messages from below the pages, shown in the reader's language.

The services and the input schemas answer in English, because that is what the API sends. A page
shows the same refusal translated, when it is drawn:

* a ``Message`` (made with ``ledger.messages.translatable``) keeps its msgid and parameters, so
  the catalog's translation is filled in with the same parameters (messages among the parameters
  are translated too): ``ledger.messages.in_language``, in the page's language, as a spreadsheet
  does in the language its caller chose;
* marshmallow's own messages ("Missing data for required field.", "Longer than maximum length
  200.") are plain text: they are matched against marshmallow's message formats, written below as
  msgids, and the values read back out of them become the parameters;
* a ``Bilingual`` (names that come in both languages from data) shows the reader's one;
* any other text is looked up as a msgid as it stands, and shown unchanged when it is not one.
"""

from __future__ import annotations

import re
from functools import cache

from flask_babel import get_locale, gettext

from ledger.messages import Bilingual, Message, in_language, translatable

MARSHMALLOW_MESSAGES = tuple(
    m.msgid
    for m in (
        translatable("Missing data for required field."),
        translatable("Field may not be null."),
        translatable("Invalid value."),
        translatable("Invalid type."),
        translatable("Invalid input."),
        translatable("Invalid input type."),
        translatable("Unknown field."),
        translatable("Not a valid string."),
        translatable("Not a valid utf-8 string."),
        translatable("Not a valid UUID."),
        translatable("Not a valid number."),
        translatable("Number too large."),
        translatable("Not a valid integer."),
        translatable("Not a valid boolean."),
        translatable("Not a valid date."),
        translatable("Not a valid datetime."),
        translatable("Not a valid list."),
        translatable("Not a valid mapping type."),
        translatable("Not a valid email address."),
        translatable("Not a valid URL."),
        translatable("Special numeric values (nan or infinity) are not permitted."),
        translatable("String does not match expected pattern."),
        translatable("Must be one of: %(choices)s."),
        translatable("Shorter than minimum length %(min)s."),
        translatable("Longer than maximum length %(max)s."),
        translatable("Length must be between %(min)s and %(max)s."),
        translatable("Length must be %(equal)s."),
        translatable("Must be greater than or equal to %(min)s."),
        translatable("Must be greater than %(min)s."),
        translatable("Must be less than or equal to %(max)s."),
        translatable("Must be less than %(max)s."),
        translatable("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
        translatable("Must be greater than or equal to %(min)s and less than %(max)s."),
        translatable("Must be greater than %(min)s and less than or equal to %(max)s."),
        translatable("Must be greater than %(min)s and less than %(max)s."),
    )
)
"""marshmallow's default messages (fields, validators, schemas) in gettext's notation."""

_PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)s")


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each message format as a regular expression whose groups are its parameters.

    The longest formats are tried first: "Must be greater than %(min)s." would otherwise also
    match the two-sided range message, taking "1 and less than 100" for its ``min``.
    """
    by_length = sorted(MARSHMALLOW_MESSAGES, key=len, reverse=True)
    return tuple(
        (re.compile(_PLACEHOLDER.sub(r"(?P<\1>.+?)", re.escape(msgid)) + r"\Z", re.DOTALL), msgid)
        for msgid in by_length
    )


def _reader_language() -> str:
    locale = get_locale()
    return "zh" if locale is not None and locale.language == "zh" else "en"


def in_reader_language(text: object) -> str:
    """``text`` in the language of the page being drawn (see the module's docstring)."""
    if isinstance(text, Message | Bilingual):
        return in_language(text, _reader_language())
    plain = str(text)
    for pattern, msgid in _patterns():
        found = pattern.match(plain)
        if found:
            return str(gettext(msgid, **found.groupdict()) if found.groupdict() else gettext(msgid))
    return str(gettext(plain)) if plain else plain
