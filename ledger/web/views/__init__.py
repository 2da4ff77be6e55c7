"""The pages, one module per area; all on one blueprint at the site root."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("web", __name__)

# Imported for their routes, after the blueprint they register on.
from ledger.web.views import (  # noqa: E402, F401
    admin,
    audit,
    auth,
    books,
    coverage,
    funds,
    home,
    imports,
    notifications,
    reports,
    requirements,
    spreadsheets,
)
