"""peer_hordak: our posting against django-hordak 2.0's ``transfer_to``, interleaved, same run.

The peer is a balanced two-leg transaction through hordak's ``Account.transfer_to`` in
``transaction.atomic()``: a transaction row and two legs, checked by hordak's PostgreSQL
triggers (legs balance, an account's currency), and no audit trail. Ours is one balanced
two-leg journal entry through the service layer (``post_adjustment``: an Idempotency-Key, the
chart, the open month) plus its audit entry, committed in the production sequencing mode
(``background``), the clock stopping only when every entry is chained into the log. Each runs
on a PostgreSQL database of its own on the same server, with 1 and 16 writer processes, rounds
alternating between the two; the figure is each side's median and the ratio of the medians.

The peer needs the optional ``[peer]`` extra (``pip install -e '.[peer]'``: Django and
django-hordak); without it the benchmark says it is skipped. Django is configured here in code.
Also printed: the statements each side sends per posting, and its client CPU time.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from multiprocessing.synchronize import Barrier
from typing import Any

import psycopg
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from bench.__main__ import Result
from bench._support import SERVER_URL, fresh_app, median, run_writers, say, timed_processes
from ledger.audit.sequencer import stop_sequencer
from ledger.audit.trail import sequence_pending
from ledger.database import commit, unit_of_work
from ledger.extensions import db
from ledger.models import Organisation, User
from ledger.models.books import Side
from ledger.money import Money
from ledger.services.access import Actor, Permission, may
from ledger.services.books import PostingLine, post_adjustment

TARGET = 1.0
STATEMENTS = 5  # in a posting's transaction, its audit entry included
STRETCH = 1.5
AMOUNT_MINOR = 125000
LINES = [
    PostingLine("1002", Side.DEBIT, Money("CNY", AMOUNT_MINOR)),
    PostingLine("4401", Side.CREDIT, Money("CNY", AMOUNT_MINOR)),
]


def _peer_installed() -> bool:
    try:
        import django  # noqa: F401
        import hordak  # noqa: F401
    except ImportError:
        return False
    return True


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(SERVER_URL).set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@contextmanager
def _peer_database() -> Iterator[str]:
    name = f"bench_hordak_{uuid.uuid4().hex[:8]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Peer:
    """django-hordak on its own database: two accounts, and one ``transfer_to`` per operation."""

    def __init__(self, database: str) -> None:
        import django
        from django.conf import settings

        url = make_url(SERVER_URL)
        settings.configure(
            DATABASES={
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": database,
                    "USER": url.username or "postgres",
                    "PASSWORD": url.password or "",
                    "HOST": url.host or "127.0.0.1",
                    "PORT": str(url.port or 5432),
                }
            },
            INSTALLED_APPS=["django.contrib.contenttypes", "mptt", "djmoney", "hordak"],
            USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
            DEFAULT_CURRENCY="CNY",
            HORDAK_CURRENCIES=["CNY"],
            CURRENCIES=["CNY"],
            LOGGING_CONFIG=None,
        )
        django.setup()
        from django.core.management import call_command
        from hordak.models import Account

        call_command("migrate", verbosity=0)
        self.bank = Account.objects.create(name="Bank", type=Account.TYPES.asset, currencies=["CNY"])
        self.income = Account.objects.create(name="Grants", type=Account.TYPES.income, currencies=["CNY"])

    def transfer(self, writer: int, i: int) -> None:
        from django.db import transaction
        from moneyed import Money as PeerMoney

        with transaction.atomic():
            self.income.transfer_to(
                self.bank, PeerMoney(AMOUNT_MINOR / 100, "CNY"), description=f"grant {writer}-{i}"
            )

    @staticmethod
    def close_connections() -> None:
        from django.db import connections

        connections.close_all()

    def count(self, operations: int) -> tuple[float, float]:
        """(statements, client CPU milliseconds) per transfer, in this process."""
        from django.db import connection

        sent: list[str] = []

        def counted(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
            sent.append(sql)
            return execute(sql, *args)

        cpu = time.process_time()
        with connection.execute_wrapper(counted):
            for i in range(operations):
                self.transfer(-1, i)
        return len(sent) / operations, (time.process_time() - cpu) * 1000 / operations


def _run_processes(writers: int, operations: int, operation: Callable[[int, int], None]) -> float:
    """``operation(writer, i)`` ``operations`` times in each of ``writers`` forked processes; ops/s."""
    Peer.close_connections()  # each child opens its own

    def writer(number: int, start: Barrier) -> None:
        start.wait()
        for i in range(operations):
            operation(number, i)
        Peer.close_connections()

    return writers * operations / timed_processes(writers, writer, what="peer writer")


def run() -> list[Result]:
    if not _peer_installed():
        say("skipped: the [peer] extra is not installed (pip install -e '.[peer]': Django, django-hordak)")
        return []
    per_writer = {
        1: int(os.environ.get("BENCH_PEER_OPS_1", "300")),
        16: int(os.environ.get("BENCH_PEER_OPS_16", "60")),
    }
    rounds = int(os.environ.get("BENCH_PEER_ROUNDS", "3"))
    results: list[Result] = []
    with (
        _peer_database() as peer_database,
        fresh_app(LEDGER_AUDIT_SEQUENCING="background") as app,
    ):
        peer = Peer(peer_database)
        with app.app_context():
            from bench._support import load_demo

            load_demo()
            officer = db.session.scalars(select(User).where(User.username == "finance1")).one()
            actor = Actor.of(officer)
            organisation_id = next(
                o
                for o in db.session.scalars(select(Organisation.id).order_by(Organisation.name))
                if may(actor, Permission.POST_ADJUSTMENTS, o)
            )
            db.session.rollback()

            def post(writer: int, i: int) -> None:
                post_adjustment(
                    actor,
                    organisation_id,
                    date(2026, 3, 15),
                    f"政府补助到账 grant {writer}-{i}",
                    LINES,
                    uuid.uuid4().hex,
                    "grants_received",
                )
                commit()

            def all_in_the_log() -> None:
                stop_sequencer(app)
                with app.app_context():
                    sequence_pending()

            with unit_of_work():
                post(-1, 0)  # opens the month, fills the chart cache
            ours_statements, ours_sequencer, ours_cpu = _count_ours(post, all_in_the_log, 200)
        peer_statements, peer_cpu = peer.count(200)
        say(
            f"statements per posting: ours {ours_statements:.2f} in the posting's transaction "
            f"+ {ours_sequencer:.2f} from the sequencer; hordak {peer_statements:.2f}"
        )
        say(f"client CPU per posting (1 process): ours {ours_cpu:.2f} ms, hordak {peer_cpu:.2f} ms")
        results.append(
            Result(
                "peer_hordak",
                "statements per posting, ours",
                ours_statements,
                "",
                f"<= {STATEMENTS}",
                met=ours_statements <= STATEMENTS,
            )
        )
        results.append(Result("peer_hordak", "statements per posting, hordak", peer_statements, "", "-"))

        for writers, operations in per_writer.items():
            theirs_runs: list[float] = []
            ours_runs: list[float] = []
            for number in range(rounds):
                theirs_runs.append(_run_processes(writers, operations, peer.transfer))
                ours_runs.append(run_writers(app, writers, operations, post, all_in_the_log))
                say(
                    f"{writers} writer(s), round {number + 1}: hordak {theirs_runs[-1]:,.0f}/s, "
                    f"ours {ours_runs[-1]:,.0f}/s"
                )
            theirs, ours = median(theirs_runs), median(ours_runs)
            ratio = ours / theirs
            say(f"{writers} writer(s): hordak {theirs:,.0f}/s, ours {ours:,.0f}/s, ratio {ratio:.2f}")
            results.append(
                Result("peer_hordak", f"hordak transfers/s, {writers} writer(s)", theirs, "/s", "baseline")
            )
            results.append(
                Result(
                    "peer_hordak",
                    f"postings/s, {writers} writer(s)",
                    ours,
                    "/s",
                    f">= {TARGET} x (>= {STRETCH})",
                    ratio,
                    ratio >= TARGET,
                )
            )
    return results


def _count_ours(
    post: Callable[[int, int], None], finish: Callable[[], None], operations: int
) -> tuple[float, float, float]:
    """(statements in the posting's transaction, statements from the sequencer, client CPU ms), per posting."""
    posting_thread = threading.get_ident()
    in_posting: list[str] = []
    in_sequencer: list[str] = []
    draining = threading.Event()

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        posting = threading.get_ident() == posting_thread and not draining.is_set()
        (in_posting if posting else in_sequencer).append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    cpu = time.process_time()
    try:
        for i in range(operations):
            post(-2, i)
        draining.set()  # what is left queued is the sequencer's work, done here
        finish()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    spent = (time.process_time() - cpu) * 1000 / operations
    return len(in_posting) / operations, len(in_sequencer) / operations, spent
