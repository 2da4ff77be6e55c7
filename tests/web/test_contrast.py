"""WCAG 2.1 AA contrast of the stylesheet's text colours on their backgrounds (4.5:1 for text).

Reads ``ledger/static/web.css`` itself: every rule that sets both a ``color`` and a ``background``
is checked, with ``var(--name)`` resolved from ``:root``, and the text colours used on the page and
card backgrounds are checked against both.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "ledger" / "static" / "web.css").read_text(encoding="utf-8")
AA_TEXT = 4.5


def _variables() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS, re.S)
    assert root is not None
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root.group(1)))


def _resolved(value: str) -> str | None:
    value = value.strip()
    if found := re.fullmatch(r"var\(--([\w-]+)\)", value):
        return _variables().get(found.group(1))
    return value if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else None


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_ratio_itself() -> None:
    # Worked by hand from the WCAG formula: black on white is 21:1, a colour on itself 1:1.
    assert round(contrast("#000000", "#ffffff"), 2) == 21.0
    assert contrast("#777777", "#777777") == 1.0


def _pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS):
        colour = re.search(r"(?<![-\w])color:\s*([^;]+);?", body)
        background = re.search(r"background(?:-color)?:\s*([^;]+);?", body)
        if colour and background:
            fg, bg = _resolved(colour.group(1)), _resolved(background.group(1))
            if fg and bg:
                pairs.append((selector.strip(), fg, bg))
    return pairs


@pytest.mark.parametrize(("selector", "foreground", "background"), _pairs(), ids=lambda v: str(v)[:40])
def test_each_rule_with_both_colours_is_readable(selector: str, foreground: str, background: str) -> None:
    assert contrast(foreground, background) >= AA_TEXT, (selector, foreground, background)


@pytest.mark.parametrize("name", ["ink", "muted", "accent", "ok", "warn", "bad"])
def test_text_colours_read_on_the_page_and_on_cards(name: str) -> None:
    variables = _variables()
    for background in ("paper", "wash"):
        assert contrast(variables[name], variables[background]) >= AA_TEXT, (name, background)
