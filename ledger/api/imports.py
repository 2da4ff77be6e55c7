"""Imports from XLSX: a template per kind, a dry run, and a commit of all rows or none.

Communities, organisations and users under ``/imports/<kind>``; a draft fund's budget and tranche
schedule under ``/funds/<id>/imports/<kind>``. The roles are those that create one such item.
docs/spreadsheets.md ("Importing") describes the columns and limits.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest.fields import Upload

from ledger.api.common import Blueprint, ResponseSchema, reader_language, xlsx_response
from ledger.api.security import API_PREFIX, accepts_uploads, current_actor
from ledger.errors import NotFound
from ledger.exports.spreadsheet import CONTENT_TYPE
from ledger.imports.kinds import IN_FUND, STANDALONE
from ledger.imports.workbook import MAX_ROWS
from ledger.inputs.common import StrictSchema
from ledger.inputs.imports import load_upload
from ledger.services import imports as service

blp = Blueprint(
    "imports",
    __name__,
    url_prefix=API_PREFIX,
    description="Imports from XLSX: templates, dry runs, and commits of all rows or none.",
)


class ImportQuerySchema(StrictSchema):
    dry_run = ma.fields.Boolean(
        load_default=True,
        metadata={
            "description": "true (the default): check every row and write nothing; false: import all or none"
        },
    )


class ImportUploadSchema(ma.Schema):
    file = Upload(
        required=True,
        metadata={"description": f"an XLSX workbook: the template filled in, at most {MAX_ROWS} rows"},
    )


class PreviewRowSchema(ResponseSchema):
    row = ma.fields.Integer(
        metadata={"description": "the row's number in the spreadsheet (the header is row 1)"}
    )
    values = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


class ImportReportSchema(ResponseSchema):
    kind = ma.fields.String()
    sha256 = ma.fields.String(metadata={"description": "SHA-256 of the uploaded file"})
    dry_run = ma.fields.Boolean()
    row_count = ma.fields.Integer()
    preview = ma.fields.List(ma.fields.Nested(PreviewRowSchema))
    fund_id = ma.fields.UUID(allow_none=True)


class RowProblemSchema(ma.Schema):
    row = ma.fields.Integer(
        allow_none=True, metadata={"description": "the spreadsheet's row number; null for the whole file"}
    )
    column = ma.fields.String(allow_none=True, metadata={"description": "the column's letter (A, B, ...)"})
    header = ma.fields.String(
        allow_none=True, metadata={"description": "the column's header, in the caller's language"}
    )
    field = ma.fields.String(allow_none=True, metadata={"description": "the input field the column holds"})
    code = ma.fields.String()
    detail = ma.fields.String(
        metadata={"description": "the problem in the caller's language (Accept-Language)"}
    )


class ImportProblemSchema(ma.Schema):
    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(RowProblemSchema))


_TEMPLATE_DOC = {
    "200": {
        "description": "the import's template: headers (Chinese; English with Accept-Language: en), a sample "
        "row, drop-downs for fixed values",
        "content": {CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}
_REFUSED_DOC = {
    "422": {
        "description": "every problem of the file, by row and column; nothing was written",
        "content": {"application/problem+json": {"schema": ImportProblemSchema}},
    }
}


def _kind(kind: str, allowed: tuple[str, ...]) -> str:
    if kind not in allowed:
        raise NotFound.thing("import", kind)
    return kind


def _read(files: dict[str, Any]) -> bytes:
    upload = files["file"]
    try:
        return bytes(upload.read())
    finally:
        upload.close()


def _run(
    kind: str, files: dict[str, Any], dry_run: bool, fund_id: uuid.UUID | None = None
) -> service.ImportReport:
    content = _read(files)
    return service.run_import(
        current_actor(), kind, lambda: load_upload(kind, content), dry_run=dry_run, fund_id=fund_id
    )


@blp.route("/imports/<string:kind>/template")
class Template(MethodView):
    @blp.doc(responses=_TEMPLATE_DOC)
    def get(self, kind: str) -> Response:
        """The XLSX template of an import: communities, organisations or users (admins)"""
        made = service.template_download(current_actor(), _kind(kind, STANDALONE), reader_language())
        return xlsx_response(made.filename, made.content)


@blp.route("/imports/<string:kind>")
class Import(MethodView):
    @accepts_uploads
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportUploadSchema, location="files")
    @blp.response(200, ImportReportSchema)
    @blp.doc(responses=_REFUSED_DOC)
    def post(self, query: dict[str, Any], files: dict[str, Any], kind: str) -> service.ImportReport:
        """Check (dry_run=true) or import (dry_run=false) communities, organisations or users from XLSX, all or none"""
        return _run(_kind(kind, STANDALONE), files, query["dry_run"])


@blp.route("/funds/<uuid:fund_id>/imports/<string:kind>/template")
class FundTemplate(MethodView):
    @blp.doc(responses=_TEMPLATE_DOC)
    def get(self, fund_id: uuid.UUID, kind: str) -> Response:
        """The XLSX template of a draft fund's budget or tranche schedule (admins)"""
        made = service.template_download(current_actor(), _kind(kind, IN_FUND), reader_language(), fund_id)
        return xlsx_response(made.filename, made.content)


@blp.route("/funds/<uuid:fund_id>/imports/<string:kind>")
class FundImport(MethodView):
    @accepts_uploads
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportUploadSchema, location="files")
    @blp.response(200, ImportReportSchema)
    @blp.doc(responses=_REFUSED_DOC)
    def post(
        self, query: dict[str, Any], files: dict[str, Any], fund_id: uuid.UUID, kind: str
    ) -> service.ImportReport:
        """Check or set a draft fund's budget (replacing it) or tranche schedule from XLSX, all or none"""
        return _run(_kind(kind, IN_FUND), files, query["dry_run"], fund_id)
