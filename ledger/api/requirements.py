"""Requirements API: what is due for a fund or an organisation, by when, who acts, and its state."""

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
    enum_value_field,
    if_match_version,
    link,
    page_request,
    requires_if_match,
    with_etag,
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.business_dates import business_today
from ledger.inputs.requirements import (
    RequirementChangeSchema,
    RequirementCreateSchema,
    RequirementNoteSchema,
    RequirementQuerySchema,
)
from ledger.models.requirement import Requirement, RequirementKind, ResponsibleRole
from ledger.services import requirements as service

blp = Blueprint(
    "requirements",
    __name__,
    url_prefix=API_PREFIX,
    description="What is due (reports, disclosures, tranche conditions, annual reports), by when and who acts.",
)


class RequirementSchema(ResponseSchema):
    id = ma.fields.UUID()
    fund_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "null for an organisation's annual report"}
    )
    organisation_id = ma.fields.UUID()
    kind = enum_value_field(RequirementKind)
    title = ma.fields.String(metadata={"description": "as typed, or the kind's own title in Chinese"})
    title_en = ma.fields.String(
        allow_none=True,
        metadata={"description": "the English of a title the service wrote; null for a typed one"},
    )
    due_on = ma.fields.Date()
    covers_year = ma.fields.Integer(allow_none=True)
    tranche_id = ma.fields.UUID(allow_none=True)
    milestone_number = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "a deliverable's place among the contract's milestones, from 1"},
    )
    responsible_role = enum_value_field(ResponsibleRole)
    responsible_user_id = ma.fields.UUID(allow_none=True)
    state = ma.fields.Function(
        lambda r: service.state_of(r, business_today()).value,
        metadata={
            "enum": [s.value for s in service.RequirementState],
            "description": "today, in China: upcoming, due (within 30 days), overdue, done or withdrawn",
        },
    )
    done_at = ma.fields.AwareDateTime(allow_none=True)
    done_by = ma.fields.String(allow_none=True)
    done_by_ref = ma.fields.String(
        allow_none=True,
        metadata={
            "description": 'what fulfilled it: "expense_report:<id>", "statement:<sha256>" or "marked"'
        },
    )
    done_note = ma.fields.String(allow_none=True)
    withdrawn_at = ma.fields.AwareDateTime(allow_none=True)
    withdrawn_by = ma.fields.String(allow_none=True)
    withdrawal_note = ma.fields.String(allow_none=True)
    created_by = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


@blp.route("/funds/<uuid:fund_id>/requirements")
class FundRequirements(MethodView):
    @blp.response(200, RequirementSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, fund_id: uuid.UUID, pagination_parameters: PaginationParameters) -> list[Requirement]:
        """A fund's requirements and its organisation's annual reports, by due date"""
        page = service.fund_requirements(current_actor(), fund_id, page_request(pagination_parameters))
        pagination_parameters.item_count = page.total
        return page.items

    @blp.arguments(RequirementCreateSchema)
    @blp.response(201, RequirementSchema)
    @created_links(
        retried=False,
        get=link("get", f"{API_PREFIX}/requirements/{{requirement_id}}", requirement_id=CREATED_ID),
        change=link(
            "patch", f"{API_PREFIX}/requirements/{{requirement_id}}", requirement_id=CREATED_ID, if_match=True
        ),
        done=link("post", f"{API_PREFIX}/requirements/{{requirement_id}}/done", requirement_id=CREATED_ID),
        withdraw=link(
            "post", f"{API_PREFIX}/requirements/{{requirement_id}}/withdrawal", requirement_id=CREATED_ID
        ),
    )
    def post(self, data: dict[str, Any], fund_id: uuid.UUID) -> Any:
        """Add a requirement to a fund, or an annual report to its organisation (finance officers)"""
        made = service.add_requirement(current_actor(), fund_id, service.RequirementInput(**data))
        return with_etag(made, 201)


@blp.route("/requirements")
class Requirements(MethodView):
    @blp.arguments(RequirementQuerySchema, location="query")
    @blp.response(200, RequirementSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Requirement]:
        """The requirements you may see, overdue first (optionally in one state today)"""
        page = service.list_requirements(
            current_actor(), business_today(), page_request(pagination_parameters), state=query["state"]
        )
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/requirements/<uuid:requirement_id>")
class RequirementById(MethodView):
    @blp.response(200, RequirementSchema)
    def get(self, requirement_id: uuid.UUID) -> Any:
        """Get a requirement"""
        return with_etag(service.get_requirement(current_actor(), requirement_id))

    @blp.arguments(RequirementChangeSchema)
    @blp.response(200, RequirementSchema)
    @requires_if_match
    def patch(self, data: dict[str, Any], requirement_id: uuid.UUID) -> Any:
        """Change an open requirement's due date, title or who is responsible (finance officers; send If-Match)"""
        changed = service.change_requirement(current_actor(), requirement_id, data, if_match_version())
        return with_etag(changed)


@blp.route("/requirements/<uuid:requirement_id>/done")
class RequirementDone(MethodView):
    @blp.arguments(RequirementNoteSchema)
    @blp.response(200, RequirementSchema)
    def post(self, data: dict[str, Any], requirement_id: uuid.UUID) -> Any:
        """Mark a requirement done with a note (finance officers; a member: their annual report)"""
        return with_etag(service.mark_requirement_done(current_actor(), requirement_id, data["note"]))


@blp.route("/requirements/<uuid:requirement_id>/withdrawal")
class RequirementWithdrawal(MethodView):
    @blp.arguments(RequirementNoteSchema)
    @blp.response(200, RequirementSchema)
    def post(self, data: dict[str, Any], requirement_id: uuid.UUID) -> Any:
        """Withdraw an open requirement, saying why; it stays, marked withdrawn (finance officers)"""
        return with_etag(service.withdraw_requirement(current_actor(), requirement_id, data["note"]))
