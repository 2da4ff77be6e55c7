"""The JSON API under ``/api/v1``: flask-smorest blueprints that parse, call one service, dump."""

from __future__ import annotations

from flask_smorest import Api

from ledger.api import (
    audit,
    auth,
    books,
    communities,
    coverage,
    disbursements,
    expense_reports,
    exports,
    funds,
    health,
    imports,
    notifications,
    organisations,
    publication,
    reference,
    regions,
    requirements,
    statements,
    users,
)

BLUEPRINTS = (
    auth.blp,
    communities.blp,
    coverage.blp,
    organisations.blp,
    users.blp,
    reference.blp,
    regions.blp,
    health.blp,
    audit.blp,
    books.blp,
    funds.blp,
    disbursements.blp,
    expense_reports.blp,
    requirements.blp,
    statements.blp,
    exports.blp,
    publication.blp,
    imports.blp,
    notifications.blp,
)


def register_blueprints(api: Api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
