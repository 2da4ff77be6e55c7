"""Every table edit a database superuser could make behind the service's back is caught by the replay.

Each case changes one thing with SQL, bypassing the append-only triggers as a superuser can,
and asserts that ``ledger audit verify`` fails naming the table, the row and the field, with
the trail's value and the ``seq`` of the entry that wrote the row. The log itself is untouched,
so only the replay of the tables can see these changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import text

from ledger.audit.trail import sign_checkpoint_now
from ledger.extensions import db
from ledger.services.audit_verification import verify_database
from tests.conftest import DemoWorld
from tests.helpers import tamper


@dataclass(frozen=True)
class Edit:
    """Find a row (``find`` returns its key), change it (``change`` gets ``:key``), expect the field."""

    table: str
    find: str
    change: str
    field: str | None


EDITS = {
    # Books: each journal entry still balances after these, and the chain is untouched.
    "two postings of one entry changed, still balanced": Edit(
        "posting",
        "SELECT MIN(id) FROM posting WHERE journal_entry_id = (SELECT journal_entry_id FROM posting "
        "GROUP BY journal_entry_id HAVING COUNT(*) = 2 LIMIT 1)",
        "UPDATE posting SET amount_minor = amount_minor + 100000 WHERE journal_entry_id = "
        "(SELECT journal_entry_id FROM posting WHERE id = :key)",
        "amount_minor",
    ),
    "a posting's fund cleared": Edit(
        "posting",
        "SELECT MIN(id) FROM posting WHERE fund_id IS NOT NULL",
        "UPDATE posting SET fund_id = NULL WHERE id = :key",
        "fund_id",
    ),
    "a posting's restriction flipped": Edit(
        "posting",
        "SELECT MIN(id) FROM posting WHERE restriction = 'restricted'",
        "UPDATE posting SET restriction = 'unrestricted' WHERE id = :key",
        "restriction",
    ),
    "an entry's date moved": Edit(
        "journal_entry",
        "SELECT id FROM journal_entry ORDER BY created_at DESC LIMIT 1",
        "UPDATE journal_entry SET entry_date = '2026-02-03' WHERE id = :key",
        "entry_date",
    ),
    "an entry's description rewritten": Edit(
        "journal_entry",
        "SELECT id FROM journal_entry ORDER BY created_at LIMIT 1",
        "UPDATE journal_entry SET description = 'nothing to see' WHERE id = :key",
        "description",
    ),
    "an entry's author rewritten": Edit(
        "journal_entry",
        "SELECT id FROM journal_entry ORDER BY created_at LIMIT 1",
        "UPDATE journal_entry SET created_by = 'someone else' WHERE id = :key",
        "created_by",
    ),
    "a month's closing balance changed": Edit(
        "period_balance",
        "SELECT MIN(id) FROM period_balance",
        "UPDATE period_balance SET debit_minor = debit_minor + 1, credit_minor = credit_minor + 1 "
        "WHERE id = :key",
        "credit_minor",
    ),
    "a closed month reopened": Edit(
        "accounting_period",
        "SELECT id FROM accounting_period WHERE status = 'closed' LIMIT 1",
        "UPDATE accounting_period SET status = 'open' WHERE id = :key",
        "status",
    ),
    # Funds and their money.
    "a tranche multiplied by ten": Edit(
        "tranche",
        "SELECT id FROM tranche ORDER BY due_date LIMIT 1",
        "UPDATE tranche SET amount_minor = amount_minor * 10 WHERE id = :key",
        "amount_minor",
    ),
    "a tranche's due date moved": Edit(
        "tranche",
        "SELECT id FROM tranche ORDER BY due_date LIMIT 1",
        "UPDATE tranche SET due_date = '2030-01-01' WHERE id = :key",
        "due_date",
    ),
    "a budget line back-dated": Edit(
        "budget_entry",
        "SELECT MIN(id) FROM budget_entry",
        "UPDATE budget_entry SET effective_at = '2025-03-01 00:00:00.000000' WHERE id = :key",
        "effective_at",
    ),
    "a fund's award raised": Edit(
        "fund",
        "SELECT id FROM fund ORDER BY reference LIMIT 1",
        "UPDATE fund SET award_minor = award_minor + 1 WHERE id = :key",
        "award_minor",
    ),
    "a payment marked paid to another account": Edit(
        "disbursement",
        "SELECT id FROM disbursement WHERE bank_reference IS NOT NULL LIMIT 1",
        "UPDATE disbursement SET bank_reference = 'ELSEWHERE-1' WHERE id = :key",
        "bank_reference",
    ),
    "a report's line amount changed": Edit(
        "expense_line",
        "SELECT id FROM expense_line ORDER BY id LIMIT 1",
        "UPDATE expense_line SET amount_minor = amount_minor + 1 WHERE id = :key",
        "amount_minor",
    ),
    "a returned report marked approved": Edit(
        "expense_report",
        "SELECT id FROM expense_report WHERE status = 'returned' LIMIT 1",
        "UPDATE expense_report SET status = 'approved' WHERE id = :key",
        "status",
    ),
    "a receipt handed to another organisation": Edit(
        "receipt",
        "SELECT sha256 FROM receipt LIMIT 1",
        "UPDATE receipt SET organisation_id = (SELECT id FROM organisation WHERE id <> "
        "receipt.organisation_id LIMIT 1) WHERE sha256 = :key",
        "organisation_id",
    ),
    # Reference data, although the trail also holds each file's SHA-256.
    "an expense category renamed": Edit(
        "expense_category",
        "SELECT code FROM expense_category ORDER BY code LIMIT 1",
        "UPDATE expense_category SET name_en = 'Anything' WHERE code = :key",
        "name_en",
    ),
    "an account's normal balance flipped": Edit(
        "account",
        "SELECT code FROM account WHERE code = '1002'",
        "UPDATE account SET normal_balance = 'credit' WHERE code = :key",
        "normal_balance",
    ),
    # Who may do what.
    "a member given another organisation": Edit(
        "membership",
        "SELECT user_id FROM membership LIMIT 1",
        "INSERT INTO membership (user_id, organisation_id, created_at) SELECT :key, id, "
        "'2026-01-01 00:00:00.000000' FROM organisation WHERE id NOT IN "
        "(SELECT organisation_id FROM membership WHERE user_id = :key) LIMIT 1",
        None,
    ),
    "a member made an admin": Edit(
        "app_user",
        "SELECT id FROM app_user WHERE username = 'member01'",
        "UPDATE app_user SET role = 'admin' WHERE id = :key",
        "role",
    ),
    "admin's password hash replaced with another user's": Edit(
        "app_user",
        "SELECT id FROM app_user WHERE username = 'admin'",
        "UPDATE app_user SET password_hash = (SELECT password_hash FROM app_user WHERE username = "
        "'member01') WHERE id = :key",
        "password_fingerprint",
    ),
    "a token given to another user": Edit(
        "api_token",
        "SELECT id FROM api_token WHERE user_id = (SELECT id FROM app_user WHERE username = 'member01')",
        "UPDATE api_token SET user_id = (SELECT id FROM app_user WHERE username = 'admin') WHERE id = :key",
        "user_id",
    ),
    "a revoked token revived": Edit(
        "api_token",
        "SELECT id FROM api_token WHERE revoked_at IS NULL ORDER BY created_at LIMIT 1",
        "UPDATE api_token SET revoked_at = NULL, expires_at = '2099-01-01 00:00:00.000000' WHERE id = :key",
        "expires_at",
    ),
    "a signing key's retirement undone": Edit(
        "audit_signing_key",
        "SELECT key_id FROM audit_signing_key LIMIT 1",
        "UPDATE audit_signing_key SET name = 'another' WHERE key_id = :key",
        "name",
    ),
    "an organisation renamed": Edit(
        "organisation",
        "SELECT id FROM organisation ORDER BY credit_code LIMIT 1",
        "UPDATE organisation SET name = 'renamed quietly' WHERE id = :key",
        "name",
    ),
}


def _key(world: DemoWorld, find: str) -> str:
    with world.app.app_context():
        key = db.session.execute(text(find)).scalar()
    assert key is not None, f"the demo has no row for: {find}"
    return str(key)


def _same(raw_key: str, named: str) -> bool:
    """SQLite keeps UUIDs as 32 hex digits, PostgreSQL and the trail with dashes."""
    return raw_key.replace("-", "") in named.replace("-", "")


@pytest.mark.parametrize("case", list(EDITS), ids=list(EDITS))
def test_each_edit_behind_the_trail_is_named_by_the_replay(funded_world: DemoWorld, case: str) -> None:
    edit = EDITS[case]
    key = _key(funded_world, edit.find)
    with funded_world.app.app_context():
        sign_checkpoint_now()
        assert verify_database().ok
    tamper(funded_world.app, edit.change.replace(":key", f"'{key}'"))

    with funded_world.app.app_context():
        result = verify_database()
    assert not result.ok
    assert result.report.ok, "the log itself was not touched"
    named = [d for d in result.differences if d.table == edit.table and _same(key, d.key)]
    assert named, result.lines()
    difference = named[0]
    if edit.field is None:  # a row planted where the trail wrote none
        assert difference.seq is None
        assert "no entry of the trail wrote it" in difference.line()
    else:
        assert difference.field == edit.field
        assert difference.seq is not None
        assert difference.seq > 0
        assert difference.trail_value != difference.table_value


def test_a_deleted_row_is_named_with_the_entry_that_wrote_it(funded_world: DemoWorld) -> None:
    key = _key(funded_world, "SELECT id FROM tranche ORDER BY due_date DESC LIMIT 1")
    tamper(funded_world.app, f"DELETE FROM tranche WHERE id = '{key}'")  # noqa: S608
    with funded_world.app.app_context():
        result = verify_database()
    missing = [d for d in result.differences if d.table == "tranche" and _same(key, d.key)]
    assert missing
    assert missing[0].table_value is None
    assert missing[0].seq
    assert "the table does not hold it" in missing[0].line()


def test_the_cli_names_table_row_field_both_values_and_seq(
    funded_world: DemoWorld, runner: FlaskCliRunner
) -> None:
    key = _key(funded_world, "SELECT id FROM organisation ORDER BY credit_code LIMIT 1")
    tamper(funded_world.app, f"UPDATE organisation SET name = 'renamed quietly' WHERE id = '{key}'")  # noqa: S608
    result = runner.invoke(args=["audit", "verify", "--no-receipts"])
    assert result.exit_code == 1
    first = next(line for line in result.output.splitlines() if line.startswith("FAIL"))
    assert f"organisation {uuid.UUID(key)} field name: the trail (seq " in first
    assert '"renamed quietly"' in first
