"""``ledger statement check``: a statement PDF checked offline against an export bundle.

Real statements (WeasyPrint PDFs issued by the service) and real export bundles of the demo; the
forgeries are made the way a forger would: an attachment re-embedded with pypdf, a forged
``statement.issued`` entry appended to the trail, a history rewritten and re-signed with the key.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf
import pytest
import rfc8785
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from ledger.audit import store
from ledger.audit.bundle import (
    CHECKPOINTS_DIR,
    ENTRIES_FILE,
    KEYS_FILE,
    PROOFS_DIR,
    CheckpointFiles,
    proof_document,
    proof_file_name,
    read_manifest,
)
from ledger.audit.canonical import leaf_hash
from ledger.audit.checkpoint import Checkpoint, sign_checkpoint
from ledger.audit.keys import load_signer
from ledger.audit.merkle import MemoryTree, MerkleFrontier
from ledger.audit.verify import main as verify_main
from ledger.database import unit_of_work
from ledger.demo_funds import receipt_pdf
from ledger.extensions import db
from ledger.models.fund import Fund
from ledger.models.organisation import Organisation
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_event
from tests.builders import activated_fund
from tests.conftest import DemoWorld

PERIOD = "2026-01..2026-12"
ELDERS = "FC-WH-2026-017"  # the demo's welfare-lottery grant to 百步亭社区为老服务中心
LOTTERY_FUNDER = "武汉市民政局（福彩公益金）Wuhan Civil Affairs Bureau, welfare lottery fund"


@dataclass
class Issued:
    """Statements issued by the service, then a checkpoint signed and the trail exported."""

    app: Flask
    fund_id: str
    organisation_id: str
    vkey: str
    fund_pdf: Path
    bundle: Path


def _issue(runner: FlaskCliRunner, *args: str) -> None:
    result = runner.invoke(args=["statement", *args])
    assert result.exit_code == 0, result.output


def _export(runner: FlaskCliRunner, directory: Path) -> Path:
    assert runner.invoke(args=["audit", "sequence"]).exit_code == 0
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    exported = runner.invoke(args=["audit", "export", str(directory)])
    assert exported.exit_code == 0, exported.output
    return directory


@pytest.fixture
def issued(funded_world: DemoWorld, runner: FlaskCliRunner, tmp_path: Path) -> Issued:
    app = funded_world.app
    with app.app_context():
        fund = db.session.scalars(select(Fund).where(Fund.reference == ELDERS)).one()
        fund_id, organisation_id = str(fund.id), str(fund.organisation_id)
        vkey = store.signing_keys()[0].vkey
    fund_pdf = tmp_path / "fund-use.pdf"
    _issue(runner, "fund", fund_id, "--period", PERIOD, "--out", str(fund_pdf))
    bundle = _export(runner, tmp_path / "bundle")
    return Issued(app, fund_id, organisation_id, vkey, fund_pdf, bundle)


def _check(runner: FlaskCliRunner, pdf: Path, bundle: Path, *keys: str) -> Result:
    arguments = ["statement", "check", str(pdf), "--bundle", str(bundle)]
    for key in keys:
        arguments += ["--key", key]
    return runner.invoke(args=arguments)


def _attached(pdf: Path) -> dict[str, Any]:
    return dict(json.loads(pypdf.PdfReader(pdf).attachments["statement.json"][0]))


def _reembedded(pdf: Path, document: dict[str, Any], out: Path) -> Path:
    """``pdf`` with its statement.json replaced by ``document`` (what a forger does with pypdf)."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(pdf))
    names = writer.root_object["/Names"].get_object()
    del names["/EmbeddedFiles"]
    writer.add_attachment("statement.json", rfc8785.dumps(document))
    buffer = io.BytesIO()
    writer.write(buffer)
    out.write_bytes(buffer.getvalue())
    assert list(pypdf.PdfReader(out).attachments) == ["statement.json"]
    return out


# --- genuine statements -------------------------------------------------------------------------


