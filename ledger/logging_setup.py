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
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
