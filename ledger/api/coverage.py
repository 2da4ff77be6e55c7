"""Coverage API: organisations per community against the 10/5 target, rolled up the administrative tree."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from ledger.api.common import (
    Blueprint,
    ResponseSchema,
    enum_value_field,
    reader_language,
    xlsx_doc,
    xlsx_response,
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.inputs.coverage import CoverageQuerySchema
from ledger.models.community import CommunityKind
from ledger.models.region import DivisionLevel
from ledger.services import coverage as service
from ledger.services import spreadsheets

blp = Blueprint(
    "coverage",
    __name__,
    url_prefix=API_PREFIX,
    description="Coverage: communities meeting their target of organisations, by node of the tree, on a date.",
)

_LEVELS = [level.value for level in DivisionLevel]


def _counts(description: str) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(service.KINDS)),
        values=ma.fields.Integer(),
        metadata={"description": description, "example": dict.fromkeys(service.KINDS, 0)},
    )


def _decimal(name: str, description: str, example: str) -> ma.fields.Function:
    """A Decimal figure dumped as a decimal string, never a JSON number."""
    return ma.fields.Function(
        lambda row: str(getattr(row, name)),
        metadata={
            "type": "string",
            "pattern": r"^[0-9]+\.[0-9]+$",
            "description": description,
            "example": example,
        },
    )


class CrumbSchema(ResponseSchema):
    code = ma.fields.String(allow_none=True, metadata={"description": "null: the whole of your area"})
    name = ma.fields.String(metadata={"description": "empty for the whole of your area"})
    level = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(_LEVELS))


class NodeFiguresSchema(ResponseSchema):
    code = ma.fields.String(allow_none=True, metadata={"description": "null: the whole of your area"})
    name = ma.fields.String()
    level = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(_LEVELS))
    communities = ma.fields.Integer(metadata={"description": "communities in the ledger under the node"})
    communities_met = ma.fields.Integer(metadata={"description": "of them, those meeting their target"})
    share_met = _decimal("share_met", "communities_met / communities, 3 places, half up", "0.167")
    percent_met = _decimal("percent_met", "share_met as a percentage (1 place)", "16.7")
    organisations = ma.fields.Integer(metadata={"description": "organisations counted on as_of"})
    organisations_per_community = _decimal(
        "organisations_per_community", "organisations / communities, 2 places, half up", "2.67"
    )
    registered = ma.fields.Integer(
        metadata={"description": "organisations registered with civil affairs (登记)"}
    )
    filed = ma.fields.Integer(
        metadata={"description": "organisations filed with the street or township (备案)"}
    )
    by_kind = _counts("organisations by kind")


class CommunityFiguresSchema(ResponseSchema):
    id = ma.fields.UUID()
    code = ma.fields.String(metadata={"example": "420116200201"})
    name = ma.fields.String()
    kind = enum_value_field(CommunityKind)
    target = ma.fields.Integer(metadata={"description": "10 for an urban community, 5 for a rural one"})
    organisations = ma.fields.Integer(metadata={"description": "organisations counted on as_of"})
    registered = ma.fields.Integer()
    filed = ma.fields.Integer()
    by_kind = _counts("organisations by kind")
    met = ma.fields.Boolean(metadata={"description": "organisations >= target"})


class CoverageSchema(ResponseSchema):
    as_of = ma.fields.Date()
    node = ma.fields.Nested(NodeFiguresSchema)
    path = ma.fields.List(
        ma.fields.Nested(CrumbSchema),
        metadata={"description": "from the top of your area down to the node"},
    )
    children_level = ma.fields.String(validate=ma.validate.OneOf(_LEVELS))
    children = ma.fields.List(
        ma.fields.Nested(NodeFiguresSchema),
        metadata={"description": "the divisions one level down that hold communities (empty below a street)"},
    )
    communities = ma.fields.List(
        ma.fields.Nested(CommunityFiguresSchema),
        metadata={"description": "below a street or township: its communities (else empty)"},
    )


@blp.route("/coverage")
class Coverage(MethodView):
    @blp.arguments(CoverageQuerySchema, location="query")
    @blp.response(200, CoverageSchema)
    def get(self, query: dict[str, Any]) -> service.Coverage:
        """Coverage of a node of the tree on a date, with its children's figures"""
        return service.coverage(current_actor(), query.get("node"), query.get("as_of"))


@blp.route("/coverage.xlsx")
class CoverageSpreadsheet(MethodView):
    @blp.arguments(CoverageQuerySchema, location="query")
    @blp.doc(responses=xlsx_doc("the node's children (or communities) as one sheet"))
    def get(self, query: dict[str, Any]) -> Response:
        """Coverage of a node's children on a date, as a spreadsheet (XLSX)"""
        made = spreadsheets.coverage_download(
            current_actor(), query.get("node"), query.get("as_of"), reader_language()
        )
        return xlsx_response(made.filename, made.content)
