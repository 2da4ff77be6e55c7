"""Run every benchmark and print one summary table."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    """One measured figure: what, how much, against what target and baseline."""

    benchmark: str
    figure: str
    value: float
    unit: str
    target: str
    ratio: float | None = None
    met: bool | None = None


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    selected = set(argv)
    results: list[Result] = []
    names = [n for n in discover() if not selected or n in selected]
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "run", None)
        if run is None:
            continue
        print(f"== {name}", flush=True)
        results.extend(run())
    print()
    print(f"{'benchmark':<18} {'figure':<44} {'value':>14} {'target':>14} {'ratio':>7}  met")
    for r in results:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        print(
            f"{r.benchmark:<18} {r.figure:<44} {r.value:>10.2f} {r.unit:<3} {r.target:>14} {ratio:>7}  {met}"
        )
    if not results:
        print("(no benchmarks yet)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
