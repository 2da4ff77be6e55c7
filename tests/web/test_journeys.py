"""Each role's main journey in a real Chromium: file, return, fix, approve, pay, verify, download."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import expect

from ledger.demo import DEMO_PASSWORD
from tests.builders import ADJUSTMENT, added_organisation, fund_with_schedule, receipt_pdf
from tests.conftest import DemoWorld

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")


class Person:
    """One role's browser tab, signed in."""

    def __init__(self, browser: Any, base: str, username: str, shots: Path) -> None:
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base, self.username, self.shots = base, username, shots
        self.page.goto(f"{base}/login")
        self.page.get_by_label(re.compile("用户名|Username")).fill(username)
        self.page.get_by_label(re.compile("密码|Password")).fill(DEMO_PASSWORD)
        self.page.get_by_role("button", name=re.compile("登录|Sign in")).click()
        self.page.wait_for_url(f"{base}/")

    def go(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def _add_line(
    page: Any, category: str, amount: str, payee: str, description: str, receipt: Path | None
) -> None:
    page.select_option("#category_code", category)
    page.fill("#amount", amount)
    page.fill("#incurred_on", "2026-03-10")
    page.fill("#payee", payee)
    page.fill("#description", description)
    if receipt is not None:
        page.set_input_files("#receipt", str(receipt))
    page.get_by_role("button", name=re.compile("^(添加明细|Add a line)$")).click()


def test_the_whole_journey(
    browser: Any, live_server: str, client: FlaskClient, world: DemoWorld, screenshots: Path, tmp_path: Path
) -> None:
    fund = fund_with_schedule(client, world)
    receipts = []
    for n in range(3):
        path = tmp_path / f"发票-{n}.pdf"
        path.write_bytes(receipt_pdf())
        receipts.append(path)

    # An organisation member files a report line by line, with receipts.
    member = Person(browser, live_server, "member01", screenshots)
    member.shot("member-home")
    page = member.page
    expect(page.locator("body")).to_contain_text("社区居家养老服务项目")
    page.get_by_role("link", name=re.compile("社区居家养老服务项目")).first.click()
    page.fill("#report-title", "三月报销 March")
    page.get_by_role("button", name=re.compile("^(创建|Create)$")).click()
    page.wait_for_url(re.compile(r"/reports/"))
    report_url = page.url
    _add_line(page, "ACTIVITY", "3200.00", "康乐家政", "上门助浴服务 bathing visits", receipts[0])
    # A mistake gets a message that says exactly what is wrong, at the field.
    _add_line(page, "OFFICE", "12.345", "晨光文具", "打印纸 paper", None)
    expect(page.locator("#error-amount")).to_be_visible()
    assert "12.345" in page.input_value("#amount")
    member.shot("member-report-inline-error")
    page.fill("#amount", "300.00")
    page.set_input_files("#receipt", str(receipts[1]))
    page.get_by_role("button", name=re.compile("^(添加明细|Add a line)$")).click()
    expect(page.locator("#lines table >> text=3,200.00")).to_have_count(1)
    member.shot("member-report-draft")
    page.get_by_role("button", name=re.compile("提交审核|Submit for approval")).click()
    expect(page.locator("body")).to_contain_text("待审核")

    # A finance officer finds it in the queue and returns it with a comment.
    officer = Person(browser, live_server, "finance1", screenshots)
    officer.go("/queue")
    officer.shot("finance-queue")
    officer.page.get_by_role("link", name="三月报销 March").click()
    officer.shot("finance-report-review")
    officer.page.fill("#comment", "办公费请附说明 explain the office costs")
    officer.page.get_by_role("button", name=re.compile("退回修改|Return")).click()

    # The member sees why, fixes the report and submits again.
    page.goto(report_url)
    expect(page.locator("body")).to_contain_text("办公费请附说明")
    expect(page.locator("body")).to_contain_text("已退回")
    page.get_by_role("button", name=re.compile("删除 2|Remove 2")).click()
    _add_line(page, "OFFICE", "250.00", "晨光文具", "活动记录表印制 record forms", receipts[2])
    page.get_by_role("button", name=re.compile("提交审核|Submit for approval")).click()
    expect(page.locator("body")).to_contain_text("待审核")

    # The officer approves it.
    officer.page.goto(report_url)
    officer.page.get_by_role("button", name=re.compile("^(审核通过|Approve)$")).click()
    officer.page.wait_for_url(re.compile("/queue"))
    page.goto(report_url)
    expect(page.locator("body")).to_contain_text("已批准")

    # A disbursement: prepared by one officer, approved by another, marked paid.
    officer.go(f"/funds/{fund['id']}")
    officer.page.select_option("#d-tranche", index=1)
    officer.page.fill("#d-amount", "40000.00")
    officer.page.fill("#d-memo", "第一期拨款 first tranche")
    officer.page.get_by_role("button", name=re.compile("准备拨付|Prepare")).click()
    expect(officer.page.locator("#disbursements")).to_contain_text("待批准")
    # The preparer is offered no Approve button: separation of duties.
    assert (
        officer.page.locator("#disbursements")
        .get_by_role("button", name=re.compile("^(批准|Approve)$"))
        .count()
        == 0
    )
    second = Person(browser, live_server, "finance2", screenshots)
    second.go(f"/funds/{fund['id']}")
    second.page.locator("#disbursements").get_by_role("button", name=re.compile("^(批准|Approve)$")).click()
    officer.go(f"/funds/{fund['id']}")
    officer.page.fill("input[name=bank_reference]", "ICBC-20260316-001")
    officer.page.get_by_role("button", name=re.compile("登记已付款|Mark paid")).click()
    expect(officer.page.locator("#disbursements")).to_contain_text("已付款")
    officer.shot("finance-fund")

    # The member's dashboard shows the money received and the budget used.
    member.go("/")
    expect(page.locator("body")).to_contain_text("¥40,000.00")
    expect(page.locator("body")).to_contain_text("¥3,200.00")
    member.shot("member-home-after")

    # The auditor verifies the trail and downloads the attestation and a statement.
    auditor = Person(browser, live_server, "auditor", screenshots)
    auditor.go("/audit")
    auditor.page.get_by_role("button", name=re.compile("立即验证|Verify now")).click()
    expect(auditor.page.locator("body")).to_contain_text("验证通过")
    auditor.shot("auditor-verified")
    with auditor.page.expect_download() as download:
        auditor.page.get_by_role("button", name=re.compile("下载验证证明|attestation")).click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    auditor.go(f"/funds/{fund['id']}")
    with auditor.page.expect_download() as download:
        auditor.page.get_by_role("button", name=re.compile("资金使用情况表")).click()
    statement = Path(download.value.path()).read_bytes()
    assert statement.startswith(b"%PDF-")
    auditor.go("/audit/entries?kind=expense_report")
    expect(auditor.page.locator("body")).to_contain_text("审核通过了报销单")
    auditor.shot("auditor-entries")
    auditor.page.locator("details.raw summary").first.click()
    auditor.page.get_by_role("link", name=re.compile("包含证明|Inclusion proof")).first.click()
    assert auditor.page.locator("ol.hashes li").count() >= 1

    for person in (member, officer, second, auditor):
        person.close()


def test_a_member_cannot_open_another_organisations_report(
    browser: Any, live_server: str, client: FlaskClient, world: DemoWorld, screenshots: Path
) -> None:
    fund = fund_with_schedule(client, world)
    report = client.post(
        f"/api/v1/funds/{fund['id']}/expense-reports",
        json={"title": "私有 private"},
        headers=world.keyed("member01"),
    ).get_json()
    stranger = Person(browser, live_server, "member02", screenshots)
    response = stranger.page.goto(f"{live_server}/reports/{report['id']}")
    assert response is not None
    assert response.status == 403
    assert "私有" not in stranger.page.content()
    assert "首页" in stranger.page.content()  # the page says where to go next
    stranger.shot("error-403")
    response = stranger.page.goto(f"{live_server}/funds/{fund['id']}")
    assert response is not None
    assert response.status == 403
    stranger.close()


def test_a_form_without_its_csrf_token_is_refused(
    browser: Any, live_server: str, client: FlaskClient, world: DemoWorld, screenshots: Path
) -> None:
    fund = fund_with_schedule(client, world)
    member = Person(browser, live_server, "member01", screenshots)
    member.go(f"/funds/{fund['id']}")
    before = client.get(
        f"/api/v1/funds/{fund['id']}/expense-reports", headers=world.auth("member01")
    ).get_json()
    # The same form, its token blanked, as a forged cross-site post would arrive.
    member.page.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'forged')"
    )
    member.page.fill("#report-title", "伪造 forged")
    member.page.get_by_role("button", name=re.compile("^(创建|Create)$")).click()
    expect(member.page.locator("body")).to_contain_text("400")
    member.shot("error-csrf")
    after = client.get(
        f"/api/v1/funds/{fund['id']}/expense-reports", headers=world.auth("member01")
    ).get_json()
    assert after == before
    member.close()


