"""The auditor's entries browser: events in words, names, the change before and after, filters, scope."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from ledger.extensions import db
from ledger.models.audit import AuditEntry
from ledger.services.audit_browse import ACTION_WORDS
from ledger.services.audit_changes import FIELD_NAMES, UNSHOWN
from tests.conftest import DemoWorld
from tests.helpers import signed_in_client

SERVICES = Path(__file__).resolve().parents[2] / "ledger" / "services"

# The actions recorded with a name made up when recorded, as each can come out.
MADE_UP = {
    "fund.": {"fund.activated", "fund.suspended", "fund.resumed", "fund.closed"},
    "budget_revision.": {"budget_revision.approved", "budget_revision.rejected"},
    "expense_report.": {"expense_report.returned", "expense_report.rejected"},
    "period.": {"period.closed", "period.reopened"},
}


def recorded_actions() -> tuple[set[str], set[str]]:
    """The action names the services record, and the prefixes of those made up when recorded."""
    names, prefixes = set(), set()
    for path in SERVICES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") in {"record_state", "record_event"}
            ):
                continue
            action = node.args[1]
            if isinstance(action, ast.Constant):
                names.add(action.value)
            for part in ast.walk(action):
                if isinstance(part, ast.JoinedStr):
                    first = part.values[0]
                    prefixes.add(str(first.value) if isinstance(first, ast.Constant) else "")
    return names, prefixes


def test_every_action_the_services_record_has_words() -> None:
    names, prefixes = recorded_actions()
    assert len(names) > 40
    assert prefixes == set(MADE_UP), "a new made-up action name: list what it can be in MADE_UP"
    missing = (names | set().union(*MADE_UP.values())) - set(ACTION_WORDS)
    assert not missing


def test_entries_read_as_words_with_names_and_the_change(app: Flask, funded_world: DemoWorld) -> None:
    client = signed_in_client(app, "auditor")
    html = client.get("/audit/entries?kind=fund").get_data(as_text=True)
    assert "起草了资金" in html
    assert "启用了资金" in html
    assert "fund.drafted" not in re.sub(r"<details.*?</details>", "", html, flags=re.S)
    # The change: the fund's status before and after it was activated, by field name in Chinese.
    assert re.search(r'<th scope="row">状态</th><td class="before">[^<]*</td><td class="after">', html)
    # The raw entry is one click away.
    assert "原始记录（JSON）" in html
    assert "&#34;action&#34;" not in html.split("<details")[0]
    # Only fund entries are shown.
    assert "新增了社区" not in html


def test_the_kind_and_dates_are_checked_by_the_schema(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "auditor")
    assert client.get("/audit/entries?kind=nonsense").status_code == 422
    response = client.get("/audit/entries?date_from=2026-02-01&date_to=2026-01-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "不能早于开始日期" in html
    future = client.get("/audit/entries?date_from=2000-01-01&date_to=2000-01-02").get_data(as_text=True)
    assert "没有符合条件的记录" in future or "No entries match" in future or '<td colspan="4">' in future


def test_a_scoped_reader_sees_their_area_only(app: Flask, world: DemoWorld) -> None:
    everyone = signed_in_client(app, "auditor").get("/audit/entries?kind=community").get_data(as_text=True)
    scoped = (
        signed_in_client(app, "jiangan.supervisor")
        .get("/audit/entries?kind=community")
        .get_data(as_text=True)
    )
    assert "城关社区" in everyone
    assert "百步亭花园社区" in scoped
    assert "城关社区" not in scoped


def test_report_lines_and_comments_read_as_a_reader_says_them(app: Flask, funded_world: DemoWorld) -> None:
    client = signed_in_client(app, "auditor")
    html = client.get("/audit/entries?kind=expense_report").get_data(as_text=True)
    shown = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    # The demo's Q1 report of the elders' fund: its first line, and the comment of the report the
    # officer returned, with the officer's name (ledger/demo_funds.py).
    assert "直接服务活动费 3,200.00 武汉康乐家政服务有限公司 2026-03-12" in shown
    assert "财务专员甲 Finance Officer One: 请补充签到表 please attach the sign-in sheet" in shown
    assert "ACTIVITY" not in shown
    # Links between rows and digests are not rows of the change table; the raw entry keeps them.
    for field in ("organisation_id", "fund_id", "receipt_sha256", "stored_sha256", '"amount"'):
        assert field not in shown, field


def test_codes_in_a_change_read_as_words_in_the_readers_language(app: Flask, funded_world: DemoWorld) -> None:
    client = signed_in_client(app, "auditor")
    chinese = client.get("/audit/entries?kind=fund").get_data(as_text=True)
    chinese = re.sub(r"<details.*?</details>", "", chinese, flags=re.S)
    # The elders' fund as created: its kind, its banned category and its status in words.
    assert "彩票公益金资助" in chinese
    assert "筹资费用" in chinese
    assert '<th scope="row">不得列支的类别</th>' in chinese
    for code in ("lottery_grant", "FUNDRAISING", "banned_categories", "admin_cost_cap_bp"):
        assert code not in chinese, code
    client.get("/language/en")
    english = client.get("/audit/entries?kind=fund").get_data(as_text=True)
    english = re.sub(r"<details.*?</details>", "", english, flags=re.S)
    assert "Fundraising costs" in english
    assert "lottery grant" in english
    assert '<th scope="row">Categories not allowed</th>' in english


def test_every_field_the_demo_trail_records_has_a_name(app: Flask, funded_world: DemoWorld) -> None:
    """A change table never shows a field as the trail spells it (``credit_code``)."""
    with app.app_context():
        recorded: set[str] = set()
        for canonical in db.session.scalars(select(AuditEntry.canonical)):
            data = json.loads(bytes(canonical)).get("data")
            if isinstance(data, dict):
                state = data.get("state") if "state" in data else data
                recorded |= set(state or {}) - {"rows"}
    unnamed = recorded - set(FIELD_NAMES) - UNSHOWN
    assert not unnamed, sorted(unnamed)
    assert {"status", "credit_code", "banned_categories", "lines"} <= recorded
