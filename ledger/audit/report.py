"""The result of verifying an audit log: a value, not an exception.

A verification run either finds the log sound or stops at the *first*
problem, in stream order, and says where (an entry's ``seq``, a checkpoint's
tree size, or the bundle/manifest) and why (a stable reason code plus a
sentence for people). Tools such as ``ledger audit verify`` and the offline
verifier print :meth:`VerificationReport.failure_line`; scripts can match on
the reason code, which never changes meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Why verification failed. The values are a published interface."""

    NOT_CANONICAL = "not_canonical"
    """The stored bytes are not exactly the JCS serialisation of their value."""
    MALFORMED_ENTRY = "malformed_entry"
    """Canonical JSON, but not an audit entry object (wrong keys, types, version)."""
    GAP = "gap"
    """``seq`` does not continue 1, 2, 3, ...: an entry is missing, duplicated or moved."""
    BROKEN_LINK = "broken_link"
    """``prev`` is not the leaf hash of the entry before: this or the previous entry changed."""
    HASH_MISMATCH = "hash_mismatch"
    """A stored leaf hash differs from the hash recomputed from the stored bytes."""
    CHECKPOINT_SIGNATURE_INVALID = "checkpoint_signature_invalid"
    """A checkpoint is not a valid signed statement about this log by a trusted key."""
    CHECKPOINT_ROOT_MISMATCH = "checkpoint_root_mismatch"
    """A signed root differs from the Merkle root of the log prefix it covers."""
    CHECKPOINT_BEYOND_LOG = "checkpoint_beyond_log"
    """A checkpoint covers more entries than the log holds: entries were removed."""
    TRUSTED_CHECKPOINT_MISMATCH = "trusted_checkpoint_mismatch"
    """The log differs from a checkpoint the verifying party saved earlier: forked or rewritten."""
    TRUSTED_CHECKPOINT_BEYOND_LOG = "trusted_checkpoint_beyond_log"
    """A checkpoint the verifying party saved earlier covers more entries than the log: truncated."""
    COSIGNATURE_INVALID = "cosignature_invalid"
    """A cosignature line claims a witness key the verifying party gave but does not verify."""
    WITNESS_QUORUM_NOT_MET = "witness_quorum_not_met"
    """The newest checkpoint has fewer valid cosignatures from the given witness keys than required."""
    CONSISTENCY_PROOF_INVALID = "consistency_proof_invalid"
    """A consistency proof the bundle carries does not tie its two checkpoints together."""
    MANIFEST_MISMATCH = "manifest_mismatch"
    """The bundle's description of itself (manifest, key list) is wrong or unreadable."""
    MISSING_FILE = "missing_file"
    """A file the bundle layout requires is absent."""


class Trust(StrEnum):
    """Where the keys that checked the checkpoints came from."""

    ANCHORED = "anchored"
    """Keys the verifying party supplied itself (``--key``, server configuration)."""
    BUNDLE_KEYS = "bundle keys"
    """Keys read from the bundle being verified: proves internal consistency only."""


@dataclass(frozen=True)
class CheckpointSummary:
    """A checkpoint that verified: its size, root and signing key ids."""

    size: int
    root_hex: str
    key_ids: tuple[str, ...]


@dataclass(frozen=True)
class VerificationReport:
    """Outcome of one verification run.

    On success ``reason`` is None. On failure exactly one of ``first_bad_seq``
    and ``checkpoint_size`` locates the problem, unless it concerns the bundle
    as a whole (manifest, missing file), in which case both are None.
    """

    ok: bool
    origin: str
    trust: Trust
    entries_checked: int
    log_root_hex: str
    """Merkle root over the entries checked (all of them when ``ok``)."""
    checkpoints_checked: int = 0
    latest_checkpoint: CheckpointSummary | None = None
    key_ids: tuple[str, ...] = ()
    """Key ids whose signatures verified on at least one checkpoint."""
    trusted_checked: int = 0
    """Checkpoints the verifying party saved earlier that the log was found to contain."""
    witness_keys: int = 0
    """Distinct witness keys the verifying party gave (``--witness-key``)."""
    witness_quorum: int = 0
    """Valid cosignatures from those keys the newest checkpoint needed."""
    newest_cosigned_by: tuple[str, ...] = ()
    """Names of the given witness keys whose cosignature on the newest checkpoint verified."""
    reason: Reason | None = None
    first_bad_seq: int | None = None
    checkpoint_size: int | None = None
    message: str = ""

    @property
    def location(self) -> str:
        """``seq=N``, ``checkpoint=N`` or ``bundle`` (empty when ok)."""
        if self.ok:
            return ""
        if self.first_bad_seq is not None:
            return f"seq={self.first_bad_seq}"
        if self.checkpoint_size is not None:
            return f"checkpoint={self.checkpoint_size}"
        return "bundle"

    def failure_line(self) -> str:
        """``FAIL <location>: <reason code>: <message>`` (empty when ok)."""
        if self.ok or self.reason is None:
            return ""
        return f"FAIL {self.location}: {self.reason.value}: {self.message}"

    def summary_lines(self) -> list[str]:
        """A short human summary of a successful run."""
        if not self.ok:
            return [self.failure_line()]
        lines = [
            f"OK: {self.entries_checked} entries of {self.origin}, seq 1..{self.entries_checked}, "
            "canonical and hash-chained",
            f"log root at size {self.entries_checked}: {self.log_root_hex}",
        ]
        latest = self.latest_checkpoint
        if latest is None:
            lines.append(
                "WARNING: no signed checkpoint; the log is only internally consistent "
                "and could have been rewritten wholesale"
            )
        else:
            lines.append(
                f"{self.checkpoints_checked} signed checkpoint(s) verified; latest: size "
                f"{latest.size}, root {latest.root_hex}, key id(s) {', '.join(latest.key_ids)}"
            )
            if latest.size < self.entries_checked:
                lines.append(
                    f"note: entries {latest.size + 1}..{self.entries_checked} are not yet covered "
                    "by a signed checkpoint"
                )
        if self.witness_keys:
            names = ", ".join(self.newest_cosigned_by) or "none"
            newest = f"size {latest.size}" if latest is not None else "none"
            lines.append(
                f"witnesses: the newest checkpoint ({newest}) carries {len(self.newest_cosigned_by)} valid "
                f"cosignature(s) from the {self.witness_keys} witness key(s) you gave ({names}); "
                f"quorum {self.witness_quorum} met"
            )
        if self.trusted_checked:
            lines.append(
                f"{self.trusted_checked} checkpoint(s) you saved earlier are contained in this log "
                "(not truncated, not forked since)"
            )
        if self.trust is Trust.ANCHORED:
            lines.append("trust: anchored (checkpoint keys supplied by you)")
        else:
            lines.append(
                "trust: bundle keys (keys came from the bundle itself; pass --key with the "
                "log's published verifier key to anchor trust)"
            )
        return lines
