"""http_load: the whole service under gunicorn on PostgreSQL, driven by Locust from another process.

The demo is loaded into a fresh database and served by gunicorn (``BENCH_HTTP_WORKERS``, default
4, production audit sequencing). Locust (headless, a separate process on loopback, see
``bench/_locustfile.py``) then runs, after an unmeasured warm-up:

- the realistic mix (90% reads, 10% writes) at 16 and 64 concurrent users, each sending about one
  request a second, arriving over a few seconds: the latency people see;
- reads, then writes, back to back with no pause at 16 users: what the service can serve;
- the framework floor back to back at 16 users: a minimal endpoint of the same app doing one
  indexed read and one insert, in the same run.

Each phase has a bounded duration (``BENCH_HTTP_SECONDS``, default 20 s). Targets: reads p99
<= 50 ms in the mix at 16 users; write throughput >= 0.35 x the floor's (issue 21; stretch 0.5);
zero errors. ``bench/_profile.py`` shows the statements each write sends.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import select, text

from bench.__main__ import Result
from bench._plot import plot_load
from bench._support import bench_token, fresh_app, load_demo, say
from ledger.extensions import db
from ledger.models import Fund

SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", "20"))
WARM_UP_SECONDS = 5
RAMP_SECONDS = 4
PORT = int(os.environ.get("BENCH_HTTP_PORT", "8765"))
WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "4"))
ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "docs" / "http_load.png"
READ_P99_TARGET_MS = 50.0
WRITE_RATIO_TARGET = 0.35
WRITE_RATIO_STRETCH = 0.5


def _locust(
    user_class: str, users: int, env: dict[str, str], out: Path, seconds: int = SECONDS
) -> dict[str, dict[str, float]]:
    prefix = out / f"{user_class}-{users}-{seconds}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "_locustfile.py"),
            user_class,
            "--headless",
            "-u",
            str(users),
            # Users arrive over RAMP_SECONDS, as people do, not all in the same millisecond;
            # the statistics start once all are running.
            "-r",
            str(users / RAMP_SECONDS),
            "--reset-stats",
            "-t",
            f"{seconds + RAMP_SECONDS}s",
            "--host",
            f"http://127.0.0.1:{PORT}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "ERROR",
        ],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = {}
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
                "rps": float(row["Requests/s"] or 0),
            }
    return rows


def _combined_percentile(rows: dict[str, dict[str, float]], prefix: str, key: str) -> float:
    """The worst per-endpoint percentile of a kind (Locust's CSV keeps percentiles per name)."""
    values = [r[key] for name, r in rows.items() if name.startswith(prefix)]
    return max(values) if values else 0.0


def _totals(rows: dict[str, dict[str, float]], prefix: str) -> tuple[float, float, float]:
    picked = [r for name, r in rows.items() if name.startswith(prefix)]
    return sum(r["count"] for r in picked), sum(r["failures"] for r in picked), sum(r["rps"] for r in picked)


def run() -> list[Result]:
    results: list[Result] = []
    with fresh_app() as app, app.app_context(), tempfile.TemporaryDirectory(prefix="ledger-load-") as out:
        load_demo()
        db.session.execute(
            text("CREATE TABLE bench_floor (id uuid PRIMARY KEY, organisation_id uuid NOT NULL)")
        )
        db.session.commit()
        fund = db.session.scalar(select(Fund).where(Fund.kind == "lottery_grant"))
        assert fund is not None
        env = {
            **os.environ,
            "LEDGER_ENV": "testing",
            "LEDGER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "LEDGER_INSTANCE_PATH": app.instance_path,
            "LEDGER_SECRET_KEY": "bench-secret-key-long-enough-for-the-check",
            "LEDGER_AUDIT_SEQUENCING": "background",
            "BENCH_MEMBER_TOKEN": bench_token("member01"),
            "BENCH_OFFICER_TOKEN": bench_token("finance1"),
            "BENCH_FUND_ID": str(fund.id),
            "BENCH_ORGANISATION_ID": str(fund.organisation_id),
        }
        db.session.remove()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{PORT}",
                "bench._http_app:app",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/health", timeout=2).close()
                    break
                except OSError:
                    time.sleep(0.2)
            # Every worker compiles its SQL and fills its pools on first use: warm them all up
            # first, so that the phases measure the service running, not starting.
            say(f"warming up: reads and writes back to back for {WARM_UP_SECONDS}s (not measured) ...")
            _locust("Reads", 16, env, Path(out), WARM_UP_SECONDS)
            _locust("Writes", 16, env, Path(out), WARM_UP_SECONDS)
            measured: dict[int, dict[str, dict[str, float]]] = {}
            for users in (16, 64):
                say(f"the mix at {users} users (about one request a second each) for {SECONDS}s ...")
                measured[users] = _locust("Mix", users, env, Path(out))
            say(f"reads back to back, 16 users, for {SECONDS}s ...")
            reads_only = _locust("Reads", 16, env, Path(out))
            say(f"writes back to back, 16 users, for {SECONDS}s ...")
            writes_only = _locust("Writes", 16, env, Path(out))
            say(f"the floor back to back, 16 users, for {SECONDS}s ...")
            floor = _locust("Floor", 16, env, Path(out))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    _floor_count, floor_failures, floor_rps = _totals(floor, "floor:")
    floor_p99 = floor["floor: read and insert"]["p99"]
    say(
        f"floor: {floor_rps:,.0f}/s, p50 {floor['floor: read and insert']['p50']:.0f} "
        f"p99 {floor_p99:.0f} ms, errors {floor_failures:.0f}"
    )
    results.append(Result("http_load", "floor (read + insert) /s, 16 users", floor_rps, "/s", "baseline"))
    results.append(Result("http_load", "floor p99 ms, 16 users back to back", floor_p99, "ms", "baseline"))
    for users, rows in measured.items():
        reads, read_failures, read_rps = _totals(rows, "read:")
        writes, write_failures, write_rps = _totals(rows, "write:")
        read_p50 = _combined_percentile(rows, "read:", "p50")
        read_p95 = _combined_percentile(rows, "read:", "p95")
        read_p99 = _combined_percentile(rows, "read:", "p99")
        say(
            f"mix, {users} users: reads {read_rps:,.0f}/s p50 {read_p50:.0f} p95 {read_p95:.0f} p99 {read_p99:.0f} ms; "
            f"writes {write_rps:,.0f}/s; errors {read_failures + write_failures:.0f} of {reads + writes:,.0f}"
        )
        for name, row in sorted(rows.items()):
            if name.startswith(("read:", "write:")):
                say(
                    f"    {name:<32} {row['count']:>6.0f} requests  p50 {row['p50']:>5.0f}  "
                    f"p95 {row['p95']:>5.0f}  p99 {row['p99']:>5.0f} ms"
                )
        target = f"<= {READ_P99_TARGET_MS:.0f} ms" if users == 16 else "(for comparison)"
        met = read_p99 <= READ_P99_TARGET_MS if users == 16 else None
        results.append(
            Result(
                "http_load",
                f"mix, {users} users: reads p99 ms (worst endpoint)",
                read_p99,
                "ms",
                target,
                None,
                met,
            )
        )
        results.append(
            Result("http_load", f"mix, {users} users: reads p50 ms (worst endpoint)", read_p50, "ms", "-")
        )
        results.append(
            Result("http_load", f"mix, {users} users: requests /s", read_rps + write_rps, "/s", "-")
        )
        errors = read_failures + write_failures
        results.append(Result("http_load", f"mix, {users} users: errors", errors, "", "0", None, errors == 0))
    _reads, read_failures, read_rps = _totals(reads_only, "read:")
    read_p99 = _combined_percentile(reads_only, "read:", "p99")
    say(
        f"reads back to back: {read_rps:,.0f}/s, p50 {_combined_percentile(reads_only, 'read:', 'p50'):.0f} "
        f"p99 {read_p99:.0f} ms, errors {read_failures:.0f}"
    )
    results.append(
        Result(
            "http_load", "read capacity /s, 16 users back to back", read_rps, "/s", "-", read_rps / floor_rps
        )
    )
    results.append(
        Result("http_load", "reads p99 ms, 16 users back to back", read_p99, "ms", "(for comparison)")
    )
    _writes, write_failures, write_rps = _totals(writes_only, "write:")
    write_p99 = _combined_percentile(writes_only, "write:", "p99")
    say(f"writes back to back: {write_rps:,.0f}/s, p99 {write_p99:.0f} ms, errors {write_failures:.0f}")
    ratio = write_rps / floor_rps if floor_rps else 0.0
    results.append(
        Result(
            "http_load",
            "write capacity /s, 16 users back to back",
            write_rps,
            "/s",
            f">= {WRITE_RATIO_TARGET} x floor (stretch {WRITE_RATIO_STRETCH})",
            ratio,
            ratio >= WRITE_RATIO_TARGET,
        )
    )
    errors = floor_failures + read_failures + write_failures
    plot_load(
        {
            "floor: read + insert": floor_rps,
            "reads back to back": read_rps,
            "writes back to back": write_rps,
            **{
                f"mix, {users} users": _totals(rows, "read:")[2] + _totals(rows, "write:")[2]
                for users, rows in measured.items()
            },
        },
        {
            **{
                f"mix, {users} users": (
                    _combined_percentile(rows, "read:", "p50"),
                    _combined_percentile(rows, "read:", "p99"),
                )
                for users, rows in measured.items()
            },
            "reads back to back": (_combined_percentile(reads_only, "read:", "p50"), read_p99),
            "floor back to back": (floor["floor: read and insert"]["p50"], floor_p99),
        },
        READ_P99_TARGET_MS,
        CHART,
    )
    say(f"chart written to {CHART.relative_to(ROOT)}")
    results.append(
        Result("http_load", "errors back to back (reads, writes, floor)", errors, "", "0", None, errors == 0)
    )
    return results
