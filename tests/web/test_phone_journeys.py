"""A member files a report and an officer approves it, on a phone (390 × 844), in Chinese.

What the issue asked to see with one's own eyes, asserted: "1,250.50" typed as the app shows it is
accepted; after a refused line every value and the attached receipt are still there, the problem
is shown at its field and in a summary at the top, in Chinese; each step is confirmed; the budget
percentages are shown; and no page is wider than the phone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.builders import receipt_pdf
from tests.conftest import DemoWorld
from tests.web.browsing import PHONE, horizontal_overflow, signed_in_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium"),
]


def _fits(page: Any, step: str) -> None:
    overflow, sticking_out = horizontal_overflow(page)
    assert overflow <= 1, f"{step}: {overflow}px wider than a phone: {sticking_out}"


def _fill_line(page: Any, amount: str, payee: str, receipt: Path | None) -> None:
    page.select_option("#category_code", "ACTIVITY")
    page.fill("#amount", amount)
    page.fill("#incurred_on", "2026-04-10")
    page.fill("#payee", payee)
    page.fill("#description", "社区助餐 meals")
    if receipt is not None:
        page.set_input_files("#receipt", str(receipt))
    page.get_by_role("button", name="添加明细").click()


def test_a_member_files_and_an_officer_approves_on_a_phone(
    browser: Any, live_server: str, funded_world: DemoWorld, screenshots: Path, tmp_path: Path
) -> None:
    receipt, stationery = tmp_path / "餐费发票.pdf", tmp_path / "文具发票.pdf"
    receipt.write_bytes(receipt_pdf())
    stationery.write_bytes(receipt_pdf())
    member = signed_in_page(browser, live_server, "member01", viewport=PHONE)
    officer = None
    try:
        # Home: each fund's budget use per category, as bars with their percentage.
        assert re.fullmatch(r"\d+(\.\d+)?%", member.locator(".pct").first.inner_text())
        _fits(member, "home")
        member.get_by_role("link", name=re.compile("社区居家养老服务项目")).first.click()
        member.fill("#report-title", "五月报销 phone")
        member.get_by_role("button", name="创建").click()
        member.wait_for_url(re.compile(r"/reports/"))
        expect(member.get_by_role("status")).to_contain_text("✓ 报销单已创建")

        # The amount typed as the app shows amounts is taken as it is meant.
        _fill_line(member, "1,250.50", "百步亭社区食堂", receipt)
        expect(member.get_by_role("status")).to_have_text("✓ 第1行已保存。")
        assert member.locator("#lines tbody td.n").first.inner_text() == "¥1,250.50"
        _fits(member, "a line added")

        # A refused line keeps what was typed and the receipt, and says why, in Chinese.
        _fill_line(member, "12.345", "晨光文具店", stationery)
        expect(member.locator("#error-amount")).to_have_text("金额最多保留 2 位小数")
        assert "金额" in member.locator("#problems").inner_text()
        assert member.input_value("#amount") == "12.345"
        assert member.input_value("#payee") == "晨光文具店"
        assert member.input_value("#incurred_on") == "2026-04-10"
        assert "文具发票.pdf" in member.locator("#receipt-attached").inner_text()
        member.screenshot(path=str(screenshots / "phone-member-refused-line-zh.png"), full_page=True)
        _fits(member, "a line refused")

        # Corrected, without attaching the receipt again: it was kept.
        member.fill("#amount", "12.30")
        member.get_by_role("button", name="添加明细").click()
        expect(member.get_by_role("status")).to_have_text("✓ 第2行已保存。")
        assert member.locator("#lines tbody a[href^='/receipts/']").count() == 2
        assert member.locator("#lines tfoot td.n").inner_text() == "¥1,262.80"
        member.get_by_role("button", name="提交审核").click()
        expect(member.get_by_role("status")).to_contain_text("✓ 报销单已提交")
        member.screenshot(path=str(screenshots / "phone-member-submitted-zh.png"), full_page=True)
        _fits(member, "submitted")
        report_address = member.url.split("#")[0]

        # The officer finds it in the queue with its organisation and amount, and approves it.
        officer = signed_in_page(browser, live_server, "finance1", viewport=PHONE)
        officer.goto(f"{live_server}/queue")
        row = officer.locator("tr", has_text="五月报销 phone")
        assert "百步亭社区为老服务中心" in row.inner_text()
        assert "¥1,262.80" in row.inner_text()
        _fits(officer, "the queue")
        officer.goto(report_address)
        _fits(officer, "the report to decide")
        officer.get_by_role("button", name="审核通过").click()
        officer.wait_for_url(re.compile("/queue"))
        expect(officer.get_by_role("status")).to_have_text("✓ 报销单已审核通过并记账。")
        assert officer.locator("tr", has_text="五月报销 phone").count() == 0
        officer.screenshot(path=str(screenshots / "phone-officer-approved-zh.png"), full_page=True)
    finally:
        member.context.close()
        if officer is not None:
            officer.context.close()
