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

from flask_babel import get_locale, gettext

from ledger.messages import MARSHMALLOW_MESSAGES, Bilingual, Message, in_language, recognised

__all__ = ["MARSHMALLOW_MESSAGES", "in_reader_language"]


def _reader_language() -> str:
    locale = get_locale()
    return "zh" if locale is not None and locale.language == "zh" else "en"


def in_reader_language(text: object) -> str:
    """``text`` in the language of the page being drawn (see the module's docstring)."""
    if isinstance(text, Message | Bilingual):
        return in_language(text, _reader_language())
    plain = str(text)
    found = recognised(plain)
    if found is not None:
        return in_language(found, _reader_language())
    return str(gettext(plain)) if plain else plain
