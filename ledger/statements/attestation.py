"""The audit attestation: the result of verifying the audit trail, for an auditor to sign.

It states what ``ledger audit verify`` established at a signed checkpoint: how many entries were
checked (canonical form, sequence, hash chain, stored hashes), which checkpoints' signatures and
roots were checked and with which keys, whether the stored Merkle nodes and the head agree, and
whether the states and balances rebuilt from the trail equal the tables. A failure is stated as
plainly as a success, with the first problem found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ledger.audit.report import VerificationReport
from ledger.replay.compare import RowDifference


class Verification(Protocol):
    """What a verification run established (``ledger.services.audit_verification`` runs one)."""

    @property
    def report(self) -> VerificationReport: ...

    @property
    def problems(self) -> Sequence[str]: ...

    @property
    def differences(self) -> Sequence[RowDifference]: ...

    @property
    def queued(self) -> int: ...

    @property
    def ok(self) -> bool: ...

    def lines(self) -> list[str]: ...


def attestation_figures(verification: Verification) -> dict[str, Any]:
    """Plain figures of one verification run (the caller names the checkpoint it ran at)."""
    report = verification.report
    latest = report.latest_checkpoint
    return {
        "statement": "audit_attestation",
        "result": "verified" if verification.ok else "failed",
        "log": {
            "origin": report.origin,
            "entries_checked": report.entries_checked,
            "log_root": report.log_root_hex,
            "trust": report.trust.value,
        },
        "checkpoints": {
            "checked": report.checkpoints_checked,
            "latest_size": latest.size if latest else None,
            "latest_root": latest.root_hex if latest else None,
            "key_ids": list(report.key_ids),
        },
        "checks": [
            {"check": "chain", "ok": report.ok, "detail": report.failure_line() if not report.ok else None},
            {
                "check": "head_and_nodes",
                "ok": report.ok and not verification.problems,
                "detail": "; ".join(verification.problems) or None,
            },
            {
                "check": "replay",
                "ok": verification.ok,
                "detail": "; ".join(d.line() for d in verification.differences) or None,
            },
        ],
        "queued_entries": verification.queued,
        "summary": verification.lines(),
    }
