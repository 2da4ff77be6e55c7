"""Regions API: the versioned lists of administrative divisions, read one level of the tree at a time."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import Blueprint, ResponseSchema, page_request
from ledger.api.security import API_PREFIX, current_actor
from ledger.inputs.common import StrictSchema
from ledger.models.region import URBAN_RURAL_CLASSES, Division, DivisionLevel, DivisionList
from ledger.services import regions as service

blp = Blueprint(
    "regions",
    __name__,
    url_prefix=f"{API_PREFIX}/regions",
    description="Administrative divisions (12-digit 统计用区划代码), by versioned list.",
)


class DivisionListSchema(ResponseSchema):
    version = ma.fields.String(metadata={"example": "NBS-2024"})
    year = ma.fields.Integer(metadata={"example": 2024})
    name = ma.fields.String()
    source = ma.fields.String()
    content_sha256 = ma.fields.String()


class DivisionSchema(ResponseSchema):
    list_version = ma.fields.String()
    code = ma.fields.String(metadata={"example": "420102001001", "pattern": "^[0-9]{12}$"})
    name = ma.fields.String(metadata={"example": "三德里社区"})
    parent_code = ma.fields.String(allow_none=True, metadata={"example": "420102001000"})
    level = ma.fields.String(metadata={"enum": [str(level) for level in DivisionLevel]})
    urban_rural_class = ma.fields.String(
        allow_none=True,
        metadata={
            "enum": [*URBAN_RURAL_CLASSES, None],
            "description": "城乡分类代码, communities only: 1xx urban, 2xx rural",
        },
    )
    community_kind = ma.fields.String(
        allow_none=True,
        metadata={
            "enum": ["urban", "rural", None],
            "description": "The community kind the urban-rural class implies (communities only)",
        },
    )


class DivisionQuerySchema(StrictSchema):
    parent = ma.fields.String(
        validate=ma.validate.Regexp(r"^[0-9]{12}$", error="must be 12 ASCII digits"),
        metadata={
            "description": "12-digit code of the division whose children to list; the top level without it"
        },
    )

    class Meta:
        unknown = ma.EXCLUDE  # page and page_size are read by the pager


@blp.route("")
class DivisionLists(MethodView):
    @blp.response(200, DivisionListSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, pagination_parameters: PaginationParameters) -> list[DivisionList]:
        """List the versions of the division lists"""
        page = service.list_division_lists(current_actor(), page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/<string:version>/divisions")
class Divisions(MethodView):
    @blp.arguments(DivisionQuerySchema, location="query")
    @blp.response(200, DivisionSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(
        self, query: dict[str, Any], version: str, pagination_parameters: PaginationParameters
    ) -> list[Division]:
        """List the children of a division (the top level when no parent is given)"""
        page = service.list_divisions(
            current_actor(), version, query.get("parent"), page_request(pagination_parameters)
        )
        pagination_parameters.item_count = page.total
        return page.items
