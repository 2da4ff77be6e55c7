"""Small helpers shared by the tests."""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pypdf
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft4Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012
from sqlalchemy import event, func, select, text
from werkzeug.test import TestResponse

from ledger.demo import DEMO_PASSWORD
from ledger.extensions import db
from ledger.services import budget_revisions
from ledger.services.statement_figures.organisation import organisation_statement_figures
from ledger.statements.render import CheckpointStamp
from tests.conftest import is_postgres

if TYPE_CHECKING:
    from tests.conftest import DemoWorld

PROBLEM = "application/problem+json"


def keyed(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus a fresh Idempotency-Key, for a request that creates something."""
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}


@contextmanager
def counting_statements() -> Iterator[Callable[[], int]]:
    """The SQL statements sent inside the block up to its first commit, counted.

    Around one request: what the request itself sends (its final flush included), not what the
    audit sequencer appends after the commit. Call inside an app context.
    """
    statements: list[str] = []
    committed: list[bool] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not committed:
            statements.append(statement)

    def commit(_conn: object) -> None:
        committed.append(True)

    # The connection's commit, not the session's: releasing a savepoint is no commit.
    event.listen(db.engine, "before_cursor_execute", count)
    event.listen(db.engine, "commit", commit)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(db.engine, "commit", commit)
        event.remove(db.engine, "before_cursor_execute", count)


def count_rows(app: Flask, model: Any) -> int:
    """Rows in ``model``'s table."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def table_counts(app: Flask) -> dict[str, int]:
    """Rows in every table: compare before and after a refused request to prove nothing was written."""
    with app.app_context():
        return {
            table.name: int(db.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in db.metadata.sorted_tables
        }


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` naming each of ``fields``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("urn:community-fund-ledger:problem:")
    assert body["title"]
    assert body["detail"]
    for field in fields:
        assert field in body.get("errors", {}), body
    return body


def send_concurrently(
    app: Flask, send: Callable[[FlaskClient], TestResponse], count: int = 8
) -> list[TestResponse]:
    """``count`` requests sent by ``send`` at the same moment, each on its own client and thread."""
    start = threading.Barrier(count)
    responses: list[TestResponse] = []
    lock = threading.Lock()

    def attempt() -> None:
        own = app.test_client()
        start.wait()
        response = send(own)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def organisation_figures_between(
    app: Flask, organisation: str, start: str, end: str, currency: str = "CNY"
) -> dict[str, Any]:
    """The organisation statements' figures for ``organisation`` from ``start`` to ``end``."""
    with app.app_context():
        return organisation_statement_figures(
            uuid.UUID(organisation), date.fromisoformat(start), date.fromisoformat(end), currency
        )


def balance_sheet_text(figures: dict[str, Any], side: str, line: int) -> tuple[str, str]:
    """(opening, closing) of balance-sheet ``line`` on ``side``, as the figures write them."""
    row = next(r for r in figures["balance_sheet"][side] if r["line"] == line)
    return row["opening"], row["closing"]


def activity_text(figures: dict[str, Any], line: int) -> tuple[str, str, str]:
    """(unrestricted, restricted, total) of activity-statement ``line``, as the figures write them."""
    row = next(r for r in figures["activities"]["rows"] if r["line"] == line)
    return row["unrestricted"], row["restricted"], row["total"]


def checkpoint_stamp(document: dict[str, Any]) -> CheckpointStamp:
    """The checkpoint a statement says it was drawn from, as the renderer takes it."""
    stamp = document["checkpoint"]
    return CheckpointStamp(
        stamp["tree_size"],
        stamp["root_hash"],
        stamp["key_id"],
        datetime.fromisoformat(stamp["signed_at"]),
        stamp["origin"],
    )


def attached_statement(pdf: bytes) -> dict[str, Any]:
    """The figures a statement PDF carries as its one attachment, ``statement.json``."""
    attachments = pypdf.PdfReader(io.BytesIO(pdf)).attachments
    assert list(attachments) == ["statement.json"]
    return dict(json.loads(attachments["statement.json"][0]))


APPEND_ONLY = (
    "audit_entry",
    "merkle_node",
    "audit_checkpoint",
    "journal_entry",
    "posting",
    "budget_entry",
    "period_balance",
    "organisation_status_change",
)


@contextmanager
def triggers_bypassed(app: Flask) -> Iterator[None]:
    """Run the block with the append-only triggers out of the way, as a database superuser could."""
    with app.app_context():
        if is_postgres():
            for table in APPEND_ONLY:
                db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))
            yield
            for table in APPEND_ONLY:
                db.session.execute(text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only"))
                db.session.execute(text(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate"))
        else:
            rows = db.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in rows:
                db.session.execute(text(f"DROP TRIGGER {name}"))
            yield
            for _name, sql in rows:
                db.session.execute(text(sql))
        db.session.commit()


def tamper(app: Flask, *statements: str) -> None:
    """Run ``statements`` with the append-only triggers out of the way, as a database superuser could."""
    with triggers_bypassed(app):
        for statement in statements:
            db.session.execute(text(statement))


def csrf_token_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page's forms carry (the page at ``path``, fetched by ``client``)."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, path
    return match.group(1)


def signed_in_client(app: Flask, username: str, password: str | None = None) -> FlaskClient:
    """A browser-like test client signed in through the login page (the demo password by default)."""

    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password or DEMO_PASSWORD,
            "csrf_token": csrf_token_of(client),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def add_decisions_to_the_demo(world: DemoWorld) -> None:
    """What the demo lacks: a draft fund ready to activate, a prepared disbursement, and a
    revision over the threshold proposed by a finance officer (who may then not decide it)."""
    from ledger.database import unit_of_work
    from ledger.demo_funds import actor_named, cny
    from ledger.models.disbursement import DisbursementKind
    from ledger.models.fund import Fund, FundKind
    from ledger.services import disbursements, funds

    member01_organisation = uuid.UUID(world.member_organisation["member01"])
    with world.app.app_context(), unit_of_work():
        admin, finance1 = actor_named("admin"), actor_named("finance1")
        draft = funds.create_fund(
            admin,
            funds.FundTerms(
                kind=FundKind.INCUBATION_FUND,
                title="草稿资金 draft fund",
                reference="TEST-DRAFT-1",
                funder_name="区民政局",
                organisation_id=member01_organisation,
                award=cny("1000.00"),
                period_start=date(2026, 1, 1),
                period_end=date(2026, 12, 31),
                restriction_purpose="测试 a test",
            ),
            "test-draft",
        ).thing
        funds.set_draft_budget(admin, draft.id, {"ACTIVITY": cny("1000.00")})
        elders = db.session.scalars(select(Fund).where(Fund.reference == "FC-WH-2026-017")).one()
        disbursements.prepare_disbursement(
            finance1,
            elders.id,
            disbursements.DisbursementRequest(
                DisbursementKind.REIMBURSEMENT, cny("100.00"), "报销 reimbursement"
            ),
            "test-prepared",
        )
        budget_revisions.propose_budget_revision(
            finance1,
            elders.id,
            {"ACTIVITY": cny("-20000.00"), "PERSONNEL": cny("20000.00")},
            "财务提出的调整 proposed by a finance officer",
            "test-revision",
        )


# Demo people whose offered actions the tests compare with what the services accept: each staff
# role, members of three organisations, and staff holding their role at nodes of the tree (a
# street's finance officer, a district's supervisor, who reads and writes nothing, and a
# district's admin).
DEMO_PEOPLE = [
    "admin",
    "finance1",
    "finance2",
    "auditor",
    "member01",
    "member04",
    "member08",
    "houhu.finance1",
    "jiangan.supervisor",
    "huangpi.admin",
]


def line_form(page: str, token: str, **fields: object) -> dict[str, object]:
    """The report page's add-line form, filled as a member fills it, for the report ``page`` shows."""
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    return {
        "csrf_token": token,
        "version": version.group(1),
        "category_code": "ACTIVITY",
        "amount": "1,250.50",
        "incurred_on": "2026-03-10",
        "payee": "康乐家政",
        "description": "上门助浴服务",
        **fields,
    }


# --- The open-data standards' schemas -------------------------------------------------------

STANDARDS = Path(__file__).resolve().parents[1] / "schemas" / "standards"


def _standard(name: str) -> dict[str, Any]:
    return dict(json.loads((STANDARDS / name).read_text(encoding="utf-8")))


_OCDS_RELEASE = _standard("ocds-1.1-release-schema.json")
_GRANT = _standard("360-giving-schema.json")
_REGISTRY: Registry = Registry().with_resources(
    [
        (_OCDS_RELEASE["id"], Resource.from_contents(_OCDS_RELEASE, default_specification=DRAFT4)),
        (_GRANT["$id"], Resource.from_contents(_GRANT, default_specification=DRAFT202012)),
        # The 1.4.3 package schema refers to the grant schema by its 1.4.2 address.
        (
            "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json",
            Resource.from_contents(_GRANT, default_specification=DRAFT202012),
        ),
    ]
)


def ocds_package_errors(document: dict[str, Any]) -> list[str]:
    validator = Draft4Validator(_standard("ocds-1.1-release-package-schema.json"), registry=_REGISTRY)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def ocds_release_errors(release: dict[str, Any]) -> list[str]:
    validator = Draft4Validator(_OCDS_RELEASE, registry=_REGISTRY)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(release)]


def grant_package_errors(document: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(
        _standard("360-giving-package-schema.json"),
        registry=_REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