def test_the_language_switch(browser: Any, live_server: str, world: DemoWorld, screenshots: Path) -> None:
    member = Person(browser, live_server, "member01", screenshots)
    assert member.page.locator("nav >> text=首页").count() == 1
    member.page.get_by_role("link", name="English").click()
    expect(member.page.locator("nav >> text=Home")).to_have_count(1)
    expect(member.page.locator("html")).to_have_attribute("lang", "en")
    member.go("/coverage")
    assert "Community coverage" in member.page.content()
    member.shot("coverage-en")
    member.page.set_viewport_size({"width": 390, "height": 844})
    member.shot("coverage-narrow")
    member.page.get_by_role("link", name="中文").click()
    expect(member.page.locator("html")).to_have_attribute("lang", "zh-Hans")
    member.close()


def test_a_budget_revision_and_a_month_closed_in_the_browser(
    browser: Any, live_server: str, client: FlaskClient, world: DemoWorld, screenshots: Path
) -> None:
    fund = fund_with_schedule(client, world)
    member = Person(browser, live_server, "member01", screenshots)
    member.go(f"/funds/{fund['id']}")
    # 20,000.00 of a 100,000.00 award is over the 10% threshold: a finance officer must approve.
    member.page.select_option("#r-from", "ACTIVITY")
    member.page.select_option("#r-to", "PERSONNEL")
    member.page.fill("#r-amount", "20000.00")
    member.page.fill("#r-reason", "增加社工人手 more social workers")
    member.page.get_by_role("button", name=re.compile("提出调整|Propose")).click()
    expect(member.page.locator("#revisions >> text=待批准")).to_have_count(1)
    officer = Person(browser, live_server, "finance1", screenshots)
    officer.go(f"/funds/{fund['id']}")
    officer.page.locator("#revisions").get_by_role("button", name=re.compile("^(批准|Approve)$")).click()
    expect(officer.page.locator("#revisions >> text=已批准")).to_have_count(1)
    officer.shot("finance-revision-approved")
    budget = client.get(f"/api/v1/funds/{fund['id']}/budget", headers=world.auth("auditor")).get_json()
    assert budget["lines"]["PERSONNEL"] == "50000.00"

    # The month's books: a closing in the browser, then the trial balance still balances.
    organisation = world.member_organisation["member01"]
    posted = client.post(
        f"/api/v1/organisations/{organisation}/journal-entries",
        json=ADJUSTMENT,
        headers=world.keyed("finance1"),
    )
    assert posted.status_code == 201
    officer.go(f"/organisations/{organisation}/books?as_of=2026-12-31")
    # Closing asks first, showing the month's figures, then closes.
    officer.page.get_by_role("link", name=re.compile("^(结账|Close)…$")).first.click()
    officer.shot("finance-month-close-confirm")
    officer.page.get_by_role("button", name=re.compile("^(结账|Close) ")).click()
    expect(officer.page.locator("body")).to_contain_text("已结账")
    expect(officer.page.locator("body")).to_contain_text("借贷平衡")
    officer.shot("finance-books")
    member.close()
    officer.close()


