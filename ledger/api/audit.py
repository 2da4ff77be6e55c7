"""Audit trail API: the fixed interfaces auditors' tools are built against (DESIGN.md section 5)."""

from __future__ import annotations

import base64
import shutil
from typing import Any

import marshmallow as ma
from flask import Response, send_file
from flask.views import MethodView

from ledger.api.common import MAX_SAFE_INTEGER, Blueprint, ResponseSchema
from ledger.api.security import API_PREFIX, current_actor
from ledger.audit.trail import log_size
from ledger.inputs.common import StrictSchema
from ledger.services import audit_log as service
from ledger.services.audit_export import ARCHIVE_FORMATS, export_archive
from ledger.services.witnessing import cosigned_note

blp = Blueprint(
    "audit",
    __name__,
    url_prefix=f"{API_PREFIX}/audit",
    description="The append-only, hash-chained audit trail: entries, signed checkpoints, keys, proofs.",
)

TEXT = {"text/plain": {"schema": {"type": "string"}}}


class EntryQuerySchema(StrictSchema):
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_SAFE_INTEGER))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class EntrySchema(ResponseSchema):
    seq = ma.fields.Integer()
    leaf_hash = ma.fields.Function(lambda e: bytes(e.leaf_hash).hex(), metadata={"description": "hex"})
    canonical = ma.fields.Function(
        lambda e: base64.b64encode(bytes(e.canonical)).decode("ascii"),
        metadata={"description": "the exact canonical (RFC 8785) bytes, base64"},
    )


class EntryPageSchema(ResponseSchema):
    entries = ma.fields.List(ma.fields.Nested(EntrySchema))
    tree_size = ma.fields.Integer(metadata={"description": "entries in the log now"})
    next_after = ma.fields.Integer(
        allow_none=True, metadata={"description": "pass as after= for the next page; null at the end"}
    )


class InclusionQuerySchema(StrictSchema):
    seq = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_SAFE_INTEGER))
    tree_size = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_SAFE_INTEGER))


class InclusionProofSchema(ResponseSchema):
    leaf_index = ma.fields.Integer()
    tree_size = ma.fields.Integer()
    leaf_hash = ma.fields.Function(lambda p: p.leaf_hash.hex())
    hashes = ma.fields.Function(lambda p: [h.hex() for h in p.hashes])


class ConsistencyQuerySchema(StrictSchema):
    from_ = ma.fields.Integer(
        required=True, data_key="from", validate=ma.validate.Range(min=1, max=MAX_SAFE_INTEGER)
    )
    to = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_SAFE_INTEGER))


class ConsistencyProofSchema(ResponseSchema):
    from_ = ma.fields.Integer(attribute="size1", data_key="from")
    to = ma.fields.Integer(attribute="size2")
    hashes = ma.fields.Function(lambda p: [h.hex() for h in p.hashes])


class ExportQuerySchema(StrictSchema):
    format = ma.fields.String(load_default="zip", validate=ma.validate.OneOf(ARCHIVE_FORMATS))


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain", content_type="text/plain; charset=utf-8")


@blp.route("/entries")
class Entries(MethodView):
    @blp.arguments(EntryQuerySchema, location="query")
    @blp.response(200, EntryPageSchema)
    def get(self, query: dict[str, int]) -> dict[str, Any]:
        """A page of entries after a seq, each with its leaf hash and canonical bytes

        A reader whose role is held at a node of the tree gets the entries about their area;
        ``next_after`` then is where the search stopped, which may be past the last entry given.
        """
        page = service.read_entry_page(current_actor(), query["after"], query["limit"])
        size = log_size()
        last = page.scanned_to
        return {"entries": page.entries, "tree_size": size, "next_after": last if last < size else None}


COSIGNED_NOTE = (
    "the signed note exactly: the checkpoint, the log's signature line, then one cosignature "
    "line (C2SP tlog-cosignature) per witness that has cosigned it so far"
)


@blp.route("/checkpoint")
class LatestCheckpoint(MethodView):
    @blp.doc(responses={"200": {"description": COSIGNED_NOTE, "content": TEXT}})
    def get(self) -> Response:
        """The latest signed checkpoint (C2SP signed note, with witness cosignatures)"""
        return _text(cosigned_note(service.latest_checkpoint(current_actor())))


@blp.route("/checkpoints/<int:size>")
class CheckpointBySize(MethodView):
    @blp.doc(responses={"200": {"description": COSIGNED_NOTE, "content": TEXT}})
    def get(self, size: int) -> Response:
        """The signed checkpoint of a tree size, with witness cosignatures (404 if none was signed at that size)"""
        return _text(cosigned_note(service.checkpoint_of_size(current_actor(), size)))


@blp.route("/key")
class VerifierKeys(MethodView):
    @blp.doc(responses={"200": {"description": "one vkey per line", "content": TEXT}})
    def get(self) -> Response:
        """The log's verifier keys, current and retired, one per line"""
        keys = service.verifier_keys(current_actor())
        return _text("".join(f"{key}\n" for key in keys))


@blp.route("/proof/inclusion")
class InclusionProof(MethodView):
    @blp.arguments(InclusionQuerySchema, location="query")
    @blp.response(200, InclusionProofSchema)
    def get(self, query: dict[str, int]) -> Any:
        """RFC 9162 inclusion proof of entry seq in the tree of tree_size entries"""
        return service.inclusion_proof(current_actor(), query["seq"], query["tree_size"])


@blp.route("/proof/consistency")
class ConsistencyProof(MethodView):
    @blp.arguments(ConsistencyQuerySchema, location="query")
    @blp.response(200, ConsistencyProofSchema)
    def get(self, query: dict[str, int]) -> Any:
        """RFC 9162 consistency proof between two tree sizes"""
        return service.consistency_proof(current_actor(), query["from_"], query["to"])


@blp.route("/export")
class Export(MethodView):
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(
        responses={
            "200": {
                "description": "the export bundle as one archive",
                "content": {
                    "application/zip": {"schema": {"type": "string", "format": "binary"}},
                    "application/gzip": {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    )
    def get(self, query: dict[str, str]) -> Response:
        """Download the export bundle (entries, checkpoints, keys, manifest) as .zip or .tar.gz"""
        archive = export_archive(current_actor(), query["format"])
        response = send_file(
            archive,
            mimetype="application/zip" if query["format"] == "zip" else "application/gzip",
            as_attachment=True,
            download_name=archive.name,
        )
        response.call_on_close(lambda: shutil.rmtree(archive.parent, ignore_errors=True))
        return response
