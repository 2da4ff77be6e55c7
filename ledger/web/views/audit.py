"""The auditor's pages: trail status, verify now, the entry browser, proofs and downloads."""

from __future__ import annotations

import json
import shutil
from typing import Any

from flask import render_template, request, send_file
from werkzeug.wrappers import Response

from ledger.audit.trail import log_size
from ledger.errors import NotFound, ValidationFailed
from ledger.inputs.statements import AttestationCreateSchema
from ledger.messages import translatable
from ledger.services import audit_log, statements
from ledger.services.access import Permission, authorize
from ledger.services.audit_export import export_archive
from ledger.statements.http import pdf_response
from ledger.web.forms import load_form
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint

PAGE = 50


def _status() -> dict[str, Any]:
    actor = current_web_actor()
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    try:
        checkpoint = audit_log.latest_checkpoint(actor)
    except NotFound:
        checkpoint = None
    return {"checkpoint": checkpoint, "size": log_size()}


@blueprint.get("/audit")
@signed_in
def audit() -> str:
    return render_template("web/audit.html", **_status(), result=None, proof=None, proof_errors={})


@blueprint.post("/audit/verify")
@signed_in
def verify_now() -> str:
    result = statements.attestation_report(current_web_actor())
    return render_template("web/audit.html", **_status(), result=result, proof=None, proof_errors={})


@blueprint.get("/audit/proof")
@signed_in
def inclusion_proof() -> tuple[str, int]:
    actor = current_web_actor()
    status = _status()
    try:
        seq = int(request.args.get("seq", ""))
        size = int(request.args.get("tree_size", "") or status["size"])
    except ValueError:
        return render_template(
            "web/audit.html",
            **status,
            result=None,
            proof=None,
            proof_errors={"seq": [translatable("give a whole number")]},
        ), 422
    try:
        proof = audit_log.inclusion_proof(actor, seq, size)
    except ValidationFailed as error:
        return render_template(
            "web/audit.html", **status, result=None, proof=None, proof_errors=error.errors
        ), 422
    shown = {
        "seq": seq,
        "tree_size": proof.tree_size,
        "leaf_hash": proof.leaf_hash.hex(),
        "hashes": [h.hex() for h in proof.hashes],
    }
    return render_template("web/audit.html", **status, result=None, proof=shown, proof_errors={}), 200


def _readable_data(data: dict[str, object]) -> dict[str, object]:
    """What the entry says, for a person, and how many table rows it carries (not the rows)."""
    rows = data.pop("rows", None) if isinstance(data, dict) else None
    return {
        "data": json.dumps(data, ensure_ascii=False)[:300],
        "rows": len(rows) if isinstance(rows, list) else 0,
    }


@blueprint.get("/audit/entries")
@signed_in
def audit_entries() -> str:
    actor = current_web_actor()
    after = max(0, request.args.get("after", 0, type=int) or 0)
    action = request.args.get("action", "").strip()
    subject_type = request.args.get("subject_type", "").strip()
    # Filters apply to a window of the log so that a page always moves forward through it.
    page = audit_log.read_entry_page(actor, after, 1000, scan_limit=1000)
    window = page.entries
    rows = []
    for entry in window:
        if action and not entry.action.startswith(action):
            continue
        if subject_type and entry.subject_type != subject_type:
            continue
        rows.append(
            {
                "seq": entry.seq,
                "ts": entry.ts,
                "actor": entry.actor_id,
                "action": entry.action,
                "subject_type": entry.subject_type,
                "subject_id": entry.subject_id,
                **_readable_data(json.loads(bytes(entry.canonical))["data"]),
                "leaf_hash": bytes(entry.leaf_hash).hex(),
            }
        )
        if len(rows) == PAGE:
            break
    last_seen = rows[-1]["seq"] if len(rows) == PAGE else page.scanned_to
    more = not page.at_end or len(rows) == PAGE
    return render_template(
        "web/audit_entries.html",
        rows=rows,
        after=after,
        next_after=last_seen if more else None,
        action=action,
        subject_type=subject_type,
    )


@blueprint.get("/audit/export.zip")
@signed_in
def export_download() -> Response:
    archive = export_archive(current_web_actor(), "zip")
    response = send_file(archive, mimetype="application/zip", as_attachment=True, download_name=archive.name)
    response.call_on_close(lambda: shutil.rmtree(archive.parent, ignore_errors=True))
    return response


@blueprint.post("/audit/attestation")
@signed_in
def attestation_download() -> Response:
    """The attestation PDF in the language asked for (a hidden field; a refusal is the error page's)."""
    lang = load_form(AttestationCreateSchema())["lang"]
    return pdf_response(statements.issue_attestation(current_web_actor(), lang))
