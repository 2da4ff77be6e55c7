"""Every page each role can reach, in a real Chromium, on a phone: it fits, it reads in Chinese,
and axe-core finds no serious or critical WCAG 2.1 A/AA problem.

The pages are found the way a person finds them: from the home page, following the links on each
page (never a form, so nothing changes), one page per kind of address. Screenshots go to
build/screenshots/pages/ for a person to look at.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from ledger.extensions import db
from ledger.models.community import Community
from ledger.models.expense_report import ExpenseReport
from ledger.models.fund import Fund
from ledger.models.organisation import Organisation
from ledger.models.user import User
from tests.conftest import DemoWorld, is_postgres
from tests.web.browsing import (
    AXE_SCRIPT,
    DESKTOP,
    PHONE,
    axe_violations,
    english_labels,
    horizontal_overflow,
    signed_in_page,
    squeezed_cells,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium"),
    pytest.mark.skipif(not AXE_SCRIPT.exists(), reason="axe-core is installed by `make setup` (npm ci)"),
    # What a page looks like does not depend on the database: checked once, on the SQLite run
    # (the journeys still run on both).
    pytest.mark.skipif(is_postgres(), reason="layout and accessibility are checked on the SQLite run"),
]

# One person of each role, and the staff of a part of the tree.
PEOPLE = ["member01", "finance1", "finance2", "auditor", "admin", "jiangan.supervisor", "huangpi.admin"]
# Links that are not pages: downloads, the language switch, the API, files.
NOT_PAGES = re.compile(r"^/(language|api|static|receipts)/|\.\w+$")
ID = re.compile(r"/([0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{32,64}|\d+)(?=/|$)")
PAGES_PER_PERSON = 40
# Reports look different in each state (a form to fill, one to review, one to read): a few of them.
PAGES_OF_A_KIND = {"/reports/*": 4}


def _kind(path: str, query: str) -> str:
    """Addresses that differ only in an id or a number are the same kind of page."""
    keys = sorted(part.split("=")[0] for part in query.split("&") if part)
    return ID.sub("/*", path) + ("?" + "&".join(keys) if keys else "")


def _links(page: Any, base: str) -> list[str]:
    hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]:not([download])')).map(a => a.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" == base and not NOT_PAGES.search(parts.path):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _crawl(page: Any, base: str) -> list[str]:
    """The pages reachable by links from the home page, one per kind, in the order found."""
    seen_kinds: Counter[str] = Counter()
    queue, visited = ["/"], []
    while queue and len(visited) < PAGES_PER_PERSON:
        address = queue.pop(0)
        path, _, query = address.partition("?")
        kind = _kind(path, query)
        if address in visited or seen_kinds[kind] >= PAGES_OF_A_KIND.get(kind, 1):
            continue
        seen_kinds[kind] += 1
        response = page.goto(base + address)
        assert response is not None, address
        assert response.status == 200, f"{address}: {response.status}"
        visited.append(address)
        queue.extend(_links(page, base))
    return visited


def _names_people_gave(world: DemoWorld) -> set[str]:
    """Titles and names typed into the demo, which are in both languages on purpose."""
    with world.app.app_context():
        return {
            *db.session.scalars(select(Fund.title)),
            *db.session.scalars(select(ExpenseReport.title)),
            *db.session.scalars(select(Organisation.name)),
            *db.session.scalars(select(Community.name)),
            *(n for n in db.session.scalars(select(User.display_name)) if n),
        }


@pytest.mark.parametrize("username", PEOPLE)
def test_every_page_fits_a_phone_reads_in_chinese_and_passes_axe(
    browser: Any, live_server: str, funded_world: DemoWorld, screenshots: Path, username: str
) -> None:
    names = _names_people_gave(funded_world)
    page = signed_in_page(browser, live_server, username, lang="zh", viewport=PHONE)
    shots = screenshots / "pages"
    shots.mkdir(exist_ok=True)
    problems: list[str] = []
    try:
        addresses = _crawl(page, live_server)
        assert len(addresses) >= 5, addresses
        print(f"{username}: {len(addresses)} pages: {addresses}")
        for address in addresses:
            page.goto(live_server + address)
            name = re.sub(r"[^\w.-]+", "_", _kind(*address.partition("?")[::2]).strip("/")) or "home"
            page.screenshot(path=str(shots / f"{username}-{name}-zh-phone.png"), full_page=True)
            overflow, sticking_out = horizontal_overflow(page)
            if overflow > 1:
                problems.append(f"{address}: {overflow}px wider than a phone: {sticking_out}")
            problems += [f"{address}: a squeezed table cell: {cell}" for cell in squeezed_cells(page)]
            problems += [
                f"{address}: English on a Chinese page: {text!r}" for text in english_labels(page, names)
            ]
            problems += [f"{address}: {violation}" for violation in axe_violations(page)]
    finally:
        page.context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("username", ["member01", "finance1", "admin"])
def test_the_main_pages_pass_axe_wide_and_in_english(
    browser: Any, live_server: str, funded_world: DemoWorld, screenshots: Path, username: str
) -> None:
    page = signed_in_page(browser, live_server, username, lang="en", viewport=DESKTOP)
    problems: list[str] = []
    try:
        signed_out = page.context.browser.new_context(viewport=DESKTOP, bypass_csp=True).new_page()
        signed_out.goto(f"{live_server}/login")
        problems += [f"/login: {violation}" for violation in axe_violations(signed_out)]
        signed_out.goto(f"{live_server}/no-such-page")
        problems += [f"a 404 page: {violation}" for violation in axe_violations(signed_out)]
        signed_out.context.close()
        for address in _crawl(page, live_server)[:12]:
            page.goto(live_server + address)
            problems += [f"{address}: {violation}" for violation in axe_violations(page)]
    finally:
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_checks_find_what_they_look_for(browser: Any) -> None:
    """The checks above can fail: on a page made with the faults, each one reports them."""
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    try:
        page.set_content(
            '<html lang="zh-Hans"><head><title>t</title></head><body><main>'
            '<h1>Expense reports</h1><p style="color:#999;background:#fff">待审核</p>'
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input id="x">'
            '<table style="width:900px"><tr><td>wide</td></tr></table></main></body></html>'
        )
        found = {violation.split(" ")[0] for violation in axe_violations(page)}
        assert {"color-contrast", "image-alt", "label"} <= found, found
        assert horizontal_overflow(page)[0] > 400
        assert english_labels(page) == ["Expense reports"]
        page.set_content(
            '<table style="width:60px"><tr><td>武汉康乐家政服务有限公司</td><td>1</td></tr></table>'
        )
        assert squeezed_cells(page) == ['TD "武汉康乐家政服务有限公司"']
    finally:
        context.close()
