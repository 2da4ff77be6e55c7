"""Signing in and out: a username and password buy a bearer token."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView

from ledger.api.common import Blueprint, ResponseSchema
from ledger.api.security import API_PREFIX, current_actor, public
from ledger.api.users import UserSchema
from ledger.inputs.auth import LoginSchema
from ledger.services import authentication, users
from ledger.services.tokens import revoke_token

blp = Blueprint("auth", __name__, url_prefix=f"{API_PREFIX}/auth", description="Sign in and out.")


class TokenSchema(ResponseSchema):
    token = ma.fields.String(metadata={"description": "Send as Authorization: Bearer <token>"})
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_at = ma.fields.AwareDateTime()
    user = ma.fields.Nested(UserSchema)


@blp.route("/login")
class Login(MethodView):
    @public
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.doc(security=[])
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Sign in with a username and password; returns a bearer token"""
        result = authentication.login(data["username"], data["password"])
        return {
            "token": result.token.secret,
            "token_type": "Bearer",
            "expires_at": result.token.expires_at,
            "user": result.user,
        }


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self) -> None:
        """Revoke the token this request was sent with"""
        revoke_token(current_actor(), g.api_token)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self) -> Any:
        """The signed-in user"""
        actor = current_actor()
        assert actor.user_id is not None
        return users.get_user(actor, actor.user_id)
