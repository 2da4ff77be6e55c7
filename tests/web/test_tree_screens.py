"""The pages of the administrative tree in a real Chromium, in both languages, wide and narrow.

Screenshots go to build/screenshots/ (``tree-<who>-<page>-<lang>-<width>.png``) for a person to
look at; the test itself checks what a screenshot cannot be trusted to show: nothing wider than
the window (no sideways scrolling of the page) and no English on a Chinese screen's labels.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DemoWorld
from tests.web.browsing import signed_in_page

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")

SIZES = {"wide": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SCREENS = [("huangpi.admin", "/admin/communities"), ("jiangan.supervisor", "/"), ("houhu.finance1", "/")]
# Words that stay English on a Chinese page: the product's codes and the demo's bilingual names.
LATIN_ALLOWED = re.compile(r"CNY|PDF|[A-Z]{2,}-[\w-]+|[A-Z][a-z]+(?: [A-Z][a-z'-]+)*")


@pytest.mark.parametrize(("username", "path"), SCREENS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_tree_pages_fit_and_read_in_the_language(
    browser: Any,
    live_server: str,
    funded_world: DemoWorld,
    screenshots: Path,
    username: str,
    path: str,
    lang: str,
) -> None:
    for size, viewport in SIZES.items():
        page = signed_in_page(browser, live_server, username, lang=lang, viewport=viewport)
        context = page.context
        try:
            page.goto(live_server + path)
            name = path.strip("/") or "home"
            page.screenshot(
                path=str(screenshots / f"tree-{username}-{name}-{lang}-{size}.png"), full_page=True
            )
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            wide = page.evaluate(
                "Array.from(document.querySelectorAll('main *'))"
                ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1"
                " && !e.closest('.scroll'))"
                ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"
            )
            assert overflow <= 1, (
                f"{username} {path} {lang} {size}: {overflow}px wider than the window: {wide}"
            )
            if lang == "zh":
                labels = page.evaluate(
                    "Array.from(document.querySelectorAll('section > h2, h3, th, label:not(.sr), nav a, main button'))"
                    ".map(e => e.innerText)"
                )
                english = [t for t in labels if re.search(r"[A-Za-z]{3,}", LATIN_ALLOWED.sub("", t))]
                assert not english, english
        finally:
            context.close()