def test_genuine_statements_of_every_kind_pass(
    issued: Issued, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    organisation_pdf = tmp_path / "organisation.pdf"
    lottery_pdf = tmp_path / "lottery.pdf"
    _issue(runner, "organisation", issued.organisation_id, "--period", PERIOD, "--out", str(organisation_pdf))
    _issue(runner, "lottery", LOTTERY_FUNDER, "--year", "2026", "--out", str(lottery_pdf), "--lang", "en")
    bundle = _export(runner, tmp_path / "later-bundle")
    entries = [json.loads(line) for line in (bundle / ENTRIES_FILE).read_bytes().splitlines()]
    issued_seqs = [e["seq"] for e in entries if e["action"] == "statement.issued"]
    assert len(issued_seqs) == 3
    # The business day the figures were computed on is recorded with the statement.
    assert all("business_date" in entries[seq - 1]["data"] for seq in issued_seqs)

    for pdf, kind, seq in (
        (issued.fund_pdf, "[fund_use] of fund FC-WH-2026-017", issued_seqs[0]),
        (organisation_pdf, "[organisation] of organisation 百步亭社区为老服务中心", issued_seqs[1]),
        (lottery_pdf, "[lottery_disclosure] of funder 武汉市民政局", issued_seqs[2]),
    ):
        result = _check(runner, pdf, bundle, issued.vkey)
        assert result.exit_code == 0, result.output
        size = _attached(pdf)["checkpoint"]["tree_size"]
        assert kind in result.stdout
        assert f"recorded as statement.issued at seq {seq}" in result.stdout
        assert f"drawn from checkpoint size {size} " in result.stdout
        assert f"figures equal the bundle's (recomputed from entries 1..{size} alone)" in result.stdout
    # Every statement is drawn from the prefix before its own record.
    assert _attached(organisation_pdf)["checkpoint"]["tree_size"] == issued_seqs[1] - 1


def test_a_disclosure_of_a_street_s_area_is_checked_for_that_area(
    issued: Issued, funded_world: DemoWorld, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """A finance officer at 后湖街道 issues the disclosure of their area: the check recomputes it
    for the nodes recorded with it, not for the whole deployment."""
    client = issued.app.test_client()
    huangpi_grant = activated_fund(
        client,
        funded_world,
        reference="FC-HP-2026-001",
        funder_name=LOTTERY_FUNDER,
        organisation_id=funded_world.member_organisation["member08"],
    )
    assert huangpi_grant["status"] == "active"
    response = client.post(
        "/api/v1/statements/lottery-disclosure",
        json={"funder": LOTTERY_FUNDER, "year": 2026},
        headers=funded_world.auth("houhu.finance1"),
    )
    assert response.status_code == 200
    pdf = tmp_path / "houhu-lottery.pdf"
    pdf.write_bytes(response.get_data())
    bundle = _export(runner, tmp_path / "houhu-bundle")
    result = _check(runner, pdf, bundle, issued.vkey)
    assert result.exit_code == 0, result.output
    assert "figures equal the bundle's" in result.stdout
    projects = _attached(pdf)["figures"]["projects"]
    assert [p["reference"] for p in projects] == ["FC-WH-2026-017"]


def test_the_check_needs_no_database_nor_configuration(issued: Issued, tmp_path: Path) -> None:
    """``python -m ledger.statement_check`` in an empty folder, without any LEDGER_* setting."""
    workspace = tmp_path / "auditor"
    workspace.mkdir()
    keys_file = workspace / "trusted-keys.txt"
    keys_file.write_text(f"# the log's published key\n{issued.vkey}\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "ledger.statement_check", str(issued.fund_pdf)),
            *("--bundle", str(issued.bundle), "--key", str(keys_file)),
        ],
        cwd=workspace,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("OK: fund-use statement")
    assert sorted(p.name for p in workspace.iterdir()) == ["trusted-keys.txt"]  # nothing written


# --- forgeries ----------------------------------------------------------------------------------


def test_an_edited_attachment_is_not_a_recorded_statement(
    issued: Issued, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    document = _attached(issued.fund_pdf)
    assert document["figures"]["unspent"]["balance"] == "71920.00"
    document["figures"]["unspent"]["balance"] = "81920.00"
    forged = _reembedded(issued.fund_pdf, document, tmp_path / "forged.pdf")
    result = _check(runner, forged, issued.bundle, issued.vkey)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("FAIL sha256: the PDF's SHA-256 ")
    assert "is not recorded in the trail as statement.issued" in result.stdout
    assert len(result.stdout.strip().splitlines()) == 1


def test_figures_that_differ_from_the_trail_are_named(
    issued: Issued, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """A forger with the service's database records the edited PDF's hash: the figures still tell."""
    document = _attached(issued.fund_pdf)
    document["figures"]["unspent"]["balance"] = "81920.00"
    forged = _reembedded(issued.fund_pdf, document, tmp_path / "forged.pdf")
    with issued.app.app_context():
        genuine = next(e for e in store.parsed_entries() if e["action"] == "statement.issued")
        data = {**genuine["data"], "sha256": hashlib.sha256(forged.read_bytes()).hexdigest()}
        with unit_of_work():
            record_event(Actor.operator(), "statement.issued", "fund", uuid.UUID(issued.fund_id), data)
    bundle = _export(runner, tmp_path / "bundle-with-forged-record")
    size = document["checkpoint"]["tree_size"]

    result = _check(runner, forged, bundle, issued.vkey)
    assert result.exit_code == 1, result.output
    assert result.stdout == (
        f'FAIL figures: figures.unspent.balance: the statement says "81920.00", '
        f'the bundle\'s entries 1..{size} give "71920.00"\n'
    )
    # The genuine statement still passes against the same bundle.
    assert _check(runner, issued.fund_pdf, bundle, issued.vkey).exit_code == 0


def _forked_bundle(bundle: Path, out: Path, instance: Path, seq_to_change: int) -> Path:
    """The bundle with entry ``seq_to_change`` rewritten, the chain relinked and every checkpoint
    re-signed with the log's own key: a different history, validly signed."""
    shutil.copytree(bundle, out)
    origin = read_manifest(bundle).origin
    signer = load_signer(instance, origin)
    assert signer is not None
    lines = (bundle / ENTRIES_FILE).read_bytes().splitlines()
    previous = b"\0" * 32
    rewritten = []
    frontier = MerkleFrontier()
    roots = {}
    for seq, line in enumerate(lines, start=1):
        entry = json.loads(line)
        if seq == seq_to_change:
            posting = next(r for r in entry["data"]["rows"] if r["table"] == "posting")
            posting["row"]["amount_minor"] += 100_000_00  # 40,000.00 became 140,000.00
        if seq >= seq_to_change:
            entry["prev"] = previous.hex()
            line = rfc8785.dumps(entry)
        rewritten.append(line)
        previous = leaf_hash(line)
        frontier.append(previous)
        roots[seq] = frontier.root()
    (out / ENTRIES_FILE).write_bytes(b"".join(line + b"\n" for line in rewritten))
    sizes = list(CheckpointFiles(bundle / CHECKPOINTS_DIR))
    for size in sizes:
        note = sign_checkpoint(Checkpoint(origin, size, roots[size]), signer)
        (out / CHECKPOINTS_DIR / f"{size}.txt").write_text(note)
    # The consistency proofs too, from the rewritten tree: the forged bundle is sound in itself.
    tree = MemoryTree(leaf_hash(line) for line in rewritten)
    for size in sizes[:-1]:
        proof = proof_document(size, sizes[-1], tree.consistency_proof(size, sizes[-1]))
        (out / PROOFS_DIR / proof_file_name(size, sizes[-1])).write_bytes(proof)
    return out


def test_a_statement_checked_against_a_forked_log_fails_at_its_checkpoint(
    issued: Issued, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    entries = [json.loads(line) for line in (issued.bundle / ENTRIES_FILE).read_bytes().splitlines()]
    first_payment = next(
        e["seq"] for e in entries if any(r["table"] == "posting" for r in e["data"].get("rows", []))
    )
    size = _attached(issued.fund_pdf)["checkpoint"]["tree_size"]
    assert first_payment < size
    forked = _forked_bundle(issued.bundle, tmp_path / "forked", Path(issued.app.instance_path), first_payment)
    # The forged history is signed with the log's key, so the bundle on its own verifies ...
    assert verify_main([str(forked), "--key", issued.vkey, "--quiet"]) == 0
    # ... and still records the statement's hash, but not the root the statement was drawn from.
    result = _check(runner, issued.fund_pdf, forked, issued.vkey)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith(f"FAIL checkpoint={size}: the statement names root ")
    assert f"the bundle's signed checkpoint of size {size} has root " in result.stdout
    assert "forked or rewritten" in result.stdout


# --- unusable inputs (exit 2) ---------------------------------------------------------------------


def test_unusable_inputs_are_usage_errors(issued: Issued, runner: FlaskCliRunner, tmp_path: Path) -> None:
    # The genuine statement with its attachment taken out.
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(issued.fund_pdf))
    del writer.root_object["/Names"].get_object()["/EmbeddedFiles"]
    plain = tmp_path / "stripped.pdf"
    with plain.open("wb") as handle:
        writer.write(handle)
    result = _check(runner, plain, issued.bundle, issued.vkey)
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"error: {plain} has no statement.json attachment, so it is not a statement of this ledger\n"
    )

    garbage = tmp_path / "receipt.pdf"
    garbage.write_bytes(receipt_pdf("no xref table") + b"garbage")
    result = _check(runner, garbage, issued.bundle, issued.vkey)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {garbage} is not a readable PDF")
    assert len(result.stderr.splitlines()) == 1

    result = _check(runner, tmp_path / "missing.pdf", issued.bundle, issued.vkey)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot read ")

    result = _check(runner, issued.fund_pdf, issued.bundle, "not-a-key+1234+AAAA")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: --key 'not-a-key+1234+AAAA' is neither a verifier key nor a file of them"
    )
    assert len(result.stderr.splitlines()) == 1

    broken = shutil.copytree(issued.bundle, tmp_path / "broken")
    (broken / KEYS_FILE).unlink()
    result = _check(runner, issued.fund_pdf, broken, issued.vkey)
    assert result.exit_code == 2
    assert result.stderr == f"error: the bundle {broken} is missing keys.txt\n"

    result = runner.invoke(args=["statement", "check", str(issued.fund_pdf), "--bundle", str(issued.bundle)])
    assert result.exit_code == 2  # --key is required


def test_a_key_that_did_not_sign_the_log_fails(issued: Issued, runner: FlaskCliRunner) -> None:
    from ledger.audit.note import generate_signer

    stranger = generate_signer(read_manifest(issued.bundle).origin).vkey
    result = _check(runner, issued.fund_pdf, issued.bundle, stranger)
    assert result.exit_code == 1
    assert result.stdout.startswith("FAIL bundle: FAIL checkpoint=")
    assert "checkpoint_signature_invalid" in result.stdout


# --- python -m ledger.audit.verify DIR --books ----------------------------------------------------


def test_books_rebuilt_from_the_bundle(issued: Issued, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_main([str(issued.bundle), "--key", issued.vkey, "--books"]) == 0
    out = capsys.readouterr().out
    assert "books rebuilt from the bundle's" in out
    with issued.app.app_context():
        elders = db.session.get(Organisation, uuid.UUID(issued.organisation_id))
        assert elders is not None
        heading = f"organisation {elders.name} (credit code {elders.credit_code})"
    lines = out.splitlines()
    start = lines.index(heading)
    block = []
    for line in lines[start + 1 :]:
        if line.startswith("organisation "):
            break
        block.append(line)
    # Worked by hand from ledger/demo_funds.py, the lottery grant of 100,000.00 to this centre:
    # tranches 1 and 2 paid into the bank, 40,000.00 + 40,000.00 (Dr 1002, Cr 4401 restricted);
    # the Q1 report approved: ACTIVITY 3,200.00 + PERSONNEL 4,500.00 are programme costs (5101),
    # OFFICE 380.00 is management (5201), paid from the bank (Cr 1002, 8,080.00), and the
    # restriction released as the money is spent (Dr 4401 restricted, Cr 4401 unrestricted, 8,080.00).
    # The other reports are submitted, returned, rejected or drafts: nothing booked.
    assert block == [
        "  account\tname\tcurrency\tdebit\tcredit\tbalance",
        "  1002\t银行存款 Bank deposits\tCNY\t80000.00\t8080.00\t71920.00",
        "  4401\t政府补助收入 Government grant revenue\tCNY\t8080.00\t88080.00\t-80000.00",
        "  5101\t业务活动成本 Program (business-activity) costs\tCNY\t7700.00\t0.00\t7700.00",
        "  5201\t管理费用 Management and administrative expenses\tCNY\t380.00\t0.00\t380.00",
        "  totals\t\tCNY\t96160.00\t96160.00\t0.00",
    ]
    # The procurement contract's centre: 150,000.00 paid in as service revenue, 12,000.00 spent.
    assert "  1002\t银行存款 Bank deposits\tCNY\t150000.00\t12000.00\t138000.00" in lines
    assert "  4301\t提供服务收入 Service revenue\tCNY\t0.00\t150000.00\t-150000.00" in lines


def test_the_plain_verifier_does_not_load_the_service() -> None:
    """Without --books the verifier imports no Flask, no SQLAlchemy, no models."""
    code = (
        "import sys, ledger.audit.verify as v\n"
        "heavy = [m for m in ('flask', 'sqlalchemy', 'ledger.models', 'ledger.replay') if m in sys.modules]\n"
        "print(heavy)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.stdout.strip() == "[]", completed.stderr


def test_an_attestation_is_checked_for_what_a_bundle_determines(
    issued: Issued, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    attestation = tmp_path / "attestation.pdf"
    _issue(runner, "attestation", "--out", str(attestation))
    bundle = _export(runner, tmp_path / "later-bundle")
    result = _check(runner, attestation, bundle, issued.vkey)
    assert result.exit_code == 0, result.output
    assert "[audit_attestation]" in result.stdout
    assert "the log figures equal the bundle's" in result.stdout
    # An attestation claiming another log root is caught.
    document = _attached(attestation)
    document["figures"]["log"]["log_root"] = "00" * 32
    forged = _reembedded(attestation, document, tmp_path / "forged.pdf")
    with issued.app.app_context():
        genuine = [e for e in store.parsed_entries() if e["action"] == "statement.issued"][-1]
        data = {**genuine["data"], "sha256": hashlib.sha256(forged.read_bytes()).hexdigest()}
        with unit_of_work():
            record_event(Actor.operator(), "statement.issued", "audit_log", genuine["subject"]["id"], data)
    result = _check(runner, forged, _export(runner, tmp_path / "bundle-3"), issued.vkey)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith('FAIL figures: figures.log.log_root: the statement says "0000')


def test_the_first_difference_is_named_by_its_path() -> None:
    from ledger.statement_check import first_difference

    stated = {"a": {"b": ["1.00", "2.00"]}, "flag": True, "n": 1}
    assert first_difference(stated, stated) is None
    assert first_difference(stated, {**stated, "a": {"b": ["1.00", "2.50"]}}) == (
        "figures.a.b[1]",
        '"2.00"',
        '"2.50"',
    )
    assert first_difference(stated, {**stated, "a": {"b": ["1.00"]}}) == (
        "figures.a.b[1]",
        '"2.00"',
        "(absent)",
    )
    # true is not 1, though Python says True == 1.
    assert first_difference({"flag": True}, {"flag": 1}) == ("figures.flag", "true", "1")
    assert first_difference({"x": 1}, {"x": 1, "y": None}) == ("figures.y", "(absent)", "null")


def test_a_statement_recorded_before_business_date_uses_its_signing_day_in_china() -> None:
    from ledger.statement_check import _business_date

    stamp = {"signed_at": "2026-12-31T16:30:00Z"}  # 00:30 on 1 January 2027 in China
    assert _business_date({"data": {}}, stamp).isoformat() == "2027-01-01"
    assert _business_date({"data": {"business_date": "2026-12-31"}}, stamp).isoformat() == "2026-12-31"
