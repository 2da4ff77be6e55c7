"""``python -m ledger.audit.verify``: exit codes, output, and independence from Flask and SQLAlchemy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ledger
from ledger.audit.note import NoteSigner, generate_signer
from ledger.audit.verify import main

from .bundle_factory import ORIGIN, BuiltBundle, make_bundle

PROJECT_ROOT = Path(ledger.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory, signer: NoteSigner) -> BuiltBundle:
    return make_bundle(tmp_path_factory.mktemp("cli") / "bundle", 20, [4, 10, 16], signer)


@pytest.fixture
def gapped(sound: BuiltBundle, tmp_path: Path) -> Path:
    directory = tmp_path / "gapped"
    shutil.copytree(sound.directory, directory)
    lines = (directory / "entries.jsonl").read_bytes().splitlines(keepends=True)
    del lines[8]
    (directory / "entries.jsonl").write_bytes(b"".join(lines))
    return directory


def run_verifier(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "ledger.audit.verify", *arguments],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environment,
        timeout=60,
        check=False,
    )


# --- in process (fast) --------------------------------------------------------------


def test_success_summary(sound: BuiltBundle, signer: NoteSigner, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(sound.directory), "--key", signer.vkey]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("OK: 20 entries of grants.example.org/audit-log")
    assert "latest: size 16" in out
    assert signer.key_id in out
    assert "trust: anchored" in out
    assert err == ""


def test_quiet_prints_nothing_on_success(sound: BuiltBundle, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(sound.directory), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_failure_is_one_line_naming_the_first_bad_seq(
    gapped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(gapped), "--quiet"]) == 1
    out, _ = capsys.readouterr()
    assert out.count("\n") == 1
    assert out.startswith("FAIL seq=9: gap: ")


def test_progress_goes_to_stderr_only(sound: BuiltBundle, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(sound.directory), "--quiet", "--progress", "--progress-interval", "5"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "verified 5 of 20 entries (25%)",
        "verified 10 of 20 entries (50%)",
        "verified 15 of 20 entries (75%)",
        "verified 20 of 20 entries (100%)",
    ]


def test_missing_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_bad_key_is_a_usage_error(sound: BuiltBundle, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([str(sound.directory), "--key", "not-a-key"])
    assert caught.value.code == 2
    assert "--key" in capsys.readouterr().err


# --- as a program ---------------------------------------------------------------------


def test_exit_codes_as_a_program(
    sound: BuiltBundle, gapped: Path, signer: NoteSigner, tmp_path: Path
) -> None:
    ok = run_verifier(str(sound.directory), "--key", signer.vkey)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: 20 entries")
    assert ok.stderr == ""

    failed = run_verifier(str(gapped))
    assert failed.returncode == 1
    assert failed.stdout.splitlines() == [failed.stdout.strip()]
    assert failed.stdout.startswith("FAIL seq=9: gap: expected seq 9")

    forger = generate_signer(ORIGIN)
    untrusted = run_verifier(str(sound.directory), "--key", forger.vkey)
    assert untrusted.returncode == 1
    assert untrusted.stdout.startswith("FAIL checkpoint=4: checkpoint_signature_invalid: ")

    assert run_verifier(str(tmp_path / "absent")).returncode == 2
    assert run_verifier().returncode == 2


def test_runs_where_flask_and_sqlalchemy_cannot_be_imported(sound: BuiltBundle, signer: NoteSigner) -> None:
    script = textwrap.dedent(
        """
        import importlib.abc
        import runpy
        import sys

        BLOCKED = {"flask", "sqlalchemy", "flask_sqlalchemy", "flask_migrate", "flask_smorest",
                   "alembic", "marshmallow", "werkzeug", "jinja2", "psycopg"}

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is blocked in this test")
                return None

        sys.meta_path.insert(0, Blocker())
        try:
            import flask  # noqa: F401
        except ImportError:
            pass
        else:
            raise SystemExit("the import blocker does not work")
        sys.argv = ["ledger.audit.verify", *sys.argv[1:]]
        runpy.run_module("ledger.audit.verify", run_name="__main__", alter_sys=True)
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONWARNINGS": "error"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(sound.directory), "--key", signer.vkey],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.startswith("OK: 20 entries")
