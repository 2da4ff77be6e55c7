"""The message catalog is complete: every string marked in the code and the page templates has
its Chinese translation, with the same parameters, and the English catalog lists them all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "ledger" / "translations"


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _extracted(tmp_path: Path) -> Catalog:
    """What ``make messages`` extracts now (babel.cfg names the files and keywords)."""
    pybabel = shutil.which("pybabel", path=str(Path(sys.executable).parent)) or "pybabel"
    output = tmp_path / "messages.pot"
    subprocess.run(
        [pybabel, "extract", "--mapping-file", "babel.cfg", "--output-file", str(output), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return _read(output)


def _key(message: object) -> tuple[str | None, str]:
    msgid = message.id  # type: ignore[attr-defined]
    return (message.context, msgid if isinstance(msgid, str) else msgid[0])  # type: ignore[attr-defined]


def test_every_extracted_message_has_a_chinese_translation(tmp_path: Path) -> None:
    extracted = {_key(m) for m in _extracted(tmp_path) if m.id}
    assert len(extracted) > 200  # the pages, the services' messages and marshmallow's
    chinese = _read(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po")
    translated = {
        _key(m) for m in chinese if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    assert sorted(extracted - translated) == []
    english = _read(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po")
    assert sorted(extracted - {_key(m) for m in english if m.id}) == []


def test_translations_keep_every_parameter() -> None:
    """gettext fills a translation with the msgid's parameters: a missing or misspelt one fails."""
    chinese = _read(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po")
    problems = [(message.id, errors) for message, errors in chinese.check() if errors]
    assert problems == []
