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
