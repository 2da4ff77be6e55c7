"""Signing in and out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from ledger.errors import TooManyRequests, Unauthenticated, ValidationFailed
from ledger.inputs.auth import LoginSchema
from ledger.services.authentication import login as sign_in
from ledger.services.tokens import revoke_token
from ledger.web.csrf import csrf_token
from ledger.web.forms import load_form
from ledger.web.i18n import LANGUAGES
from ledger.web.session import web_actor
from ledger.web.views import blueprint


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if not target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


@blueprint.get("/login")
def login() -> str | Response:
    if web_actor() is not None:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("web/login.html", next=request.args.get("next", ""), error=None)


@blueprint.post("/login")
def login_post() -> tuple[str, int] | Response:
    username = request.form.get("username", "")
    try:
        credentials = load_form(LoginSchema())
    except ValidationFailed as refused:
        page = render_template(
            "web/login.html",
            next=request.form.get("next", ""),
            error=None,
            problems=refused.errors,
            username=username,
        )
        return page, refused.status
    try:
        result = sign_in(credentials["username"], credentials["password"])
    except (Unauthenticated, TooManyRequests) as error:
        status = 429 if isinstance(error, TooManyRequests) else 401
        page = render_template(
            "web/login.html", next=request.form.get("next", ""), error=error.detail, username=username
        )
        return page, status
    lang = session.get("lang")
    session.clear()  # a new session for the signed-in person (no fixation)
    session.permanent = True
    session["token"] = result.token.secret
    if lang in LANGUAGES:
        session["lang"] = lang
    csrf_token()
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout() -> Response:
    actor, token = web_actor(), g.get("web_token")
    if actor is not None and token is not None:
        revoke_token(actor, token)
    lang = session.get("lang")
    session.clear()
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(url_for("web.login"))


@blueprint.get("/language/<code>")
def switch_language(code: str) -> Response:
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))
