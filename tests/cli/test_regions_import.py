"""``ledger regions import``: a file loads with a summary, a bad one names every problem and loads nothing."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.builders import DIVISION_TABLE as TABLE
from tests.builders import division_csv as csv_bytes
from tests.builders import division_xlsx as xlsx_bytes
from tests.helpers import table_counts

OPTIONS = ["--version", "NBS-TEST-2024", "--year", "2024", "--name", "北京 (test)", "--source", "test table"]


def test_import_prints_a_summary_and_a_second_run_changes_nothing(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path
) -> None:
    file = tmp_path / "beijing.xlsx"
    file.write_bytes(xlsx_bytes(TABLE))
    result = runner.invoke(args=["regions", "import", str(file), *OPTIONS])
    assert result.exit_code == 0, result.output
    assert f"read {len(TABLE)} divisions" in result.output
    assert (
        "loaded division list NBS-TEST-2024: 7 divisions (1 province, 1 city, 1 county, 2 township, 2 community)"
        in (result.output)
    )
    counts = table_counts(app)
    same_as_csv = tmp_path / "beijing.csv"
    same_as_csv.write_bytes(csv_bytes(TABLE, bom=True))
    again = runner.invoke(args=["regions", "import", str(same_as_csv), *OPTIONS])
    assert again.exit_code == 0, again.output
    assert "already loaded with the same content" in again.output
    assert table_counts(app) == counts


def test_a_bad_file_exits_non_zero_naming_rows_and_columns(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path
) -> None:
    file = tmp_path / "bad.csv"
    file.write_bytes(
        csv_bytes([*TABLE, ["110105001002", "", "110105400000", "999"], ["12345", "短", "", ""]])
    )
    counts = table_counts(app)
    result = runner.invoke(args=["regions", "import", str(file), *OPTIONS])
    assert result.exit_code == 1
    for expected in ("row 9, name", "row 9, parent", "row 9, urban_rural_class", "row 10, code"):
        assert expected in result.output
    assert "Traceback" not in result.output
    assert table_counts(app) == counts


def test_a_file_without_the_columns_or_a_changed_version_is_refused(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path
) -> None:
    file = tmp_path / "columns.csv"
    file.write_text("code,name\n110000000000,北京市\n", encoding="utf-8")
    result = runner.invoke(args=["regions", "import", str(file), *OPTIONS])
    assert result.exit_code == 1
    assert "missing column(s) parent, urban_rural_class" in result.output
    changed = tmp_path / "changed.csv"
    changed.write_bytes(csv_bytes(TABLE))
    shipped = ["--version", "CFL-ILLUSTRATIVE-2024", "--year", "2024", "--name", "x", "--source", "y"]
    counts = table_counts(app)
    refused = runner.invoke(args=["regions", "import", str(changed), *shipped])
    assert refused.exit_code == 1
    assert "different content" in refused.output
    assert table_counts(app) == counts
