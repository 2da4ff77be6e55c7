"""Users API: accounts, roles and organisation memberships (admins manage; auditors read)."""

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
from ledger.inputs.users import PasswordChangeSchema, UserCreateSchema, UserUpdateSchema, scope_list
from ledger.models.user import Role, User
from ledger.services import idempotency
from ledger.services import users as service

blp = Blueprint(
    "users", __name__, url_prefix=f"{API_PREFIX}/users", description="Users, roles and memberships."
)


class UserSchema(ResponseSchema):
    id = ma.fields.UUID(dump_only=True)
    username = ma.fields.String()
    display_name = ma.fields.String()
    role = enum_value_field(Role)
    organisation_ids = ma.fields.List(ma.fields.UUID())
    scopes = scope_list(attribute="scope_codes")
    is_active = ma.fields.Boolean()
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class UserQuerySchema(StrictSchema):
    role = ma.fields.Enum(Role, by_value=True)

    class Meta:
        unknown = ma.EXCLUDE  # page and page_size are read by the pager


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[User]:
        """List users"""
        page = service.list_users(current_actor(), page_request(pagination_parameters), **query)
        pagination_parameters.item_count = page.total
        return page.items

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(200, schema=UserSchema, description="A retry with the same Idempotency-Key and body")
    @blp.doc(parameters=[idempotency.header_parameter()])
    @created_links(
        get=link("get", f"{API_PREFIX}/users/{{user_id}}", user_id=CREATED_ID),
        change=link("patch", f"{API_PREFIX}/users/{{user_id}}", user_id=CREATED_ID, if_match=True),
        set_password=link("put", f"{API_PREFIX}/users/{{user_id}}/password", user_id=CREATED_ID),
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Create a user (admins; Idempotency-Key required)"""
        new = service.NewUser(
            username=data["username"],
            display_name=data["display_name"],
            role=data["role"],
            password=data["password"],
            organisation_ids=tuple(data["organisation_ids"]),
            scopes=tuple(data["scopes"]),
        )
        return created_with_etag(service.create_user(current_actor(), new, idempotency_key()))


@blp.route("/<uuid:user_id>")
class UserById(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id: uuid.UUID) -> Any:
        """Get a user"""
        return with_etag(service.get_user(current_actor(), user_id))

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @requires_if_match
    def patch(self, changes: dict[str, Any], user_id: uuid.UUID) -> Any:
        """Change a user's name, role, memberships or active flag (send If-Match)"""
        if "organisation_ids" in changes:
            changes["organisation_ids"] = tuple(changes["organisation_ids"])
        if "scopes" in changes:
            changes["scopes"] = tuple(changes["scopes"])
        user = service.update_user(current_actor(), user_id, if_match_version(), **changes)
        return with_etag(user)


@blp.route("/<uuid:user_id>/password")
class UserPassword(MethodView):
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def put(self, data: dict[str, Any], user_id: uuid.UUID) -> None:
        """Change your password, or reset a user's as an admin; their tokens are revoked"""
        actor = current_actor()
        user = service.get_user(actor, user_id)
        service.change_password(actor, user, data.get("current_password"), data["new_password"])
