"""The benchmarks' charts: the data-size ladder, and the whole service under load.

``bench/ladder.py`` writes ``docs/ladder.png`` after each run (one line per operation, median ms
against data size); to draw it again from the raw figures:
``python -m bench._plot docs/ladder.json docs/ladder.png``. ``bench/http_load.py`` writes
``docs/http_load.png`` (throughput against the floor, and latency against the target).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, files only; chosen before pyplot is imported

import matplotlib.pyplot as plt
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def size_label(size: int) -> str:
    """10_000 -> '10k', 1_000_000 -> '1M'."""
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return f"{size:,}"


def plot_ladder(sizes: list[int], series: dict[str, list[float]], path: Path | str) -> None:
    """Write a log-log chart of ``series`` (operation -> median ms at each of ``sizes``) to ``path``."""
    figure, axes = plt.subplots(figsize=(12, 6.5), dpi=120)
    colours = plt.get_cmap("tab10").colors
    for number, (operation, values) in enumerate(series.items()):
        growth = values[-1] / values[0] if values[0] else float("nan")
        axes.plot(
            sizes,
            values,
            marker=MARKERS[number % len(MARKERS)],
            color=colours[number % len(colours)],
            linewidth=2,
            markersize=7,
            label=f"{operation} (×{growth:.1f})",
        )
    if len(sizes) > 1:
        # A guide for the eye: what linear growth would look like from the median first figure.
        start = sorted(values[0] for values in series.values())[len(series) // 2]
        axes.plot(
            sizes,
            [start * size / sizes[0] for size in sizes],
            color="black",
            linestyle=(0, (1, 3)),
            linewidth=1.2,
            label="linear growth (∝ N), for reference",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.xaxis.set_major_locator(FixedLocator(sizes))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xticklabels([size_label(size) for size in sizes])
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
    axes.yaxis.set_minor_formatter(FuncFormatter(lambda _value, _position: ""))
    axes.set_xlabel("data size N (audit entries, and postings, in the database)")
    axes.set_ylabel("median latency per call, ms (log scale)")
    axes.set_title(
        "Community Fund Ledger: latency as the data grows\n"
        "(median over repeated calls, database reads included; ×: growth from the smallest to the largest N)"
    )
    axes.grid(True, which="major", linestyle="-", alpha=0.35)
    axes.grid(True, which="minor", axis="y", linestyle=":", alpha=0.2)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def plot_load(
    throughput: dict[str, float], latency: dict[str, tuple[float, float]], target_ms: float, path: Path | str
) -> None:
    """Two panels: requests per second of each phase, and p50/p99 of each phase against the target."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5), dpi=120)
    names = list(throughput)
    left.barh(
        names, [throughput[n] for n in names], color=["#7f7f7f" if "floor" in n else "#1f77b4" for n in names]
    )
    for row, name in enumerate(names):
        left.text(throughput[name], row, f" {throughput[name]:,.0f}/s", va="center", fontsize=9)
    left.invert_yaxis()
    left.set_xlabel("requests per second (back to back: capacity; the mix: about 1 a second per user)")
    left.set_title("Throughput, against the framework floor")
    left.set_xlim(0, max(throughput.values()) * 1.25)
    phases = list(latency)
    rows = range(len(phases))
    right.barh(
        [r - 0.2 for r in rows], [latency[p][0] for p in phases], height=0.4, label="p50", color="#2ca02c"
    )
    right.barh(
        [r + 0.2 for r in rows], [latency[p][1] for p in phases], height=0.4, label="p99", color="#d62728"
    )
    right.set_yticks(list(rows), phases)
    right.invert_yaxis()
    right.axvline(
        target_ms, color="black", linestyle="--", linewidth=1.2, label=f"target p99 <= {target_ms:g} ms"
    )
    right.set_xlabel("p50 and p99 of the worst read endpoint, ms (lower is better)")
    right.set_title("Read latency")
    right.legend(loc="lower right", fontsize=9)
    figure.suptitle(
        "Community Fund Ledger under load: gunicorn and PostgreSQL on 2 cores, Locust on loopback"
    )
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench._plot LADDER.json LADDER.png", file=sys.stderr)
        return 2
    figures = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    plot_ladder(figures["sizes"], figures["median_ms"], argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
