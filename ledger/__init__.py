"""Community Fund Ledger: administer community funds with books anyone can verify.

``create_app`` builds the Flask application, one ``configure_*`` step per concern. Its imports
live inside the function so that importing ``ledger`` alone pulls in no Flask: the offline
verifier (``python -m ledger.audit.verify``) must run with only the standard library and
``cryptography``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from ledger.config import Settings


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the application; ``config`` holds ``LEDGER_*`` settings that override the environment.

    Nothing here touches the network or changes the database schema: ``ledger init`` migrates.
    """
    import os

    from flask import Flask

    from ledger.config import load_settings

    settings = load_settings({**os.environ, **(config or {})})
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    configure_settings(app, settings)
    configure_logging(app)
    configure_database(app)
    configure_api(app)
    configure_web(app)
    configure_cli(app)
    configure_notifier(app, settings)
    return app


def configure_notifier(app: Flask, settings: Settings) -> None:
    """In development the first request starts the notifier's thread (``ledger notify run`` elsewhere)."""
    if settings.notify_worker != "thread":
        return
    from ledger.services.notifications.worker import start_thread

    app.before_request(lambda: start_thread(app))


def configure_settings(app: Flask, settings: Settings) -> None:
    app.extensions["ledger.settings"] = settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.environment.value == "testing",
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
    )


def configure_logging(app: Flask) -> None:
    from ledger.logging_setup import configure_logging as setup

    setup(app)


def configure_database(app: Flask) -> None:
    import ledger.models  # noqa: F401  (registers every table on the metadata migrations compare)
    from ledger.database import configure_database as setup
    from ledger.extensions import db, migrate

    setup(app)
    migrate.init_app(app, db, directory=str(_migrations_path()), render_as_batch=True)


def configure_web(app: Flask) -> None:
    from ledger.web import configure_web as setup

    setup(app)


def configure_api(app: Flask) -> None:
    from ledger.api import register_blueprints
    from ledger.api.security import configure_api_security
    from ledger.extensions import api

    app.config.update(
        API_TITLE="Community Fund Ledger",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Funds, expense reports, disbursements, double-entry books and "
                "a verifiable audit trail for community social organisations. Errors are "
                "RFC 9457 problem details (application/problem+json).",
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    api.init_app(app)
    register_blueprints(api)
    api.document_complete()
    configure_api_security(app)


def configure_cli(app: Flask) -> None:
    from ledger.cli import register_commands

    register_commands(app)


def _migrations_path() -> object:
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
