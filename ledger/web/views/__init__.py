"""The pages, one module per area; all on one blueprint at the site root."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("web", __name__)

from ledger.web.views import admin, audit, auth, books, coverage, funds, home, reports, spreadsheets  # noqa: E402, F401  (register routes)
