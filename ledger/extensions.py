"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from ledger.models.base import Base
from ledger.openapi_once import SpecBuiltOncePerProcess
from ledger.problems import ProblemApi

db: SQLAlchemy = SQLAlchemy(model_class=Base)
migrate = Migrate()


class LedgerApi(SpecBuiltOncePerProcess, ProblemApi):
    """The API: errors as problem+json, its OpenAPI document built once per process."""


api = LedgerApi()
