"""Messages a person reads, marked for the catalog where they are written.

A service says ``translatable("must be at most %(limit)s", limit=limit)``: the result is the
English text (what the API sends as ``detail`` and in ``errors``), and it remembers its msgid and
parameters, so that a page can show the same message in the reader's language from the message
catalog (``ledger/translations``). ``pybabel extract`` finds these calls (``babel.cfg``).

This module imports nothing from Flask: services, the credit-code check and the offline tools use it.
"""

from __future__ import annotations

from collections.abc import Mapping


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
