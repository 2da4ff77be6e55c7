"""The import pages: download a template, upload it filled in, see every problem or what will be
created, then confirm. The same services as the API's imports, so the same rules and messages.

Nothing is kept between the check and the confirmation: the checked file travels back with the
page (base64, with its SHA-256), and the confirmation checks it all again before writing. A file
whose SHA-256 is not the one checked is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from ledger.errors import RowProblem, RowsRefused
from ledger.imports.kinds import IN_FUND, KINDS, STANDALONE
from ledger.imports.workbook import MAX_ROWS
from ledger.inputs.imports import load_upload
from ledger.messages import translatable
from ledger.services import imports
from ledger.web.i18n import language
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint
from ledger.web.views.spreadsheets import spreadsheet_response

NO_FILE = translatable("Choose the filled-in template (an .xlsx file) to upload.")
CHANGED = translatable("The file is not the one that was checked: upload it again.")


def _kind(kind: str, allowed: tuple[str, ...]) -> str:
    if kind not in allowed:
        raise NotFound()
    return kind


def _page(
    kind: str,
    fund_id: uuid.UUID | None,
    *,
    report: imports.ImportReport | None = None,
    refused: RowsRefused | None = None,
    content: bytes | None = None,
    status: int = 200,
) -> tuple[str, int]:
    fund = imports.check_access(current_web_actor(), kind, fund_id)
    page = render_template(
        "web/imports.html",
        kind=KINDS[kind],
        fund=fund,
        max_rows=MAX_ROWS,
        report=report,
        problems=refused.listed(language()) if refused is not None else [],
        refusal=refused.detail if refused is not None else None,
        content=base64.b64encode(content).decode("ascii") if content is not None else None,
        action_url=url_for("web.fund_import", fund_id=fund_id, kind=kind)
        if fund_id
        else url_for("web.admin_import", kind=kind),
        template_url=url_for("web.fund_import_template", fund_id=fund_id, kind=kind)
        if fund_id
        else url_for("web.admin_import_template", kind=kind),
    )
    return page, status


def _refusal(message: str, code: str) -> RowsRefused:
    return RowsRefused(message, [RowProblem(None, None, None, code, message)], code=code)


def _uploaded() -> tuple[bytes, bool]:
    """The file sent (a new upload, or the checked one sent back) and whether to commit it."""
    commit = request.form.get("step") == "commit"
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            return upload.read(), False
        finally:
            upload.close()
    try:
        content = base64.b64decode(request.form.get("content", ""), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if not content:
        raise _refusal(NO_FILE, "import.no_file")
    if commit and hashlib.sha256(content).hexdigest() != request.form.get("sha256"):
        raise _refusal(CHANGED, "import.changed")
    return content, commit


def _handle(kind: str, fund_id: uuid.UUID | None) -> Any:
    actor = current_web_actor()
    content: bytes | None = None
    try:
        content, commit = _uploaded()
        loaded = content
        report = imports.run_import(
            actor, kind, lambda: load_upload(kind, loaded), dry_run=not commit, fund_id=fund_id
        )
    except RowsRefused as refused:
        return _page(kind, fund_id, refused=refused, status=422)
    if not commit:
        return _page(kind, fund_id, report=report, content=content)
    flash(gettext("%(count)s rows imported.", count=report.row_count))
    if fund_id is not None:
        return redirect(url_for("web.fund", fund_id=fund_id))
    return redirect(url_for(f"web.admin_{kind}"))


@blueprint.get("/admin/imports/<kind>")
@signed_in
def admin_import_page(kind: str) -> tuple[str, int]:
    return _page(_kind(kind, STANDALONE), None)


@blueprint.post("/admin/imports/<kind>")
@signed_in
def admin_import(kind: str) -> Any:
    return _handle(_kind(kind, STANDALONE), None)


@blueprint.get("/admin/imports/<kind>/template.xlsx")
@signed_in
def admin_import_template(kind: str) -> Response:
    made = imports.template_download(current_web_actor(), _kind(kind, STANDALONE), language())
    return spreadsheet_response(made)


@blueprint.get("/funds/<uuid:fund_id>/imports/<kind>")
@signed_in
def fund_import_page(fund_id: uuid.UUID, kind: str) -> tuple[str, int]:
    return _page(_kind(kind, IN_FUND), fund_id)


@blueprint.post("/funds/<uuid:fund_id>/imports/<kind>")
@signed_in
def fund_import(fund_id: uuid.UUID, kind: str) -> Any:
    return _handle(_kind(kind, IN_FUND), fund_id)


@blueprint.get("/funds/<uuid:fund_id>/imports/<kind>/template.xlsx")
@signed_in
def fund_import_template(fund_id: uuid.UUID, kind: str) -> Response:
    made = imports.template_download(current_web_actor(), _kind(kind, IN_FUND), language(), fund_id)
    return spreadsheet_response(made)
