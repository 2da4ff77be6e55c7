"""Open-data exports: OCDS 1.1 for procurement contracts, 360Giving 1.4 for grants."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from ledger.api.common import Blueprint
from ledger.api.security import API_PREFIX, current_actor
from ledger.exports.json_numbers import dumps_exact
from ledger.inputs.common import StrictSchema
from ledger.services import open_data

blp = Blueprint(
    "exports",
    __name__,
    url_prefix=API_PREFIX + "/exports",
    description="Open data: OCDS and 360Giving packages",
)


class OcdsQuerySchema(StrictSchema):
    fund_id = ma.fields.UUID(load_default=None, metadata={"description": "one contract only"})
    records = ma.fields.Boolean(
        load_default=False, metadata={"description": "compiled records instead of the releases"}
    )


class GrantQuerySchema(StrictSchema):
    fund_id = ma.fields.UUID(load_default=None, metadata={"description": "one grant only"})


def _json(document: dict[str, Any]) -> Response:
    # Amounts are exact JSON numbers (never floats): written by hand, not by Flask's encoder.
    return Response(dumps_exact(document), mimetype="application/json")


def _doc(description: str) -> dict[str, Any]:
    return {
        "200": {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}
    }


@blp.route("/ocds")
class Ocds(MethodView):
    @blp.arguments(OcdsQuerySchema, location="query")
    @blp.doc(responses=_doc("an OCDS 1.1 release package (or record package with records=true)"))
    def get(self, query: dict[str, Any]) -> Response:
        """Procurement contracts as an OCDS 1.1 release package, one release per change"""
        if query["records"]:
            return _json(open_data.ocds_record_package(current_actor(), query["fund_id"]))
        return _json(open_data.ocds_release_package(current_actor(), query["fund_id"]))


@blp.route("/360giving")
class ThreeSixtyGiving(MethodView):
    @blp.arguments(GrantQuerySchema, location="query")
    @blp.doc(responses=_doc("a 360Giving 1.4 package of grants"))
    def get(self, query: dict[str, Any]) -> Response:
        """Incubation funds and lottery grants as a 360Giving 1.4 package"""
        return _json(open_data.grants_package(current_actor(), query["fund_id"]))
