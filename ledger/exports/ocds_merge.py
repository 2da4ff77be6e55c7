"""Compile OCDS 1.1 releases into a compiled release, by the standard's merge routine.

Releases are taken in the order of their dates, compared as instants (dates written with
different offsets still sort by when they happened). Each release's fields overwrite the
compiled ones; objects merge field by field; an array of objects that all have an ``id`` merges
its objects by ``id`` (an object not seen before is appended); any other array is replaced
whole; ``null`` removes a field. The compiled release takes the latest release's date and the
id ``<ocid>-<date>``, as ocdskit's ``compile`` gives.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

OMITTED = ("id", "date", "tag")


def _by_id(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "id" in item for item in items)


def _merge(target: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    for key, value in source.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            target[key] = _merge(current if isinstance(current, dict) else {}, value)
        elif isinstance(value, list) and _by_id(value):
            current = target.get(key)
            merged = list(current) if isinstance(current, list) and _by_id(current) else []
            position = {str(item["id"]): n for n, item in enumerate(merged)}
            for item in value:
                n = position.get(str(item["id"]))
                if n is None:
                    position[str(item["id"])] = len(merged)
                    merged.append(_merge({}, item))
                else:
                    merged[n] = _merge(merged[n], item)
            target[key] = merged
        else:
            target[key] = copy.deepcopy(value)
    return target


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def compile_releases(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The compiled release of one contracting process's releases."""
    ordered = sorted(releases, key=lambda r: instant(r["date"]))
    compiled: dict[str, Any] = {}
    for release in ordered:
        _merge(compiled, {k: v for k, v in release.items() if k not in OMITTED})
    last = ordered[-1]
    return {
        **compiled,
        "ocid": last["ocid"],
        "id": f"{last['ocid']}-{last['date']}",
        "date": last["date"],
        "tag": ["compiled"],
    }