def test_an_admin_sets_up_a_fund_in_the_browser(
    browser: Any, live_server: str, client: FlaskClient, world: DemoWorld, screenshots: Path
) -> None:
    admin = Person(browser, live_server, "admin", screenshots)
    page = admin.go("/admin/funds")
    page.select_option("#f-kind", "incubation_fund")
    page.fill("#f-title", "社区公益创投 Community venture fund")
    page.fill("#f-reference", "WEB-2026-001")
    page.fill("#f-funder", "区民政局 District Civil Affairs")
    page.fill("#f-award", "50000.00")
    page.fill("#f-start", "2026-01-01")
    page.fill("#f-end", "2026-12-31")
    page.fill("#f-awarded", "2025-12-20")
    page.fill("#f-cap", "10")
    page.fill("#f-purpose", "社区服务 community services")
    page.get_by_role("button", name=re.compile("^(创建|Create)$")).last.click()
    page.wait_for_url(re.compile(r"/funds/.+#setup"))
    page.fill("#line-ACTIVITY", "40000.00")
    page.fill("#line-OFFICE", "10000.00")
    page.locator("#setup form").first.get_by_role("button", name=re.compile("^(保存|Save)$")).click()
    page.fill("#amount-1", "50000.00")
    page.fill("#due-1", "2026-02-01")
    page.locator("#setup form").nth(1).get_by_role("button", name=re.compile("^(保存|Save)$")).click()
    assert page.input_value("#amount-1") == "50000.00"
    admin.shot("admin-fund-setup")
    page.get_by_role("button", name=re.compile("^(启用|Activate)$")).click()
    expect(page.locator("body")).to_contain_text("执行中")
    # A wrong credit code is named, at its field, with the character that is wrong.
    page = admin.go("/admin/organisations")
    page.fill("#o-name", "测试组织 Test organisation")
    page.fill("#o-code", "51420000MJH200395X")
    page.get_by_role("button", name=re.compile("^(创建|Create)$")).first.click()
    expect(page.locator("#error-credit_code")).to_be_visible()
    admin.shot("admin-credit-code-error")
    funds = client.get("/api/v1/funds?page_size=100", headers=world.auth("admin")).get_json()
    made = [f for f in funds if f["reference"] == "WEB-2026-001"]
    assert len(made) == 1
    assert made[0]["status"] == "active"
    assert made[0]["awarded_on"] == "2025-12-20"
    admin.close()


