"""Who is signed in on a web page, and the headers every page is sent with.

The session cookie holds the secret of an ordinary sign-in token (the API's kind): it expires,
a password change or ``ledger users disable`` revokes it, and signing out revokes it at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, g, has_request_context, redirect, request, session, url_for
from flask_babel import gettext

from ledger.services.access import Actor
from ledger.services.actions import Actions, navigation
from ledger.services.areas import Place, places_of
from ledger.services.notifications.inbox import unread_count
from ledger.services.tokens import user_for_token
from ledger.web.i18n import language

API_PREFIX = "/api/"
F = TypeVar("F", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def is_web_request() -> bool:
    return not request.path.startswith(API_PREFIX)


def load_web_actor() -> None:
    """Before each page: the signed-in person, if the session's token is still good."""
    if not is_web_request() or request.path.startswith("/static/"):
        return
    g.web_actor = None
    g.web_token = None
    secret = session.get("token")
    if isinstance(secret, str) and secret:
        found = user_for_token(secret)
        if found is None:
            session.pop("token", None)  # expired or revoked: sign in again
        else:
            user, token = found
            g.web_actor, g.web_token, g.web_user = Actor.of(user), token, user
            g.web_place = place_in_words(g.web_actor)


def place_in_words(actor: Actor) -> str:
    """Where ``actor`` works, for the header: "后湖街道", "江岸区、黄陂区", "全部", or a member's organisations."""
    return in_words(places_of(actor))


def in_words(places: Iterable[Place]) -> str:
    """Places joined as the page's language joins a list; the whole deployment is "all areas"."""
    separator = "、" if language() == "zh" else ", "
    return separator.join(place.name or gettext("all areas") for place in places)


def web_actor() -> Actor | None:
    return cast(Actor | None, g.get("web_actor"))


def signed_in(view: F) -> F:
    """The page needs a signed-in person; others are sent to sign in and brought back."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if web_actor() is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def current_web_actor() -> Actor:
    actor = web_actor()
    assert actor is not None  # views that call this are @signed_in
    return actor


def template_helpers() -> dict[str, Actions | int]:
    """Every page's ``navigation``: the places the signed-in person may go (none when signed out),
    and ``unread_notifications``, the count the bell in the header shows."""
    actor = web_actor() if has_request_context() else None
    if actor is None:
        return {"navigation": frozenset(), "unread_notifications": 0}
    return {"navigation": navigation(actor), "unread_notifications": unread_count(actor)}


def add_security_headers(response: Response) -> Response:
    if not is_web_request():
        return response
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response
