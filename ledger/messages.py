"""Messages a person reads, marked for the catalog where they are written.

A service says ``translatable("must be at most %(limit)s", limit=limit)``: the result is the
English text (what the API sends as ``detail`` and in ``errors``), and it remembers its msgid and
parameters, so that a page can show the same message in the reader's language from the message
catalog (``ledger/translations``). ``pybabel extract`` finds these calls (``babel.cfg``).

Where no page is being drawn (a spreadsheet written by a service, in the language the caller
chose), :func:`in_language` gives a message in ``"zh"`` or ``"en"`` from the same catalog.

This module imports nothing from Flask: services, the credit-code check and the offline tools use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Final

from babel.support import NullTranslations, Translations

TRANSLATIONS: Final = Path(__file__).resolve().parent / "translations"
"""The message catalogs (compiled by ``make setup``)."""
LOCALES: Final[dict[str, str]] = {"zh": "zh_Hans", "en": "en"}
"""A language code (``zh``, ``en``) -> the catalog's locale."""


class Message(str):
    """English text that keeps the msgid and parameters it was made from.

    It is a ``str`` so that everything that handles messages as text (JSON, logs, comparisons in
    tests) keeps working; only the page renderer looks at ``msgid`` and ``params``.
    """

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, params: Mapping[str, object] | None = None) -> Message:
        values = dict(params or {})
        # As gettext does: a msgid without parameters is taken literally (it may contain "%").
        text = msgid % values if values else msgid
        made = super().__new__(cls, text)
        made.msgid = msgid
        made.params = values
        return made

    def __reduce__(self) -> tuple[type[Message], tuple[str, dict[str, object]]]:
        return (Message, (self.msgid, self.params))


def translatable(msgid: str, /, **params: object) -> Message:
    """Mark ``msgid`` (English, with ``%(name)s`` placeholders) for the catalog and fill it in."""
    return Message(msgid, params)


class Bilingual(str):
    """Text that comes in both languages from data, not from the catalog (a category's names,
    an account's): the ``str`` is the English, ``zh`` the Chinese. Pages show the reader's one."""

    zh: str

    def __new__(cls, zh: str, en: str) -> Bilingual:
        made = super().__new__(cls, en)
        made.zh = zh
        return made

    def __reduce__(self) -> tuple[type[Bilingual], tuple[str, str]]:
        return (Bilingual, (self.zh, str(self)))


@cache
def _catalog(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [locale])


def in_language(text: object, lang: str) -> str:
    """``text`` in ``lang`` (``"zh"``, else English): a :class:`Message` from the catalog, with its
    parameters filled in (messages among them translated too); a :class:`Bilingual` its Chinese or
    its English; anything else as it stands."""
    chinese = lang == "zh"
    if isinstance(text, Bilingual):
        return text.zh if chinese else str(text)
    if isinstance(text, Message):
        translated = _catalog(LOCALES["zh" if chinese else "en"]).gettext(text.msgid)
        if not text.params:
            return translated
        params = {
            name: in_language(value, lang) if isinstance(value, Message | Bilingual) else value
            for name, value in text.params.items()
        }
        return translated % params
    return str(text)


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
"""marshmallow's default messages (fields, validators, schemas) in gettext's notation: the input
schemas answer with these plain English texts, and :func:`recognised` turns one back into a
:class:`Message` so that it can be shown in either language."""

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


def recognised(text: str) -> Message | None:
    """marshmallow's message ``text`` as the :class:`Message` it would have been (its values read
    back out as parameters), or None when it is not one of marshmallow's messages."""
    for pattern, msgid in _patterns():
        found = pattern.match(text)
        if found:
            return Message(msgid, found.groupdict())
    return None
