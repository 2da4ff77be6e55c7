"""``LEDGER_WITNESSES`` parsing, and the ``ledger witness`` commands that need no server."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.audit.cosignature import Cosigner
from ledger.audit.note import generate_signer
from ledger.config import ConfigError, load_settings
from ledger.witness.cli import witness_group
from ledger.witness.state import WitnessState

BASE = {"LEDGER_SECRET_KEY": "x" * 40}
W1 = Cosigner.from_seed("witness.example.org/w1", bytes([2]) * 32).vkey
W2 = Cosigner.from_seed("witness.example.org/w2", bytes([3]) * 32).vkey


def test_witness_settings_are_parsed() -> None:
    assert load_settings(BASE).witnesses == ()
    assert load_settings({**BASE, "LEDGER_WITNESSES": "  "}).witnesses == ()
    value = f"w1=http://127.0.0.1:8871/={W1}, w2=https://w2.example.org/witness={W2}"
    first, second = load_settings({**BASE, "LEDGER_WITNESSES": value}).witnesses
    assert (first.name, first.url, first.verifier.vkey) == ("w1", "http://127.0.0.1:8871", W1)
    assert (second.name, second.url, second.verifier.name) == (
        "w2",
        "https://w2.example.org/witness",
        "witness.example.org/w2",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(f"http://x={W1}", "name=url=vkey", id="two-parts"),
        pytest.param(f"w 1=http://x={W1}", "name=url=vkey", id="space-splits-entries"),
        pytest.param(f"w/1=http://x={W1}", "is not a name", id="bad-name"),
        pytest.param(f"w1=ftp://x={W1}", "http(s) URL", id="bad-url"),
        pytest.param("w1=http://x=not-a-key", "not a witness vkey", id="bad-key"),
        pytest.param(f"w1=http://x={generate_signer('log').vkey}", "0x01", id="log-key"),
        pytest.param(f"w1=http://x={W1},w1=http://y={W2}", "listed twice", id="same-name"),
        pytest.param(f"w1=http://x={W1},w2=http://y={W1}", "listed twice", id="same-key"),
    ],
)
def test_bad_witness_settings_stop_the_service(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="LEDGER_WITNESSES") as raised:
        load_settings({**BASE, "LEDGER_WITNESSES": value})
    assert message in str(raised.value)


def test_init_add_log_and_latest(tmp_path: Path) -> None:
    runner = CliRunner()
    db, key = tmp_path / "w.sqlite3", tmp_path / "w.key"
    log = generate_signer("grants.example.org/audit-log")
    result = runner.invoke(
        witness_group, ["init", "--db", str(db), "--key", str(key), "--name", "witness.example.org/w1"]
    )
    assert result.exit_code == 0, result.output
    vkey = result.stdout.strip()
    assert Cosigner.from_skey(key.read_text(encoding="utf-8")).vkey == vkey
    assert key.stat().st_mode & 0o077 == 0
    again = runner.invoke(
        witness_group, ["init", "--db", str(db), "--key", str(key), "--name", "witness.example.org/w1"]
    )
    assert again.exit_code == 1
    assert "exists" in again.output
    assert runner.invoke(witness_group, ["add-log", "--db", str(db), log.vkey]).exit_code == 0
    assert WitnessState.open(db).origins() == [log.name]
    bad = runner.invoke(witness_group, ["add-log", "--db", str(db), "nonsense"])
    assert bad.exit_code == 2
    assert "VKEY 'nonsense'" in bad.output
    none_yet = runner.invoke(witness_group, ["latest", "--db", str(db), "--origin", log.name])
    assert none_yet.exit_code == 1
    assert "cosigned no checkpoint" in none_yet.output
    both = runner.invoke(
        witness_group, ["latest", "--db", str(db), "--url", "http://x", "--origin", log.name]
    )
    assert both.exit_code == 2


def test_a_bad_witness_name_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        witness_group,
        ["init", "--db", str(tmp_path / "w.sqlite3"), "--key", str(tmp_path / "k"), "--name", "a+b"],
    )
    assert result.exit_code == 2
    assert "--name" in result.output
