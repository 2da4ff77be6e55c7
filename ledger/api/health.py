"""Health check for load balancers: is the service up and can it reach its database?"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from ledger.api.common import Blueprint, ResponseSchema
from ledger.api.security import API_PREFIX, public
from ledger.services.health import database_reachable

blp = Blueprint("health", __name__, url_prefix=f"{API_PREFIX}/health", description="Service health.")


class HealthSchema(ResponseSchema):
    status = ma.fields.String(metadata={"example": "ok"})
    database = ma.fields.Boolean()


@blp.route("")
class Health(MethodView):
    @public
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database cannot be reached")
    @blp.doc(security=[])
    def get(self) -> tuple[dict[str, object], int]:
        """Report whether the service and its database are up"""
        reachable = database_reachable()
        return {"status": "ok" if reachable else "degraded", "database": reachable}, 200 if reachable else 503
