"""Who is calling: bearer tokens resolved to an ``Actor`` before any API view runs.

Every API endpoint requires a valid token unless its view is marked ``@public`` (signing in,
the OpenAPI document, the health check), so a new endpoint is protected by default. What the
caller may do is then decided by the services (``ledger.services.access``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from ledger.errors import Unauthenticated
from ledger.services.access import Actor
from ledger.services.tokens import user_for_token

F = TypeVar("F", bound=Callable[..., object])

API_PREFIX = "/api/v1"
_PUBLIC = "_ledger_public"
# Endpoints flask-smorest registers for the OpenAPI document.
_PUBLIC_ENDPOINTS = {"api-docs.openapi_json"}
_BODY_METHODS = {"POST", "PUT", "PATCH"}


_UPLOADS = "_ledger_accepts_uploads"


def accepts_uploads(view: F) -> F:
    """Mark an API view that takes a multipart/form-data upload instead of JSON."""
    setattr(view, _UPLOADS, True)
    return view


def _view_method(endpoint: str | None) -> object:
    view = current_app.view_functions.get(endpoint or "")
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), None) if view_class is not None else view


def public(view: F) -> F:
    """Mark an API view as open to callers without a token."""
    setattr(view, _PUBLIC, True)
    return view


def current_actor() -> Actor:
    actor: Actor | None = g.get("actor")
    if actor is None:
        raise Unauthenticated("Send a bearer token: Authorization: Bearer <token>.")
    return actor


def _is_public_endpoint(endpoint: str | None) -> bool:
    if endpoint is None or endpoint in _PUBLIC_ENDPOINTS:
        return True
    view = current_app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = getattr(view_class, request.method.lower(), None)
        return bool(getattr(method, _PUBLIC, False))
    return bool(getattr(view, _PUBLIC, False))


def authenticate_api_request() -> None:
    if not request.path.startswith(API_PREFIX + "/"):
        return
    g.actor = None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        found = user_for_token(secret.strip())
        if found is not None:
            user, token = found
            g.actor = Actor.of(user)
            g.api_token = token
        else:
            raise Unauthenticated("The token is invalid, expired or revoked; sign in again.")
    if g.actor is None and not _is_public_endpoint(request.endpoint):
        raise Unauthenticated("Send a bearer token: Authorization: Bearer <token>.")


def require_json_body() -> None:
    """A body sent to the API must be JSON (uploads declare their own media types later)."""
    if not request.path.startswith(API_PREFIX + "/") or request.method not in _BODY_METHODS:
        return
    if request.routing_exception is not None:
        return  # no such route or method: a 404 or 405 says more than a 415 would
    if not request.content_length and "Transfer-Encoding" not in request.headers:
        return  # no body at all (e.g. POST /auth/logout)
    if getattr(_view_method(request.endpoint), _UPLOADS, False):
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType()
        return
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()


def configure_api_security(app: Flask) -> None:
    app.before_request(require_json_body)
    app.before_request(authenticate_api_request)