def test_coverage_drilled_down_in_the_browser(
    browser: Any, live_server: str, client: FlaskClient, world: DemoWorld, screenshots: Path
) -> None:
    # 双泉村 (rural, target 5) reaches its target: 木兰乡 1 of 2, 黄陂区 1 of 3.
    for serial, kind in enumerate(("social_group", "social_group", "foundation"), start=1):
        added_organisation(client, world, world.community_ids[4], kind, serial)
    admin = Person(browser, live_server, "admin", screenshots)
    page = admin.go("/coverage?node=420100000000")
    assert page.locator("svg.coverage-chart rect.filled").count() == 2
    admin.shot("coverage-city-zh")
    page.get_by_role("link", name="黄陂区", exact=True).first.click()
    page.wait_for_url(re.compile(r"node=420116000000"))
    expect(page.locator("body")).to_contain_text("33.3%")
    page.locator("table.coverage").get_by_role("link", name="木兰乡").click()
    page.wait_for_url(re.compile(r"node=420116200000"))
    expect(page.locator("svg.coverage-chart line.target")).to_have_count(2)
    assert "✓" in page.locator("table.coverage").inner_text()
    admin.shot("coverage-township-zh")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载 XLSX").click()
    assert download.value.suggested_filename.startswith("coverage-420116200000-")
    page.set_viewport_size({"width": 390, "height": 844})
    admin.shot("coverage-township-zh-phone")
    page.get_by_role("link", name="English").click()
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(page.locator("body")).to_contain_text("Community coverage")
    admin.shot("coverage-township-en")
    page.set_viewport_size({"width": 390, "height": 844})
    admin.shot("coverage-township-en-phone")
    admin.go("/coverage?node=420100000000")
    admin.shot("coverage-city-en-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    admin.shot("coverage-city-en")
    admin.close()
