"""The auditor's pages: trail status, verify now, the entry browser, proofs and downloads."""

from __future__ import annotations

import shutil
from typing import Any

from flask import render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from ledger.audit.trail import log_size
from ledger.errors import NotFound, ValidationFailed
from ledger.inputs.audit import AuditEntriesQuerySchema
from ledger.inputs.statements import AttestationCreateSchema
from ledger.messages import Message, translatable
from ledger.replay.tables import replayed_tables
from ledger.services import audit_browse, audit_log, statements
from ledger.services.access import Permission, authorize
from ledger.services.audit_export import export_archive
from ledger.statements.http import pdf_response
from ledger.web.forms import load_form
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint


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
    return render_template(
        "web/audit.html",
        **_status(),
        result=result,
        checked=_what_was_checked(result),
        proof=None,
        proof_errors={},
    )


def _what_was_checked(result: dict[str, Any]) -> list[Message]:
    """What the verification checked, as sentences the page shows in the reader's language."""
    log, checkpoints = result["log"], result["checkpoints"]
    said = [
        translatable(
            "%(count)s entries checked: each in canonical form, numbered without gaps, each linked to the one before by its hash",
            count=log["entries_checked"],
        )
    ]
    if checkpoints["latest_size"] is not None:
        said.append(
            translatable(
                "%(count)s signed checkpoints verified; the latest covers %(size)s entries, signed with key %(keys)s",
                count=checkpoints["checked"],
                size=checkpoints["latest_size"],
                keys=", ".join(checkpoints["key_ids"]),
            )
        )
    else:
        said.append(translatable("no signed checkpoint yet: the log is only internally consistent"))
    said.append(
        translatable(
            "the log head and the Merkle tree nodes that proofs are served from agree with the entries"
        )
    )
    said.append(
        translatable(
            "%(count)s tables rebuilt from the trail alone equal the tables the ledger keeps",
            count=len(replayed_tables()),
        )
    )
    return said


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


@blueprint.get("/audit/entries")
@signed_in
def audit_entries() -> tuple[str, int]:
    actor = current_web_actor()
    problems: dict[str, list[str]] = {}
    try:
        chosen = load_form(AuditEntriesQuerySchema(), form=request.args)
    except ValidationFailed as refused:
        problems, chosen = {k: list(v) for k, v in refused.errors.items()}, {}
    filters = audit_browse.EntryFilters(
        organisation_id=chosen.get("organisation"),
        fund_id=chosen.get("fund"),
        kind=chosen.get("kind"),
        date_from=chosen.get("date_from"),
        date_to=chosen.get("date_to"),
    )
    page = audit_browse.browse(actor, chosen.get("after", 0), filters)
    shown: dict[str, Any] = {
        k: request.args.get(k, "") for k in ("organisation", "fund", "kind", "date_from", "date_to")
    }
    choices = audit_browse.filter_choices(actor)
    # The links keep the filters and move only the starting point.
    kept = {k: v for k, v in shown.items() if v}
    return render_template(
        "web/audit_entries.html",
        entries=page.entries,
        next_href=url_for("web.audit_entries", after=page.next_after, **kept)
        if page.next_after is not None and not problems
        else None,
        first_href=url_for("web.audit_entries", **kept) if chosen.get("after") else None,
        shown=shown,
        problems=problems,
        kinds=audit_browse.KIND_NAMES,
        organisations=choices.organisations,
        funds=choices.funds,
    ), (422 if problems else 200)


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
