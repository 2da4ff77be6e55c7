"""Pages for people: each role's daily work in the browser, server-rendered with Jinja.

The pages call the same services as the API and hold no rules of their own: a view reads the
form, calls one service, and renders or redirects. Signing in issues the same kind of expiring,
revocable token the API uses and keeps it in an HttpOnly, SameSite session cookie (Secure unless
``LEDGER_SECURE_COOKIES=false``); every form carries a CSRF token; every page is sent with a
content security policy that allows no inline script and no framing. Assets come from the
service itself, never a CDN, so the pages work offline.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask


def configure_web(app: Flask) -> None:
    from ledger.config import Settings
    from ledger.problems import HTML_ERROR_PAGE
    from ledger.web import csrf, errors, i18n, session
    from ledger.web.views import blueprint

    settings: Settings = app.extensions["ledger.settings"]
    app.config.update(
        SESSION_COOKIE_NAME="ledger_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.token_ttl_hours),
    )
    app.before_request(session.load_web_actor)
    app.before_request(csrf.check_csrf_token)
    app.after_request(session.add_security_headers)
    i18n.configure_babel(app)
    app.context_processor(i18n.template_helpers)
    app.context_processor(csrf.template_helpers)
    app.context_processor(session.template_helpers)
    app.register_blueprint(blueprint)
    app.extensions[HTML_ERROR_PAGE] = errors.error_page  # problems.py answers people with it
