"""Communities API: the neighbourhoods organisations serve, and coverage against targets."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import (
    CREATED_ID,
    Blueprint,
    ResponseSchema,
    created_links,
    created_with_etag,
    enum_value_field,
    idempotency_key,
    if_match_version,
    link,
    page_request,
    requires_if_match,
    with_etag,
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.inputs.common import StrictSchema
from ledger.inputs.communities import CommunityCreateSchema, CommunityUpdateSchema
from ledger.models.community import Community, CommunityKind
from ledger.services import communities as service
from ledger.services import coverage, idempotency, tree

blp = Blueprint(
    "communities",
    __name__,
    url_prefix=f"{API_PREFIX}/communities",
    description="Communities (社区) and how many organisations serve each.",
)


class DivisionRefSchema(ResponseSchema):
    code = ma.fields.String(metadata={"example": "420102000000"})
    name = ma.fields.String()
    level = ma.fields.String()


class CommunitySchema(ResponseSchema):
    id = ma.fields.UUID(dump_only=True)
    code = ma.fields.String(metadata={"example": "420102012001"})
    division_list = ma.fields.String()
    name = ma.fields.String()
    kind = enum_value_field(CommunityKind)
    path = ma.fields.Method(
        "dump_path",
        metadata={
            "description": "The divisions from the province down to the community itself",
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "level": {"type": "string"},
                },
                "required": ["code", "name", "level"],
            },
        },
    )
    former_code = ma.fields.String(
        allow_none=True,
        metadata={"description": "The free-text code the community had before it was placed in the tree"},
    )
    organisation_target = ma.fields.Integer(
        dump_only=True, metadata={"description": "10 for an urban community, 5 for a rural one"}
    )
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)

    def dump_path(self, community: Community) -> list[dict[str, str]]:
        return [DivisionRefSchema().dump(d) for d in tree.path_of(community.code, community.division_list)]


class CommunityQuerySchema(StrictSchema):
    within = ma.fields.String(
        validate=ma.validate.Length(min=1, max=32),
        metadata={"description": "Only communities under this division (a 12-digit code)"},
    )
    kind = ma.fields.Enum(CommunityKind, by_value=True)

    class Meta:
        unknown = ma.EXCLUDE  # page and page_size are read by the pager


class CommunityCoverageSchema(ResponseSchema):
    community = ma.fields.Nested(CommunitySchema)
    organisation_count = ma.fields.Integer()
    target = ma.fields.Integer()
    meets_target = ma.fields.Boolean()


@blp.route("")
class Communities(MethodView):
    @blp.arguments(CommunityQuerySchema, location="query")
    @blp.response(200, CommunitySchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Community]:
        """List communities"""
        page = service.list_communities(current_actor(), page_request(pagination_parameters), **query)
        pagination_parameters.item_count = page.total
        return page.items

    @blp.arguments(CommunityCreateSchema)
    @blp.response(201, CommunitySchema)
    @blp.alt_response(
        200, schema=CommunitySchema, description="A retry with the same Idempotency-Key and body"
    )
    @blp.doc(parameters=[idempotency.header_parameter()])
    @created_links(
        get=link("get", f"{API_PREFIX}/communities/{{community_id}}", community_id=CREATED_ID),
        change=link(
            "patch", f"{API_PREFIX}/communities/{{community_id}}", community_id=CREATED_ID, if_match=True
        ),
        remove=link(
            "delete", f"{API_PREFIX}/communities/{{community_id}}", community_id=CREATED_ID, if_match=True
        ),
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Create a community (admins; Idempotency-Key required)"""
        fields = service.CommunityFields(**data)
        return created_with_etag(service.create_community(current_actor(), fields, idempotency_key()))


@blp.route("/<uuid:community_id>")
class CommunityById(MethodView):
    @blp.response(200, CommunitySchema)
    def get(self, community_id: uuid.UUID) -> Any:
        """Get a community"""
        return with_etag(service.get_community(current_actor(), community_id))

    @blp.arguments(CommunityUpdateSchema(partial=True))
    @blp.response(200, CommunitySchema)
    @requires_if_match
    def patch(self, changes: dict[str, Any], community_id: uuid.UUID) -> Any:
        """Change a community (send If-Match)"""
        community = service.update_community(current_actor(), community_id, changes, if_match_version())
        return with_etag(community)

    @blp.response(204)
    @requires_if_match
    def delete(self, community_id: uuid.UUID) -> None:
        """Remove a community that no organisation belongs to (send If-Match)"""
        service.delete_community(current_actor(), community_id, if_match_version())


@blp.route("/coverage")
class CommunityCoverage(MethodView):
    @blp.response(200, CommunityCoverageSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    @blp.doc(deprecated=True)
    def get(self, pagination_parameters: PaginationParameters) -> list[coverage.CommunityCoverage]:
        """Each community's organisations today against its target (10 urban, 5 rural); see /coverage"""
        page = coverage.community_coverage(current_actor(), page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items
