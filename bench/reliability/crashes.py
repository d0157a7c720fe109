"""Crash campaign: SIGKILL a real ``sellbot run`` at seeded random moments, restart, repeat.

The simulator runs in this process (``SimServer`` on a local port, real HTTP and WebSocket),
so its state outlives every bot process and the campaign can top balances up between kills
and read the exchange's side directly. Each kill cycle: top up, start ``sellbot run`` with
a forced strategy (rotated) and short horizons, SIGKILL it after a seeded random delay. The
next cycle's process is the restart (it recovers, and may itself be killed mid-recovery).
Final ``sellbot run --once`` runs (up to ``FINAL_RUNS``: one cycle each, and a resumed sale
holds its market for that cycle) must exit 0 and sell what is left; then the exchange and
the database are compared.

``db_outage`` locks the SQLite file from another process for ``outage_s`` in the middle of
a run: every order on the exchange must have its database row, and the daemon must go on
selling afterwards without a restart.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.reliability.campaign import _exchange_orders, build_engine
from bench.reliability.invariants import InvariantReport, check, read_db
from bench.reliability.meter import Tick, silent
from bot.clock import SystemClock
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.domain.decisions import StrategyName
from bot.domain.market import Market
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange
from bot.sim.server import SimServer

KEY = "crash-key-0123"
SECRET = "crash-secret-0123456789abcdef"  # noqa: S105 (a local simulator credential)
STRATEGIES = tuple(StrategyName)
FINAL_RUNS = 3
_REPO_ROOT = str(Path(__file__).resolve().parents[2])  # where the locker process imports bench
RUN_ENV = {
    "SELLBOT_MIN_HORIZON_S": "4",
    "SELLBOT_MAX_HORIZON_S": "10",
    "SELLBOT_MIN_SLICES": "2",
    "SELLBOT_MAX_SLICES": "4",
    "SELLBOT_ORDER_POLL_INTERVAL_S": "0.3",
    "SELLBOT_SCHEDULE_INTERVAL_S": "5",
    "SELLBOT_MAX_DAILY_VALUE": "1000000000",
    "SELLBOT_MIN_ORDER_VALUE": "1",
    "SELLBOT_HTTP_PORT": "0",
    "SELLBOT_LOG_FORMAT": "json",
    "SELLBOT_SHUTDOWN_TIMEOUT_S": "5",
    "SELLBOT_MAX_CONCURRENT_EXECUTIONS": "8",
}


@dataclass
class CrashResult:
    kills: int
    report: InvariantReport
    final_exit: int
    unsold: list[str] = field(default_factory=list)
    stderr_tail: str = ""


def _env(
    db_url: str, base_url: str, strategy: StrategyName, extra: Mapping[str, str]
) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SELLBOT_", "SAFETRADE_", "CEREBRAS_", "DATABASE_URL"))
    }
    return {
        **base,
        **RUN_ENV,
        "DATABASE_URL": db_url,
        "SAFETRADE_BASE_URL": base_url,
        "SAFETRADE_API_KEY": KEY,
        "SAFETRADE_API_SECRET": SECRET,
        "SELLBOT_FORCE_STRATEGY": str(strategy),
        **extra,
    }


def top_up(engine: MatchingEngine, markets: Sequence[Market], amount: Decimal) -> int:
    """Give every market whose balance was sold a new one; return how many (new sales)."""
    put_up = 0
    for m in markets:
        if engine.balance(KEY, m.base).total < m.min_amount:
            engine.deposit(KEY, m.base, amount)
            put_up += 1
    return put_up


async def _spawn(env: Mapping[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *args,
        env=dict(env), cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _kill_after(proc: asyncio.subprocess.Process, clock: SystemClock, delay_s: float) -> None:
    await clock.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    await proc.communicate()


async def _verdict(
    db_url: str, engine: MatchingEngine, markets: Sequence[Market], clock: SystemClock
) -> InvariantReport:
    db_engine = create_engine(db_url)
    try:
        db = await read_db(session_factory(db_engine))
    finally:
        await db_engine.dispose()
    orders = await _exchange_orders(SimExchange(engine, KEY, clock=clock), markets)
    return check(db, orders, now=clock.time(), grace_s=60.0)


async def crash_campaign(
    *, kills: int, db_url: str, workdir: Path, seed: int = 1, markets: int = 3,
    min_delay_s: float = 1.0, max_delay_s: float = 6.0, progress: Tick = silent,
) -> CrashResult:  # fmt: skip
    """Kill ``kills`` bot processes at seeded random moments; return the invariants.

    ``progress`` is told how many processes have been killed after each kill."""
    clock = SystemClock()
    rng = make_rng(seed, "crashes")
    engine, listed = build_engine(clock, markets, seed)
    await upgrade(db_url)
    sales = 0
    async with SimServer(engine, credentials={KEY: SECRET}, clock=clock, port=0) as server:
        for i in range(kills):
            sales += top_up(engine, listed, Decimal(rng.randint(20, 80)))
            env = _env(db_url, server.base_url, STRATEGIES[i % len(STRATEGIES)], {})
            proc = await _spawn(env, workdir)
            await _kill_after(proc, clock, rng.uniform(min_delay_s, max_delay_s))
            progress(i + 1)
        env = _env(db_url, server.base_url, StrategyName.MARKET, {})
        for _ in range(FINAL_RUNS):  # --once runs one cycle: resumed sales can hold a market
            final = await _spawn(env, workdir, "--once")
            _, err = await asyncio.wait_for(final.communicate(), timeout=300)
            unsold = [m.id for m in listed if engine.balance(KEY, m.base).total >= m.min_amount]
            if final.returncode or not unsold:
                break
        report = await _verdict(db_url, engine, listed, clock)
    report.sales, report.sales_completed = sales, sales - len(unsold)
    return CrashResult(kills, report, final.returncode or 0, unsold, err.decode()[-2000:])


def hold_sqlite_lock(path: str, seconds: float) -> None:
    """Hold an EXCLUSIVE transaction on the SQLite file for ``seconds`` (run in a process)."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        _wait(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _wait(seconds: float) -> None:
    import threading

    threading.Event().wait(seconds)


