"""Pieces every API module shares: paging, ETags, and the base schema settings."""

from __future__ import annotations

import enum
import json
from typing import Any, NoReturn

import flask_smorest
import marshmallow as ma
from flask import Response, request
from flask_smorest.pagination import PaginationParameters
from marshmallow import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request

from ledger.config import current_settings
from ledger.errors import PreconditionRequired, ValidationFailed
from ledger.models.base import Versioned
from ledger.services import idempotency
from ledger.services.pagination import PageRequest

MAX_SAFE_INTEGER = 2**53 - 1
# Business dates outside this range are typing mistakes, not plans.
# Beyond this an OFFSET overflows the databases' integers; no real list is that long.
MAX_OFFSET = 2**31


class MissingResponseField(LookupError):
    """A response schema declares a field the object it dumps does not have: a bug, not an omission."""


class ResponseSchema(ma.Schema):
    """Dumps every field it declares, or fails.

    marshmallow leaves out a field whose attribute it cannot find, so a renamed property would
    silently vanish from the response while the OpenAPI document still promises it. Here that is
    an error (logged with a reference number like any other), caught by any test that touches
    the endpoint. A field that may be empty says so with ``allow_none`` and holds None.
    """

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        value = super().get_attribute(obj, attr, default)
        if value is ma.missing:
            raise MissingResponseField(f"{type(self).__name__}.{attr}: {type(obj).__name__} has no {attr!r}")
        return value


def page_request(pagination: PaginationParameters) -> PageRequest:
    settings = current_settings()
    request_ = PageRequest(page=pagination.page, page_size=min(pagination.page_size, settings.max_page_size))
    if request_.offset > MAX_OFFSET:
        raise ValidationFailed.field("query.page", f"must be at most {MAX_OFFSET // request_.page_size + 1}")
    return request_


def etag_headers(entity: Versioned) -> dict[str, str]:
    return {"ETag": f'"{entity.version}"'}


IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "maxLength": 20},
    "description": 'the ETag you read, such as "3" (or *); without it, 428; a stale one, 412',
}


def requires_if_match(view: Any) -> Any:
    """Document the If-Match header that :func:`if_match_version` requires of this operation."""
    return Blueprint.doc(parameters=[IF_MATCH_PARAMETER])(view)


def if_match_version() -> int | None:
    """The version named by ``If-Match`` (None for ``*``); a write without it is refused."""
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag you read, so that you do not overwrite someone else's change."
        )
    value = header.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    if not value.isdecimal() or len(value) > 12:
        raise ValidationFailed.field("If-Match", 'must be the ETag of the resource, such as "3"')
    return int(value)


def with_etag(entity: Versioned, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    return entity, status, etag_headers(entity)


def created_with_etag(made: idempotency.Created[Any]) -> tuple[Any, int, dict[str, str]]:
    """201 with what a create made; 200 with what the first request with the same key made."""
    return with_etag(made.thing, 201 if made.created else 200)


def idempotency_key() -> str | None:
    return request.headers.get(idempotency.HEADER)


def enum_value_field(enum_class: type[enum.Enum], **kwargs: Any) -> ma.fields.String:
    """Dump a stored enum value (a plain string in the model) and document its choices."""
    return ma.fields.String(validate=ma.validate.OneOf([e.value for e in enum_class]), **kwargs)


MAX_INTEGER_DIGITS = 20
"""No field takes a longer integer; a longer one would also exhaust Python's int parsing."""


class _Refused(ValueError):
    """A JSON body that parses but is not one the API accepts (see :func:`strict_json`)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise _Refused(f"the key {json.dumps(twice)} appears twice in one object")
    return value


def _bounded_integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits is longer than any field takes")
    return int(text)


def _no_constant(text: str) -> Any:
    raise _Refused(f"{text} is not JSON")


def _lone_surrogate(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and any("\ud800" <= c <= "\udfff" for c in item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def strict_json(raw: bytes) -> Any:
    """Parse a request body as JSON the way the API accepts it, or raise ``JSONDecodeError``.

    Beyond JSON's grammar: no key twice in one object (a lenient parser lets the last one win,
    so two readers of the same body could disagree), no integer longer than any field takes,
    no NaN or Infinity, and no lone UTF-16 surrogate (``"\\ud800"``: text that has no UTF-8
    form cannot be stored, hashed or shown).
    """
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text, object_pairs_hook=_unique_keys, parse_int=_bounded_integer, parse_constant=_no_constant
        )
    except UnicodeDecodeError as error:
        raise json.JSONDecodeError(f"the body is not UTF-8: {error.reason}", "?", error.start) from None
    except _Refused as refused:
        raise json.JSONDecodeError(str(refused), "?", 0) from None
    except RecursionError:
        raise json.JSONDecodeError("the JSON is nested too deeply", "[", 0) from None
    if _lone_surrogate(value):
        raise json.JSONDecodeError("a string holds a lone UTF-16 surrogate, which is not text", "?", 0)
    return value


class LedgerParser(FlaskParser):
    """webargs' parser, reading bodies with :func:`strict_json` and naming what is wrong in a 400."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        raw = req.get_data(cache=True)
        if not raw:
            return missing  # no body at all: the schema says which fields are required
        return strict_json(raw)

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> NoReturn:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        abort(400, exc=error, messages={"json": [f"Invalid JSON body: {reason}."]})


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """The API's blueprints: flask-smorest's, parsing arguments with :class:`LedgerParser`."""

    ARGUMENTS_PARSER = LedgerParser()


CREATED_ID = "$response.body#/id"  # a link's parameter: the id of what the response describes


def link(method: str, path: str, *, if_match: bool = False, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation ``method path``, its parameters read from this response.

    ``parameters`` map the target's parameter names to runtime expressions such as
    ``$response.body#/id``; ``if_match`` sends this response's ETag as the target's If-Match.
    The target is named by ``operationRef`` (a JSON pointer into the document's paths), as the
    operations have no operationId.
    """
    pointer = path.replace("~", "~0").replace("/", "~1")
    if if_match:
        parameters = {**parameters, "header.If-Match": "$response.header.ETag"}
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}


def created_links(*, retried: bool = True, **links: dict[str, Any]) -> Any:
    """Document ``links`` on a create's 201 and, when it takes an Idempotency-Key, its retry's 200.

    They tell a client where the thing it made is read and acted on, and let Schemathesis's
    stateful phase chain a create to those operations with the id it returned.
    """
    statuses = (201, 200) if retried else (201,)
    return Blueprint.doc(responses={status: {"links": links} for status in statuses})


# -- spreadsheets (docs/spreadsheets.md) ---------------------------------------------------------------

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_doc(what: str) -> dict[str, Any]:
    """The OpenAPI response of a ``….xlsx`` download: the same figures as the JSON beside it."""
    return {
        "200": {
            "description": f"{what} as an XLSX workbook: the same figures as the JSON endpoint without "
            "'.xlsx', headers in Chinese (English with Accept-Language: en)",
            "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


def reader_language() -> str:
    """``en`` when the caller's Accept-Language prefers English to Chinese, else ``zh``."""
    return request.accept_languages.best_match(["zh", "en"], default="zh") or "zh"


def xlsx_response(filename: str, content: bytes) -> Response:
    response = Response(content, mimetype=XLSX_MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
