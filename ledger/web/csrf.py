"""CSRF protection for every form: a per-session secret that each POST must carry back.

A page from this service puts the secret in a hidden field; a page elsewhere cannot read it (the
cookie is HttpOnly and the pages may not be framed), so a forged form post is refused before any
view runs, with nothing written.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import request, session

from ledger.errors import LedgerError
from ledger.messages import translatable
from ledger.web.session import is_web_request

FIELD = "csrf_token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(LedgerError):
    status = 400
    slug = "csrf-refused"
    title = translatable("The form has expired")


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf_token() -> None:
    if not is_web_request() or request.method not in _UNSAFE:
        return
    expected = session.get("csrf")
    sent = request.form.get(FIELD, "")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused(
            translatable(
                "The form has expired or did not come from this site; go back, reload the page and try again."
            )
        )


def template_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "csrf_field": FIELD}
