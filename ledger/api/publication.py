"""The public publication: open-data packages anyone may open, without a token, read-only.

These are the uris the packages name (``uri``, ``links``); ``ledger export public`` writes the
same bytes as files. ETags let readers and caches fetch a document again only when it changed.
"""

from __future__ import annotations

from flask import Response, request

from ledger.api.common import Blueprint
from ledger.api.security import public
from ledger.services import publication
from ledger.services.publication import PublicDocument

blp = Blueprint(
    "publication",
    __name__,
    url_prefix="/public",
    description="Open data for everyone: OCDS and 360Giving packages, no token needed",
)

_DOC = {
    "security": [],
    "responses": {
        "200": {
            "description": "the package",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "304": {"description": "unchanged since the ETag sent in If-None-Match"},
    },
}


def _send(document: PublicDocument) -> Response:
    response = Response(document.body, mimetype="application/json")
    response.set_etag(document.etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.make_conditional(request)
    return response


@blp.route("/ocds/releases.json")
@public
@blp.doc(**_DOC)
def releases() -> Response:
    """The first page of the OCDS release packages of the procurement contracts"""
    return _send(publication.ocds_page("releases", 1))


@blp.route("/ocds/releases-<int:page>.json")
@public
@blp.doc(**_DOC)
def releases_page(page: int) -> Response:
    """A further page (from 2) of the OCDS release packages"""
    return _send(publication.ocds_page("releases", page if page >= 2 else 0))


@blp.route("/ocds/records.json")
@public
@blp.doc(**_DOC)
def records() -> Response:
    """The first page of the OCDS record packages of the procurement contracts"""
    return _send(publication.ocds_page("records", 1))


@blp.route("/ocds/records-<int:page>.json")
@public
@blp.doc(**_DOC)
def records_page(page: int) -> Response:
    """A further page (from 2) of the OCDS record packages"""
    return _send(publication.ocds_page("records", page if page >= 2 else 0))


@blp.route("/360giving.json")
@public
@blp.doc(**_DOC)
def grants() -> Response:
    """Every published grant (incubation funds, lottery grants) as one 360Giving 1.4 package"""
    return _send(publication.grants_document())
