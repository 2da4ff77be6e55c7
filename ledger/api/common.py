"""Pieces every API module shares: paging, ETags, and the base schema settings."""

from __future__ import annotations

import enum
from typing import Any

import marshmallow as ma
from flask import request
from flask_smorest.pagination import PaginationParameters

from ledger.config import current_settings
from ledger.errors import PreconditionRequired, ValidationFailed
from ledger.models.base import Versioned
from ledger.services.pagination import PageRequest


class StrictSchema(ma.Schema):
    """Refuses unknown fields, so a typo is an error rather than silently ignored."""

    class Meta:
        unknown = ma.RAISE


def page_request(pagination: PaginationParameters) -> PageRequest:
    settings = current_settings()
    return PageRequest(page=pagination.page, page_size=min(pagination.page_size, settings.max_page_size))


def etag_headers(entity: Versioned) -> dict[str, str]:
    return {"ETag": f'"{entity.version}"'}


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


def enum_value_field(enum_class: type[enum.Enum], **kwargs: Any) -> ma.fields.String:
    """Dump a stored enum value (a plain string in the model) and document its choices."""
    return ma.fields.String(validate=ma.validate.OneOf([e.value for e in enum_class]), **kwargs)
