"""Loading and reading division lists: the administrative tree, one immutable version at a time.

``import_divisions`` checks every row before writing any: a file with problems is refused whole,
with each problem named by its row and column, so a person can fix them all in one pass. A
version once loaded never changes: the same content again is a no-op, different content under
the same name is refused, because whatever is attached to a division would silently move.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from ledger.errors import Conflict, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.region import (
    URBAN_RURAL_CLASSES,
    Division,
    DivisionLevel,
    DivisionList,
    is_division_code,
    level_of,
    parent_code_of,
)
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event
from ledger.services.division_files import DivisionRow
from ledger.services.pagination import Page, PageRequest, fetch_page

LEVEL_ORDER = tuple(DivisionLevel)
PROGRESS_STEP = 1000
NAME_LENGTH = 200
VERSION_NAME = re.compile(r"[A-Za-z0-9._-]{1,32}")


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


class DivisionFileInvalid(ValidationFailed):
    """Rows of a division file break the rules; ``problems`` lists every one by row and column."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        errors: dict[str, list[str]] = {}
        for p in problems:
            errors.setdefault(f"row {p.row}: {p.column}", []).append(p.message)
        super().__init__(
            f"The division list has {len(problems)} problem(s); nothing was loaded.",
            errors=errors,
            code="division_list.invalid",
        )
        self.problems = list(problems)


@dataclass(frozen=True)
class ImportReport:
    version: str
    loaded: bool  # False when the same content was already loaded under this version
    divisions: int
    levels: dict[str, int]


def _row_problems(row: DivisionRow, codes: dict[str, int]) -> list[RowProblem]:
    problems = []

    def problem(column: str, message: str) -> None:
        problems.append(RowProblem(row.row, column, message))

    if not row.name:
        problem("name", translatable("is blank"))
    elif len(row.name) > NAME_LENGTH:
        problem("name", translatable("is longer than %(limit)s characters", limit=NAME_LENGTH))
    if not is_division_code(row.code):
        problem("code", translatable("%(code)r is not 12 ASCII digits", code=row.code))
        return problems  # level and parent follow from the code; nothing more can be checked
    if row.code.startswith("00"):
        problem(
            "code", translatable("%(code)s names no province (its first two digits are 00)", code=row.code)
        )
        return problems
    if codes[row.code] != row.row:
        problem("code", translatable("%(code)s is also on row %(row)s", code=row.code, row=codes[row.code]))
    level = level_of(row.code)
    expected_parent = parent_code_of(row.code)
    if expected_parent is None:
        if row.parent:
            problem(
                "parent",
                translatable(
                    "%(code)s is a province and has no parent, not %(parent)r",
                    code=row.code,
                    parent=row.parent,
                ),
            )
    elif row.parent != expected_parent:
        problem(
            "parent",
            translatable(
                "the parent of %(code)s (%(level)s) is %(expected)s, not %(parent)r",
                code=row.code,
                level=str(level),
                expected=expected_parent,
                parent=row.parent,
            ),
        )
    elif expected_parent not in codes:
        problem("parent", translatable("%(code)s is not in the list", code=expected_parent))
    if level is DivisionLevel.COMMUNITY:
        if row.urban_rural_class not in URBAN_RURAL_CLASSES:
            problem(
                "urban_rural_class",
                translatable(
                    "%(value)r is not one of %(choices)s",
                    value=row.urban_rural_class,
                    choices=", ".join(URBAN_RURAL_CLASSES),
                ),
            )
    elif row.urban_rural_class:
        problem(
            "urban_rural_class",
            translatable(
                "is given only for communities, and %(code)s is a %(level)s", code=row.code, level=str(level)
            ),
        )
    return problems


def check_rows(rows: Sequence[DivisionRow]) -> list[RowProblem]:
    """Every problem of every row (not just the first), in row order."""
    codes: dict[str, int] = {}
    for row in rows:
        codes.setdefault(row.code, row.row)  # the first row with a code owns it
    problems = [p for row in rows for p in _row_problems(row, codes)]
    if not rows:
        problems.append(RowProblem(2, "code", translatable("the list has no divisions")))
    return problems


