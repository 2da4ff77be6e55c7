"""The one error path: every error becomes an RFC 9457 ``application/problem+json`` body.

``{type, title, status, detail, code, errors?}``: ``type`` is a stable URN per kind of problem,
``code`` names the rule that refused (``"disbursement.over_award"``; the type's slug when there is
no finer one), ``errors`` maps each offending field to its messages. ``detail`` and ``errors``
are English; people read them in their own language on the pages, from the message catalog. Unexpected exceptions are logged with a
reference number and answered with that number only, never with their text or a stack trace.
"""

from __future__ import annotations

import http
import logging
import secrets
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, has_request_context, request
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ledger.errors import LedgerError, RowsRefused, TooManyRequests
from ledger.messages import translatable

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
HTML_ERROR_PAGE = "ledger.html_error_page"
"""``app.extensions`` key: the web package registers its error page there (problems imports no web)."""
TYPE_PREFIX = "urn:community-fund-ledger:problem:"

_HTTP_SLUGS = {
    400: ("bad-request", translatable("Bad request")),
    401: ("unauthenticated", translatable("Authentication required")),
    403: ("forbidden", translatable("Not allowed")),
    404: ("not-found", translatable("Not found")),
    405: ("method-not-allowed", translatable("Method not allowed")),
    409: ("conflict", translatable("Conflicts with the current state")),
    412: ("precondition-failed", translatable("The resource has changed")),
    413: ("payload-too-large", translatable("Request body too large")),
    415: ("unsupported-media-type", translatable("Unsupported content type")),
    422: ("validation-failed", translatable("The request has invalid fields")),
    428: ("precondition-required", translatable("If-Match header required")),
    429: ("too-many-requests", translatable("Too many attempts")),
    500: ("internal-error", translatable("Internal error")),
}


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem details object."""

    type = ma.fields.String(metadata={"description": "Stable URN naming the kind of problem"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String(metadata={"description": "What went wrong, in English"})
    code = ma.fields.String(
        metadata={
            "description": "Stable code of the rule that refused, e.g. disbursement.over_award; "
            "the type's last part when there is no finer one"
        }
    )
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Messages per offending field"},
    )


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Mapping[str, list[str]] | list[dict[str, object]] | None = None,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
) -> Response:
    html_page = current_app.extensions.get(HTML_ERROR_PAGE) if has_request_context() else None
    # The API and the public open-data documents (/public) answer with problem+json.
    if html_page is not None and not request.path.startswith(("/api/", "/public/")):
        # A person in a browser: the web package's page that says what happened and what to do next.
        shown = errors if isinstance(errors, Mapping) else {}
        return html_page(status, title, detail, shown, headers or {})  # type: ignore[no-any-return]
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": str(title),
        "status": status,
        "detail": str(detail),
        "code": code or slug,
    }
    if errors:
        body["errors"] = dict(errors) if isinstance(errors, Mapping) else list(errors)
    response = current_app.response_class(
        current_app.json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_field_errors(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested message dicts into ``{"lines.0.amount": [...]}``."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_field_errors(value, path))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": list(messages)}
    if isinstance(messages, list):
        flat = {}
        for index, value in enumerate(messages):
            flat.update(flatten_field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "body": [str(messages)]}


def _webargs_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Name fields as clients wrote them: bare for the JSON body, ``query.x`` for parameters."""
    messages = data.get("messages") or data.get("errors") or {}
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for location, location_messages in messages.items():
            prefix = "" if location in ("json", "form", "files") else str(location)
            if location == "json" and isinstance(location_messages, list):
                prefix = "body"
            flat.update(flatten_field_errors(location_messages, prefix))
    return flat


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, answering every error as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_pagination_header(self) -> None:
        """``X-Pagination`` carries its metadata as JSON text; OpenAPI 3 describes a header
        serialised that way with ``content``, not ``schema`` (which would mean an object)."""
        header = {
            "description": "Pagination metadata, as a JSON text",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }
        self.spec.components.header("PAGINATION", header, lazy=True)

    def _register_responses(self) -> None:
        """Document every error response as ``application/problem+json``."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def _register_error_handlers(self) -> None:
        app: Flask = self._app
        app.register_error_handler(HTTPException, self.handle_http_exception)
        app.register_error_handler(LedgerError, handle_ledger_error)
        app.register_error_handler(StaleDataError, handle_lost_race)
        app.register_error_handler(IntegrityError, handle_lost_race)
        app.register_error_handler(DataError, handle_unstorable_value)
        app.register_error_handler(Exception, handle_unexpected_error)

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        if status >= 500:
            original = getattr(error, "original_exception", None)
            if original is not None:
                return handle_unexpected_error(original)
        slug, title = _HTTP_SLUGS.get(status, (f"http-{status}", error.name))
        data = getattr(error, "data", None) or {}
        errors = _webargs_errors(data) if data else {}
        detail = _http_detail(status, errors, error)
        headers: dict[str, str] = {}
        if status == 405:
            allow = dict(error.get_headers()).get("Allow")
            if allow:
                headers["Allow"] = allow
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        headers.update(data.get("headers") or {})
        return problem_response(status, slug, title, detail, errors, headers)


def _http_detail(status: int, errors: Mapping[str, list[str]], error: HTTPException) -> str:
    if errors:
        if status == 400 and set(errors) == {"body"}:
            return translatable("The request body is not valid JSON.")
        return "Invalid fields: " + ", ".join(sorted(errors)) + "."
    if status == 404:
        return translatable("There is nothing at this address.")
    if status == 405:
        return translatable("This address does not accept that method.")
    if status == 413:
        return translatable("The request body is larger than the service accepts.")
    if status == 415:
        return translatable("Send the request body as application/json.")
    # Werkzeug's own descriptions are fixed English text, never exception data.
    return error.description or error.name


def handle_ledger_error(error: LedgerError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    errors: Mapping[str, list[str]] | list[dict[str, object]] | None = error.errors or None
    if isinstance(error, RowsRefused):
        # An uploaded table's problems, by row and column, in the caller's language.
        lang = request.accept_languages.best_match(["zh", "en"], default="zh") or "zh"
        errors = error.listed(lang)
    return problem_response(error.status, error.slug, error.title, error.detail, errors, headers, error.code)


def handle_lost_race(error: Exception) -> Response:
    """Two writers raced and the database kept the first: the second is told to retry.

    The services check versions and uniqueness first; this only answers the writer that loses a
    race between that check and its commit (a version counter or a unique index caught it).
    """
    log.info("a concurrent write won: %s", type(error).__name__)
    if isinstance(error, StaleDataError):
        return problem_response(
            412,
            "precondition-failed",
            "The resource has changed",
            translatable("Someone else changed it first; fetch it again."),
        )
    return problem_response(
        409,
        "conflict",
        "Conflicts with the current state",
        translatable("A concurrent change conflicts with this one; try again."),
    )


def handle_unstorable_value(error: DataError) -> Response:
    """A value the request carried passed validation but the database cannot store it.

    Validation should have named the field; this is the safety net that keeps it a 4xx. It is
    logged so that the missing validation gets added.
    """
    log.warning("a request value reached the database unvalidated: %s", type(error.orig).__name__)
    return problem_response(
        422,
        "validation-failed",
        "The request has invalid fields",
        translatable("A value is out of range or cannot be stored."),
    )


def handle_unexpected_error(error: BaseException) -> Response:
    reference = secrets.token_hex(6)
    log.error("unexpected error (reference %s)", reference, exc_info=error)
    return problem_response(
        500,
        "internal-error",
        "Internal error",
        translatable(
            "Something went wrong on our side. It has been logged with reference %(reference)s; "
            "please try again, and quote the reference if it persists.",
            reference=reference,
        ),
    )
