"""Log lines that say what happened, to stderr, never carrying secrets.

The Authorization header, passwords and tokens are never logged: request logging records the
method, path and status only, and the problem handler logs unexpected errors by reference.
"""

from __future__ import annotations

import logging

from flask import Flask


def configure_logging(app: Flask) -> None:
    settings = app.extensions["ledger.settings"]
    level = logging.DEBUG if settings.environment.value == "development" else logging.INFO
    logger = logging.getLogger("ledger")
    # Where the host (gunicorn, a test runner, alembic's config) already logs, use its handlers.
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        # Our own handler: do not also pass lines to handlers that tools add to the root later.
        logger.propagate = False
    logger.setLevel(level)
