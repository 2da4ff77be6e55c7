"""The published OCDS release schema kept in the repository, for the tests that need it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STANDARDS = Path(__file__).resolve().parents[2] / "schemas" / "standards"


def ocds_release_schema() -> dict[str, Any]:
    return dict(json.loads((STANDARDS / "ocds-1.1-release-schema.json").read_text(encoding="utf-8")))
