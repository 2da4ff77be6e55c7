"""Chinese and English on every page: Chinese first for Chinese users, a switch for the other.

Every string a page shows goes through the gettext message catalog (Flask-Babel): msgids are
English, ``ledger/translations/zh_Hans`` holds the Chinese, and ``make setup`` compiles the
catalogs. The locale is the one the person chose with the language switch (kept in the session
as ``zh`` or ``en``), else the best match of the browser's Accept-Language, else Chinese.

Messages from the services (``ledger.messages.Message``: English text that keeps its msgid and
parameters) and marshmallow's own messages are translated when the page is drawn
(``ledger.web.translated``). Money is shown with its currency and thousands separators.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel

from ledger import vocabulary
from ledger.business_dates import business_zone
from ledger.models.notification import Notification
from ledger.services.notifications.texts import message_of
from ledger.web.translated import in_reader_language

LANGUAGES = ("zh", "en")
LOCALES = {"zh": "zh_Hans", "en": "en"}
"""The session's language code -> the catalog's locale."""
HTML_LANG = {"zh": "zh-Hans", "en": "en"}
"""The session's language code -> the BCP 47 tag pages are marked with."""
SWITCH_TO = {"zh": ("en", "English"), "en": ("zh", "中文")}
"""The other language, named in itself, for the switch in the page header."""


def configure_babel(app: Flask) -> None:
    from pathlib import Path

    catalogs = Path(__file__).resolve().parent.parent / "translations"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(catalogs))
    Babel(app, locale_selector=select_locale, default_locale=LOCALES["zh"])
    app.jinja_env.filters["translated"] = in_reader_language
    app.jinja_env.filters["notification_text"] = notification_text
    app.jinja_env.filters["local_time"] = local_time
    # The words for stored codes (statuses, roles, kinds), shared with the services.
    app.jinja_env.globals["words"] = vocabulary


def select_locale() -> str:
    return LOCALES[language()]


def language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(["zh", "en"], default="zh")
    return best or "zh"


def in_language(zh: str, en: str) -> str:
    """Reference data that carries both names (categories, accounts): the one in the reader's language."""
    return zh if language() == "zh" else en


SIGNS = {"CNY": "¥", "USD": "US$", "EUR": "€", "GBP": "£"}
"""Currencies shown by their sign; the others by their code (``"HKD 12.00"``)."""


def currency_sign(currency: str) -> str:
    """The sign a form's label shows for ``currency`` (``¥``), or its code when it has none."""
    return SIGNS.get(currency, currency)


def money(amount: object, currency: str = "CNY") -> str:
    """``"1234567.5", "CNY"`` -> ``"¥1,234,567.50"``; ``"-3", "CNY"`` -> ``"-¥3.00"``.

    The one way pages show an amount (right-aligned in tables: ``td.n``).
    """
    from ledger.statements.render import money as with_separators

    text = str(amount)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    shown = with_separators(digits)
    return f"{sign}{SIGNS[currency]}{shown}" if currency in SIGNS else f"{sign}{currency} {shown}"


def money_minor(minor: int, currency: str) -> str:
    """An amount stored as integer minor units, shown as ``money`` shows it."""
    from ledger.money import Money

    return money(str(Money(currency, minor)), currency)


def decimal_minor(minor: int, currency: str) -> str:
    """Integer minor units as the plain decimal a form field takes back (``"40000.00"``)."""
    from ledger.money import Money

    return str(Money(currency, minor))


def template_helpers() -> dict[str, Any]:
    lang = language()
    switch_code, switch_name = SWITCH_TO[lang]
    return {
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "switch_language": {"code": switch_code, "name": switch_name, "html_lang": HTML_LANG[switch_code]},
        "in_language": in_language,
        "money": money,
        "currency_sign": currency_sign,
        "money_minor": money_minor,
        "decimal_minor": decimal_minor,
    }


def notification_text(notification: Notification) -> str:
    """A notification's sentence in the reader's language."""
    return in_reader_language(message_of(notification))


def local_time(moment: datetime) -> str:
    """A UTC timestamp as a reader in the business time zone reads it: ``2026-11-29 13:05``."""
    return moment.astimezone(business_zone()).strftime("%Y-%m-%d %H:%M")
