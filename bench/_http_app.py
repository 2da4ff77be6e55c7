"""The service as gunicorn serves it for ``http_load``, plus the framework floor endpoint.

``/api/bench-floor`` is the least a request of this app can do: one indexed read and one insert,
through the same Flask app, middleware and per-request commit. It exists only in this module,
never in the product.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from ledger import create_app
from ledger.api.security import public
from ledger.extensions import db

app = create_app()


@app.post("/api/bench-floor")
def floor() -> dict[str, str]:
    found = db.session.execute(text("SELECT id FROM organisation ORDER BY id LIMIT 1")).scalar_one()
    db.session.execute(
        text("INSERT INTO bench_floor (id, organisation_id) VALUES (:id, :org)"),
        {"id": uuid.uuid4(), "org": found},
    )
    return {"ok": "yes"}


public(floor)
