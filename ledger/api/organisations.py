"""Organisations API: community social organisations and their credit codes."""

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
from ledger.inputs.organisations import (
    CREDIT_CODE,
    DeregistrationSchema,
    OrganisationCreateSchema,
    OrganisationUpdateSchema,
    RegistrationSchema,
)
from ledger.models.organisation import FilingCategory, Organisation, OrganisationStatus, RegistrationType
from ledger.services import idempotency, organisation_status
from ledger.services import organisations as service

blp = Blueprint(
    "organisations",
    __name__,
    url_prefix=f"{API_PREFIX}/organisations",
    description="Community social organisations; an org member sees only their own.",
)


class StatusChangeSchema(ResponseSchema):
    status = enum_value_field(OrganisationStatus)
    effective_on = ma.fields.Date(metadata={"description": "the business date the change took effect on"})
    credit_code = ma.fields.String(
        allow_none=True, metadata={"description": "the credit code gained on registration"}
    )
    reason = ma.fields.String(allow_none=True)


class OrganisationSchema(ResponseSchema):
    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String()
    status = enum_value_field(OrganisationStatus)
    credit_code = ma.fields.String(allow_none=True, metadata=CREDIT_CODE)
    registration_type = enum_value_field(RegistrationType)
    community_id = ma.fields.UUID()
    filing_number = ma.fields.String(allow_none=True, metadata={"description": "备案编号, unique per office"})
    filing_office_code = ma.fields.String(
        allow_none=True, metadata={"description": "12-digit code of the street office or township filed with"}
    )
    filed_on = ma.fields.Date(allow_none=True)
    filing_category = enum_value_field(FilingCategory, allow_none=True)
    money_held_by = ma.fields.String(allow_none=True)
    status_history = ma.fields.List(ma.fields.Nested(StatusChangeSchema), dump_only=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class OrganisationQuerySchema(StrictSchema):
    community_id = ma.fields.UUID()
    status = ma.fields.Enum(OrganisationStatus, by_value=True)

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
    @blp.alt_response(
        200, schema=OrganisationSchema, description="A retry with the same Idempotency-Key and body"
    )
    @blp.doc(parameters=[idempotency.header_parameter()])
    @created_links(
        get=link("get", f"{API_PREFIX}/organisations/{{organisation_id}}", organisation_id=CREATED_ID),
        change=link(
            "patch",
            f"{API_PREFIX}/organisations/{{organisation_id}}",
            organisation_id=CREATED_ID,
            if_match=True,
        ),
        remove=link(
            "delete",
            f"{API_PREFIX}/organisations/{{organisation_id}}",
            organisation_id=CREATED_ID,
            if_match=True,
        ),
        journal_entries=link(
            "get",
            f"{API_PREFIX}/organisations/{{organisation_id}}/journal-entries",
            organisation_id=CREATED_ID,
        ),
        periods=link(
            "get", f"{API_PREFIX}/organisations/{{organisation_id}}/periods", organisation_id=CREATED_ID
        ),
        trial_balance=link(
            "get", f"{API_PREFIX}/organisations/{{organisation_id}}/trial-balance", organisation_id=CREATED_ID
        ),
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Enter an organisation, registered (credit code) or filed (filing number) (admins; Idempotency-Key required)"""
        fields = service.OrganisationFields(**data)
        return created_with_etag(service.create_organisation(current_actor(), fields, idempotency_key()))


@blp.route("/<uuid:organisation_id>")
class OrganisationById(MethodView):
    @blp.response(200, OrganisationSchema)
    def get(self, organisation_id: uuid.UUID) -> Any:
        """Get an organisation"""
        return with_etag(service.get_organisation(current_actor(), organisation_id))

    @blp.arguments(OrganisationUpdateSchema(partial=True))
    @blp.response(200, OrganisationSchema)
    @requires_if_match
    def patch(self, changes: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Change an organisation (send If-Match)"""
        organisation = service.update_organisation(
            current_actor(), organisation_id, changes, if_match_version()
        )
        return with_etag(organisation)

    @blp.response(204)
    @requires_if_match
    def delete(self, organisation_id: uuid.UUID) -> None:
        """Remove an organisation that has no members (send If-Match)"""
        service.delete_organisation(current_actor(), organisation_id, if_match_version())


@blp.route("/<uuid:organisation_id>/registration")
class OrganisationRegistration(MethodView):
    @blp.arguments(RegistrationSchema)
    @blp.response(200, OrganisationSchema)
    @requires_if_match
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Register a filed organisation: it gains its credit code (admins; send If-Match)"""
        organisation = organisation_status.register_organisation(
            current_actor(),
            organisation_id,
            data["credit_code"],
            data["registered_on"],
            if_match_version(),
            registration_type=data["registration_type"],
        )
        return with_etag(organisation)


@blp.route("/<uuid:organisation_id>/deregistration")
class OrganisationDeregistration(MethodView):
    @blp.arguments(DeregistrationSchema)
    @blp.response(200, OrganisationSchema)
    @requires_if_match
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Deregister an organisation (or withdraw its filing): inactive from that date (admins; send If-Match)"""
        organisation = organisation_status.deregister_organisation(
            current_actor(), organisation_id, data["deregistered_on"], data["reason"], if_match_version()
        )
        return with_etag(organisation)
