"""Organisations API: community social organisations and their credit codes."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import (
    Blueprint,
    ResponseSchema,
    enum_value_field,
    if_match_version,
    page_request,
    with_etag,
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.inputs.common import StrictSchema
from ledger.inputs.organisations import OrganisationCreateSchema, OrganisationUpdateSchema
from ledger.models.organisation import Organisation, RegistrationType
from ledger.services import organisations as service

blp = Blueprint(
    "organisations",
    __name__,
    url_prefix=f"{API_PREFIX}/organisations",
    description="Community social organisations; an org member sees only their own.",
)


class OrganisationSchema(ResponseSchema):
    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String()
    credit_code = ma.fields.String(
        metadata={
            "description": "Unified Social Credit Code (GB 32100-2015)",
            "example": "51420000MJH200395N",
        }
    )
    registration_type = enum_value_field(RegistrationType)
    community_id = ma.fields.UUID()
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class OrganisationQuerySchema(StrictSchema):
    community_id = ma.fields.UUID()

    class Meta:
        unknown = ma.EXCLUDE  # page and page_size are read by the pager


@blp.route("")
class Organisations(MethodView):
    @blp.arguments(OrganisationQuerySchema, location="query")
    @blp.response(200, OrganisationSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Organisation]:
        """List the organisations you may see"""
        page = service.list_organisations(current_actor(), page_request(pagination_parameters), **query)
        pagination_parameters.item_count = page.total
        return page.items

    @blp.arguments(OrganisationCreateSchema)
    @blp.response(201, OrganisationSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register an organisation"""
        organisation = service.create_organisation(current_actor(), service.OrganisationFields(**data))
        return with_etag(organisation, 201)


@blp.route("/<uuid:organisation_id>")
class OrganisationById(MethodView):
    @blp.response(200, OrganisationSchema)
    def get(self, organisation_id: uuid.UUID) -> Any:
        """Get an organisation"""
        return with_etag(service.get_organisation(current_actor(), organisation_id))

    @blp.arguments(OrganisationUpdateSchema(partial=True))
    @blp.response(200, OrganisationSchema)
    def patch(self, changes: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Change an organisation (send If-Match)"""
        organisation = service.update_organisation(
            current_actor(), organisation_id, changes, if_match_version()
        )
        return with_etag(organisation)

    @blp.response(204)
    def delete(self, organisation_id: uuid.UUID) -> None:
        """Remove an organisation that has no members (send If-Match)"""
        service.delete_organisation(current_actor(), organisation_id, if_match_version())
