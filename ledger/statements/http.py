"""An issued statement as an HTTP download (for the API and the web pages alike)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from ledger.statements.render import IssuedStatement


def pdf_response(issued: IssuedStatement) -> Response:
    response = Response(issued.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"statement.pdf\"; filename*=UTF-8''{quote(issued.filename)}"
    )
    response.headers["X-Statement-SHA256"] = issued.sha256
    response.headers["X-Audit-Checkpoint"] = str(issued.checkpoint.size)
    response.headers["Cache-Control"] = "private, no-store"
    return response
