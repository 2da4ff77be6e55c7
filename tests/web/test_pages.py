"""The pages' guarantees, checked over every route of the URL map (no browser needed)."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask

from ledger.demo import DEMO_PASSWORD
from ledger.web.views.admin import SECTIONS as ADMIN_PAGES
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client, table_counts

PUBLIC = {"/login", "/language/<code>", "/static/<path:filename>"}


def _web_routes(app: Flask, method: str) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        # /public is the open-data publication, for everyone (tests/exports/test_publication.py).
        if not rule.rule.startswith(("/api/", "/public/"))
        and method in (rule.methods or set())
        and rule.rule not in PUBLIC
    )


def _concrete(rule: str) -> str:
    return re.sub(r"<(?:uuid:)?[a-z_]+>", str(uuid.uuid4()), re.sub(r"<int:[a-z_]+>", "1", rule))


def test_every_page_needs_a_signed_in_person(app: Flask, world: DemoWorld) -> None:
    client = app.test_client()
    routes = _web_routes(app, "GET")
    assert "/" in routes
    for rule in routes:
        response = client.get(_concrete(rule))
        assert response.status_code == 302, rule
        assert response.headers["Location"].startswith("/login?next="), rule


def test_every_form_post_without_its_csrf_token_is_refused(app: Flask, world: DemoWorld) -> None:
    admin = signed_in_client(app, "admin")
    before = table_counts(app)
    routes = _web_routes(app, "POST")
    assert "/logout" in routes
    for rule in routes:
        for data in ({}, {"csrf_token": "forged"}):
            response = admin.post(_concrete(rule), data=data)
            assert response.status_code == 400, rule
            assert response.mimetype == "text/html"
    assert table_counts(app) == before
    # The login form is protected too.
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "admin", "password": DEMO_PASSWORD}).status_code == 400


@pytest.mark.parametrize("username", ["member01", "finance1", "auditor", "admin"])
def test_every_form_on_every_main_page_carries_the_token(app: Flask, world: DemoWorld, username: str) -> None:
    client = signed_in_client(app, username)
    pages = ["/", "/coverage", "/queue", "/audit", "/audit/entries"] + [f"/admin/{s}" for s in ADMIN_PAGES]
    home = client.get("/").get_data(as_text=True)
    pages += sorted(set(re.findall(r'href="(/funds/[0-9a-f-]{36})"', home)))
    checked = 0
    for path in pages:
        response = client.get(path)
        if response.status_code != 200:
            assert response.status_code == 403, path
            continue
        html = response.get_data(as_text=True)
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, flags=re.S):
            assert 'name="csrf_token"' in form, (path, form[:200])
            checked += 1
        # Every input has a label (or is hidden): usable by keyboard and screen reader.
        for field_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html):
            assert f'for="{field_id}"' in html, (path, field_id)
        assert "<script" not in html
    assert checked > 0


def test_headers_and_the_session_cookie(app: Flask, world: DemoWorld) -> None:
    client = app.test_client()
    page = client.get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    response = client.post(
        "/login",
        data={"username": "member01", "password": DEMO_PASSWORD, "csrf_token": csrf_token_of(client)},
    )
    cookie = response.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie


def test_signing_out_ends_the_session_for_good(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "member01")
    cookie = client.get_cookie("ledger_session")
    assert cookie is not None
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token_of(client, "/")})
    assert client.get("/").status_code == 302
    # The old cookie, replayed, no longer signs anyone in: its token was revoked.
    replay = app.test_client()
    replay.set_cookie("ledger_session", cookie.value)
    assert replay.get("/").status_code == 302


def test_wrong_passwords_are_throttled_and_next_is_never_elsewhere(app: Flask, world: DemoWorld) -> None:
    client = app.test_client()
    statuses = []
    for _ in range(7):
        response = client.post(
            "/login",
            data={"username": "member02", "password": "wrong", "csrf_token": csrf_token_of(client)},
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429
    assert "秒后再试" in client.post(
        "/login",
        data={"username": "member02", "password": DEMO_PASSWORD, "csrf_token": csrf_token_of(client)},
    ).get_data(as_text=True)
    other = app.test_client()
    response = other.post(
        "/login",
        data={
            "username": "member03",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_token_of(other),
            "next": "https://evil.example/",
        },
    )
    assert response.headers["Location"] == "/"


def test_error_pages_say_what_to_do_next(app: Flask, world: DemoWorld) -> None:
    client = signed_in_client(app, "member01")
    missing = client.get(f"/reports/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.mimetype == "text/html"
    assert "首页" in missing.get_data(as_text=True)
    assert "Traceback" not in missing.get_data(as_text=True)
    nowhere = client.get("/no/such/page")
    assert nowhere.status_code == 404
    assert nowhere.mimetype == "text/html"
    # The API keeps answering in problem+json.
    assert client.get("/api/v1/no/such").mimetype == "application/problem+json"


def test_only_an_admin_rotates_the_signing_key(app: Flask, world: DemoWorld) -> None:
    for username in ("finance1", "auditor", "member01"):
        client = signed_in_client(app, username)
        before = table_counts(app)
        response = client.post("/admin/signing-key/rotate", data={"csrf_token": csrf_token_of(client, "/")})
        assert response.status_code == 403, username
        assert table_counts(app) == before
    admin = signed_in_client(app, "admin")
    keys_before = len(admin.get("/admin/keys").get_data(as_text=True).split('class="hash"'))
    assert (
        admin.post("/admin/signing-key/rotate", data={"csrf_token": csrf_token_of(admin, "/")}).status_code
        == 302
    )
    assert len(admin.get("/admin/keys").get_data(as_text=True).split('class="hash"')) == keys_before + 1


def test_an_admin_changes_a_role_and_disables_a_user(app: Flask, world: DemoWorld) -> None:
    member = signed_in_client(app, "member05")
    assert member.get("/").status_code == 200
    admin = signed_in_client(app, "admin")
    user_id = next(
        u["id"]
        for u in admin.get("/api/v1/users", headers=world.auth("admin")).get_json()
        if u["username"] == "member05"
    )
    token = csrf_token_of(admin, "/")
    assert (
        admin.post(f"/admin/users/{user_id}", data={"csrf_token": token, "is_active": "false"}).status_code
        == 302
    )
    # Their session ends at once: the token it held was revoked.
    assert member.get("/").status_code == 302
    response = admin.post(f"/admin/users/{user_id}", data={"csrf_token": token, "role": "wizard"})
    assert response.status_code == 422
    assert (
        admin.post(
            f"/admin/users/{user_id}", data={"csrf_token": token, "role": "auditor", "is_active": "true"}
        ).status_code
        == 302
    )
    listed = {u["username"]: u for u in admin.get("/api/v1/users", headers=world.auth("admin")).get_json()}
    assert listed["member05"]["role"] == "auditor"
    assert listed["member05"]["is_active"] is True


def test_a_finance_officer_voids_an_approved_report_on_its_page(app: Flask, funded_world: DemoWorld) -> None:
    """The page calls the same service as the API: the reason is required, then the report is voided."""
    from sqlalchemy import select

    from ledger.extensions import db
    from ledger.models import ExpenseReport

    with app.app_context():
        report = db.session.scalars(select(ExpenseReport).where(ExpenseReport.status == "approved")).first()
        assert report is not None
        report_id, version = report.id, report.version
    officer = signed_in_client(app, "finance2")
    page = officer.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'id="void"' in page
    before = table_counts(app)
    form = {
        "csrf_token": csrf_token_of(officer, f"/reports/{report_id}"),
        "version": str(version),
        "date": "2026-07-01",
    }
    refused = officer.post(f"/reports/{report_id}/void", data={**form, "reason": " "})
    assert refused.status_code == 422
    assert table_counts(app) == before
    voided = officer.post(f"/reports/{report_id}/void", data={**form, "reason": "重复报销"})
    assert voided.status_code == 302, voided.get_data(as_text=True)[:300]
    with app.app_context():
        assert db.session.get(ExpenseReport, report_id).status == "voided"  # type: ignore[union-attr]


@pytest.mark.parametrize("version", ["x", "", "1e3", "９", "1" * 30])
def test_a_tampered_version_on_a_report_form_is_a_422_and_changes_nothing(
    app: Flask, funded_world: DemoWorld, version: str
) -> None:
    from sqlalchemy import select

    from ledger.extensions import db
    from ledger.models import ExpenseReport

    with app.app_context():
        by_status = {r.status: str(r.id) for r in db.session.scalars(select(ExpenseReport))}
    member, officer = signed_in_client(app, "member01"), signed_in_client(app, "finance1")
    forms = [
        (member, by_status["draft"], "lines/1/remove", {}),
        (member, by_status["draft"], "submit", {}),
        (
            member,
            by_status["draft"],
            "lines",
            {
                "category_code": "OFFICE",
                "amount": "1.00",
                "incurred_on": "2026-05-06",
                "payee": "晨光文具",
                "description": "文具 stationery",
            },
        ),
        (officer, by_status["submitted"], "decide", {"decision": "approve"}),
        (officer, by_status["approved"], "void", {"date": "2026-11-02", "reason": "duplicate"}),
    ]
    before = table_counts(app)
    for client, report, action, fields in forms:
        token = csrf_token_of(client, f"/reports/{report}")
        response = client.post(
            f"/reports/{report}/{action}", data={**fields, "version": version, "csrf_token": token}
        )
        assert response.status_code == 422, (action, response.status_code)
        assert "页面已过期：请刷新后重试" in response.get_data(as_text=True), action
    assert table_counts(app) == before
