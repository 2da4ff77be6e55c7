"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from ledger.models.base import Base
from ledger.problems import ProblemApi

db: SQLAlchemy = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = ProblemApi()
