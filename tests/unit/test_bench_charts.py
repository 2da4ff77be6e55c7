"""The benchmark suite's own plumbing: every benchmark is found, and its charts are drawn.

The benchmarks themselves run with ``make bench`` (they need minutes and a quiet machine); these
checks keep a broken chart or an unlisted benchmark from being noticed only then.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from bench.__main__ import discover
from bench._plot import plot_ladder, plot_load, size_label

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_benchmark_module_has_a_run_function() -> None:
    names = discover()
    assert {
        "audit_append",
        "audit_proofs",
        "audit_verify",
        "http_load",
        "ladder",
        "reports",
        "statements",
    } <= set(names)
    for name in names:
        assert callable(getattr(importlib.import_module(f"bench.{name}"), "run", None)), name


def test_the_ladder_chart_is_a_png(tmp_path: Path) -> None:
    chart = tmp_path / "ladder.png"
    plot_ladder(
        [10_000, 100_000, 1_000_000], {"inclusion proof": [1.7, 2.5, 2.4], "page": [8.0, 7.0, 4.2]}, chart
    )
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert [size_label(n) for n in (10_000, 100_000, 1_000_000, 1_500)] == ["10k", "100k", "1M", "1,500"]


def test_the_load_chart_is_a_png(tmp_path: Path) -> None:
    chart = tmp_path / "load.png"
    plot_load({"floor": 500.0, "writes": 80.0}, {"mix, 16 users": (20.0, 36.0)}, 50.0, chart)
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
