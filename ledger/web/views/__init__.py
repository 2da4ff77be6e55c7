"""The pages, one module per area; all on one blueprint at the site root."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("web", __name__)

from ledger.web.views import (  # noqa: E402, F401  (register routes)
    admin,
    audit,
    auth,
    books,
    coverage,
    funds,
    home,
    notifications,
    reports,
    spreadsheets,
)
