"""What the browser tests do to a page: sign in, measure its width, read its labels, run axe-core.

Shared by the browser tests (a module of its own, so that no test imports another test's helpers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ledger.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
# Installed by `make setup` from package.json (npm ci).
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# Words that stay Latin on a Chinese page: the product's codes and the demo's bilingual names.
LATIN_ALLOWED = re.compile(
    r"UTC|PDF|JPEG|PNG|XML|XLSX|JSON|CSV|SHA-256|[A-Z]{2,}-[\w-]+|[A-Z][a-z]+(?: [A-Z][a-z'-]+)*"
)
# The rules of WCAG 2.0 and 2.1 at levels A and AA, as axe-core tags them.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def signed_in_page(
    browser: Any, base: str, username: str, *, lang: str = "zh", viewport: dict[str, int] = PHONE
) -> Any:
    """A new tab of a new browser context, in ``lang``, signed in as ``username``, on the home page."""
    # bypass_csp lets axe-core be injected; the pages' own scripts still come only from the service.
    context = browser.new_context(
        locale="zh-CN" if lang == "zh" else "en-GB", viewport=viewport, bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{base}/language/{lang}")
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    return page


def horizontal_overflow(page: Any) -> tuple[int, list[str]]:
    """How many pixels the page is wider than the window, and the first elements that stick out
    (outside the boxes that scroll on purpose, ``.scroll``)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    sticking_out = page.evaluate(
        "Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll'))"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    return overflow, sticking_out


def squeezed_cells(page: Any) -> list[str]:
    """Table cells so narrow that their text stands one or two characters to a line (a payee's
    name read downwards): a table on a phone should stack its rows or scroll inside its box."""
    return page.evaluate(
        """Array.from(document.querySelectorAll('td, th')).filter(cell => {
             const text = cell.innerText.trim();
             if (text.length < 4 || cell.closest('thead')?.getBoundingClientRect().width < 5) return false;
             const style = getComputedStyle(cell);
             const size = parseFloat(style.fontSize);
             const box = cell.getBoundingClientRect();
             const inner = box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
             return inner < 2.6 * size && box.height > 4 * size;
           }).slice(0, 5).map(cell => cell.tagName + ' ' + JSON.stringify(cell.innerText.trim().slice(0, 20)))"""
    )


def english_labels(page: Any, data: Iterable[str] = ()) -> list[str]:
    """Headings, column heads, labels, links and buttons with English words in them, once the
    names people gave things (``data``: the demo's titles and names are in both languages) are
    taken out."""
    labels = page.evaluate(
        "Array.from(document.querySelectorAll("
        "'h1, h2, h3, th, label:not(.sr), nav a, main button, main .badge, main dt, main summary, main legend'))"
        ".map(e => e.innerText)"
    )
    names = sorted(data, key=len, reverse=True)
    english = []
    for text in labels:
        for name in names:
            text = text.replace(name, "")
        if re.search(r"[A-Za-z]{3,}", LATIN_ALLOWED.sub("", text)):
            english.append(text)
    return english


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations of these impacts, one line each with where they are."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        WCAG_AA,
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results
        if violation["impact"] in impacts
    ]