def _content_sha256(year: int, name: str, source: str, rows: Sequence[DivisionRow]) -> str:
    """A digest of what the list says, not of the file: CSV and XLSX of one table give one digest."""
    canonical = {
        "year": year,
        "name": name,
        "source": source,
        "divisions": sorted([r.code, r.name, r.parent, r.urban_rural_class] for r in rows),
    }
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_header(version: str, year: int, name: str, source: str) -> None:
    errors = {}
    if not VERSION_NAME.fullmatch(version):
        errors["version"] = [translatable("must be 1 to 32 letters, digits, '.', '_' or '-'")]
    if not 1949 <= year <= 2200:
        errors["year"] = [translatable("must be a year from 1949 on")]
    if not name.strip():
        errors["name"] = [translatable("is blank")]
    if not source.strip():
        errors["source"] = [translatable("is blank")]
    if errors:
        raise ValidationFailed(translatable("The division list's details are not valid."), errors=errors)


def import_divisions(
    actor: Actor,
    version: str,
    year: int,
    name: str,
    source: str,
    rows: Sequence[DivisionRow],
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Load a division list under ``version``, all of it or nothing, in one audit entry.

    ``on_progress`` is told how many more rows were written, every ``PROGRESS_STEP`` rows: a
    province's list has tens of thousands.
    """
    authorize(actor, Permission.LOAD_REFERENCE_DATA)
    _check_header(version, year, name, source)
    problems = check_rows(rows)
    if problems:
        raise DivisionFileInvalid(problems)
    levels = {str(level): sum(1 for r in rows if level_of(r.code) is level) for level in LEVEL_ORDER}
    sha = _content_sha256(year, name.strip(), source.strip(), rows)
    existing = db.session.get(DivisionList, version)
    if existing is not None:
        if existing.content_sha256 != sha:
            raise Conflict(
                translatable(
                    "Division list %(version)s is already loaded with different content; "
                    "publish changes as a new version.",
                    version=version,
                ),
                errors={"version": [translatable("is loaded with different content")]},
                code="division_list.immutable",
            )
        return ImportReport(version, loaded=False, divisions=len(rows), levels=levels)
    db.session.add(
        DivisionList(version=version, year=year, name=name.strip(), source=source.strip(), content_sha256=sha)
    )
    db.session.flush()  # the divisions refer to the list
    # Parents before children, so that each row's parent exists when it is inserted.
    ordered = sorted(rows, key=lambda r: (LEVEL_ORDER.index(level_of(r.code)), r.code))
    for done, row in enumerate(ordered, start=1):
        db.session.add(
            Division(
                list_version=version,
                code=row.code,
                name=row.name,
                parent_code=row.parent or None,
                level=str(level_of(row.code)),
                urban_rural_class=row.urban_rural_class or None,
            )
        )
        if done % PROGRESS_STEP == 0 or done == len(ordered):
            db.session.flush()
            if on_progress is not None:
                on_progress(done % PROGRESS_STEP or PROGRESS_STEP)
    record_event(
        actor,
        "reference_data.loaded",
        "division_list",
        version,
        {"sha256": sha, "year": year, "divisions": len(rows), "levels": levels},
    )
    db.session.flush()
    return ImportReport(version, loaded=True, divisions=len(rows), levels=levels)


def list_division_lists(actor: Actor, request: PageRequest) -> Page[DivisionList]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    return fetch_page(select(DivisionList).order_by(DivisionList.version), request)


def list_divisions(actor: Actor, version: str, parent: str | None, request: PageRequest) -> Page[Division]:
    """The children of ``parent`` in a list, or its provinces (the top level) without one."""
    authorize(actor, Permission.READ_REFERENCE_DATA)
    if not VERSION_NAME.fullmatch(version) or db.session.get(DivisionList, version) is None:
        raise NotFound.thing("division list", repr(version))
    statement = select(Division).where(Division.list_version == version)
    if parent is None:
        statement = statement.where(Division.parent_code.is_(None))
    else:
        if not is_division_code(parent):
            raise ValidationFailed.field("parent", translatable("must be 12 ASCII digits"))
        if db.session.get(Division, (version, parent)) is None:
            raise NotFound.thing("division", repr(parent))
        statement = statement.where(Division.parent_code == parent)
    return fetch_page(statement.order_by(Division.code), request)