def _order_counter(engine: MatchingEngine, markets: Sequence[Market]) -> Callable[[], int]:
    def count() -> int:
        return sum(len(engine.list_orders(KEY, market=m.id, limit=1000)) for m in markets)

    return count


@dataclass
class OutageResult:
    report: InvariantReport
    orders_before: int
    orders_during: int
    orders_after: int
    unsold: list[str]
    exit_code: int
    stderr_tail: str = ""


async def db_outage(
    *, db_path: Path, workdir: Path, outage_s: float, seed: int = 2, markets: int = 3,
    before_s: float = 4.0, after_s: float = 25.0,
) -> OutageResult:  # fmt: skip
    """Lock the SQLite file for ``outage_s`` mid-run; count orders placed before/during/after."""
    clock = SystemClock()
    db_url = f"sqlite+aiosqlite:///{db_path}"
    engine, listed = build_engine(clock, markets, seed)
    await upgrade(db_url)
    sales = top_up(engine, listed, Decimal(60))
    async with SimServer(engine, credentials={KEY: SECRET}, clock=clock, port=0) as server:
        env = _env(db_url, server.base_url, StrategyName.TWAP, {
            "SELLBOT_MIN_HORIZON_S": "20", "SELLBOT_MAX_HORIZON_S": "30",
            "SELLBOT_MIN_SLICES": "6", "SELLBOT_MAX_SLICES": "8",
            # an outage longer than the lease fences the leader (it exits 3, by design):
            # this leg checks that it trades again by itself after a shorter one
            "SELLBOT_LEASE_TTL_S": str(15.0 if outage_s < 10 else 2 * outage_s),
        })  # fmt: skip
        proc = await _spawn(env, workdir)
        await clock.sleep(before_s)
        count = _order_counter(engine, listed)
        before = count()
        locker = await asyncio.create_subprocess_exec(
            sys.executable, "-c",
            "import sys; from bench.reliability.crashes import hold_sqlite_lock;"
            " hold_sqlite_lock(sys.argv[1], float(sys.argv[2]))",
            str(db_path), str(outage_s), cwd=workdir, env={**os.environ, "PYTHONPATH": _REPO_ROOT},
        )  # fmt: skip
        if await locker.wait():  # no lock held means no outage: the leg would pass unearned
            raise RuntimeError(f"the SQLite locker process exited {locker.returncode}")
        during = count() - before
        sales += top_up(engine, listed, Decimal(40))  # new balances to sell after the outage
        await clock.sleep(after_s)
        after = count() - before - during
        if proc.returncode is None:  # it may have exited by itself (e.g. lease lost: 3)
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        report = await _verdict(db_url, engine, listed, clock)
        unsold = [m.id for m in listed if engine.balance(KEY, m.base).total >= m.min_amount]
    report.sales, report.sales_completed = sales, sales - len(unsold)
    return OutageResult(
        report, before, during, after, unsold, proc.returncode or 0, err.decode()[-20000:]
    )
