"""Leadership leg: two real ``sellbot run`` processes on one database; SIGKILL the leader.

The simulator runs in this process (as in ``bench.reliability.crashes``), so it outlives the
bots. Two daemons start on one database: one leads, one stands by. ``kills`` times, after a
seeded random delay, the leader (read from the lease and the ``daemons`` rows) is SIGKILLed;
the standby must take the lease over, and the killed one is restarted as the new standby.
Measured: the takeover time (kill → the new leader's ``acquired_at``), and, after final
``--once`` runs, the money invariants (oversold, duplicates...) plus orders sent by a daemon
outside its own leadership term (each process logs ``order_send`` with the client id; the
simulator dates each order).

    python -m bench.reliability.leader_leg --kills 20 --out build/reliability

Progress (kills done / total, elapsed, remaining) goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.reliability.campaign import build_engine
from bench.reliability.crashes import FINAL_RUNS, KEY, SECRET, _env, _verdict, top_up
from bench.reliability.meter import Tick, on_stderr, silent
from bench.reliability.report import save
from bot.clock import SystemClock
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import DaemonRow, LeaseRow
from bot.domain.decisions import StrategyName
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine
from bot.sim.server import SimServer

T = TypeVar("T")


@dataclass
class Bot:
    proc: asyncio.subprocess.Process
    log: Path
    acquired_at: float | None = None  # epoch seconds: when it took the lease
    ended_at: float | None = None  # when it was killed or stopped


@dataclass
class LeaderLegResult:
    kills: int
    takeover_s: list[float] = field(default_factory=list)
    non_leader_orders: int = 0
    unattributed_orders: int = 0
    oversold: str = "0"
    duplicates: int = 0
    unknown_open: int = 0
    disagreeing: int = 0
    orders_on_exchange: int = 0
    final_exit: int = 0
    details: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        takeovers = self.takeover_s or [0.0]
        return {
            **asdict(self),
            "takeover_max_s": round(max(takeovers), 3),
            "takeover_median_s": round(statistics.median(takeovers), 3),
        }


async def leader_of(db_url: str) -> tuple[int, int, float] | None:
    """Return the lease holder's (pid, epoch, acquired_at) if the lease is current."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            lease = await session.get(LeaseRow, "leader")
            if lease is None:
                return None
            row = await session.get(DaemonRow, lease.holder)
            at = lease.acquired_at
            return (row.pid if row else -1), lease.epoch, _epoch_s(at)
    finally:
        await engine.dispose()


async def _standby_pids(db_url: str) -> set[int]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(select(DaemonRow.pid).where(DaemonRow.role == "standby"))
            return set(rows.scalars())
    finally:
        await engine.dispose()


def _epoch_s(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


async def _poll(
    clock: SystemClock, what: str, timeout_s: float, probe: Callable[[], Awaitable[T | None]]
) -> T:
    deadline = clock.monotonic() + timeout_s
    while clock.monotonic() < deadline:
        found = await probe()
        if found:
            return found
        await clock.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


async def _spawn(env: dict[str, str], workdir: Path, n: int, *args: str) -> Bot:
    log = workdir / f"bot-{n:03d}.log"
    out: IO[bytes] = log.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *args,
        env=env, cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=out,
    )  # fmt: skip
    out.close()
    return Bot(proc, log)


def _sent(log: Path) -> list[str]:
    """Return the client ids a process logged as sent (``order_send``)."""
    ids = []
    for line in log.read_text(errors="replace").splitlines():
        if '"order_send"' in line:
            try:
                ids.append(str(json.loads(line)["client_id"]))
            except (ValueError, KeyError):
                continue
    return ids


def _attribute(
    bots: list[Bot], engine: MatchingEngine, markets: list[str], result: LeaderLegResult
) -> None:
    """Count exchange orders sent by a daemon outside its own term, or by no known daemon."""
    sender: dict[str, Bot] = {}
    for bot in bots:
        for client_id in _sent(bot.log):
            sender[client_id] = bot
    for market in markets:
        for order in engine.list_orders(KEY, market=market, limit=100_000):
            sent_by = sender.get(str(order.client_id))
            if sent_by is None:
                result.unattributed_orders += 1
                continue
            start, end = sent_by.acquired_at, sent_by.ended_at
            if start is None or order.created_at < start or (end and order.created_at > end):
                result.non_leader_orders += 1
                result.details.append(f"{order.client_id} at {order.created_at} outside term")


async def leader_leg(
    *, kills: int, db_url: str, workdir: Path, seed: int = 1, markets: int = 3,
    ttl_s: float = 3.0, min_delay_s: float = 2.0, max_delay_s: float = 8.0,
    progress: Tick = silent,
) -> LeaderLegResult:  # fmt: skip
    """Kill the leader ``kills`` times; return takeover times and the invariants.

    ``progress`` is told how many leaders have been killed once each kill's standby is up."""
    clock = SystemClock()
    rng = make_rng(seed, "leader-leg")
    engine, listed = build_engine(clock, markets, seed)
    await upgrade(db_url)
    result = LeaderLegResult(kills)
    extra = {"SELLBOT_LEASE_TTL_S": str(ttl_s)}
    everyone: list[Bot] = []
    async with SimServer(engine, credentials={KEY: SECRET}, clock=clock, port=0) as server:
        env = _env(db_url, server.base_url, StrategyName.TWAP, extra)
        top_up(engine, listed, Decimal(rng.randint(20, 80)))
        running: dict[int, Bot] = {}

        async def start(n: int) -> None:
            bot = await _spawn(env, workdir, n)
            everyone.append(bot)
            running[bot.proc.pid] = bot
            await _poll(clock, "a new standby", 60, lambda: _is_up(db_url, bot))

        first = await _spawn(env, workdir, 0)
        everyone.append(first)
        running[first.proc.pid] = first
        held = await _poll(clock, "a first leader", 60, lambda: leader_of(db_url))
        first.acquired_at = held[2]
        await start(1)
        for i in range(kills):
            top_up(engine, listed, Decimal(rng.randint(20, 80)))
            await clock.sleep(rng.uniform(min_delay_s, max_delay_s))
            pid, epoch, _ = await leader_of(db_url) or (-1, 0, 0.0)
            victim = running.pop(pid)
            victim.ended_at = clock.time()
            victim.proc.send_signal(signal.SIGKILL)
            await victim.proc.wait()
            new = await _poll(
                clock, "a takeover", 10 * ttl_s, functools.partial(_new_leader, db_url, epoch)
            )
            running[new[0]].acquired_at = new[2]
            result.takeover_s.append(new[2] - victim.ended_at)
            await start(i + 2)
            progress(i + 1)
        for bot in sorted(running.values(), key=lambda b: b.acquired_at is not None):
            bot.proc.send_signal(signal.SIGTERM)  # the standby first, then the leader
            await bot.proc.wait()
            bot.ended_at = clock.time()
        env = _env(db_url, server.base_url, StrategyName.MARKET, extra)
        for n in range(FINAL_RUNS):  # finish what the last leader left
            final = await _spawn(env, workdir, 900 + n, "--once")
            everyone.append(final)
            final.acquired_at = clock.time()
            result.final_exit = await asyncio.wait_for(final.proc.wait(), timeout=300)
            final.ended_at = clock.time()
            if result.final_exit:
                break
        report = await _verdict(db_url, engine, listed, clock)
    _attribute(everyone, engine, [m.id for m in listed], result)
    result.oversold, result.duplicates = str(report.oversold), report.duplicates
    result.unknown_open, result.disagreeing = report.unknown_open, report.disagreeing
    result.orders_on_exchange = report.orders_on_exchange
    result.details += report.details[:20]
    return result


async def _is_up(db_url: str, bot: Bot) -> bool | None:
    return bot.proc.pid in await _standby_pids(db_url) or None


async def _new_leader(db_url: str, old_epoch: int) -> tuple[int, int, float] | None:
    held = await leader_of(db_url)
    return held if held is not None and held[1] > old_epoch else None


async def _fresh_database(url: str) -> str:
    """Return a fresh database for the leg: a new PostgreSQL database beside ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    import asyncpg

    name = "sellbot_leader_leg"
    conn = await asyncpg.connect(
        user=parsed.username, password=parsed.password, host=parsed.host,
        port=parsed.port or 5432, database=parsed.database,
    )  # fmt: skip
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return parsed.set(database=name).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    p.add_argument("--ttl-s", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = args.out / "leader-leg"
    workdir.mkdir(exist_ok=True)
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'leader.db'}"

    async def go(progress: Tick) -> LeaderLegResult:
        return await leader_leg(
            kills=args.kills, db_url=await _fresh_database(url), workdir=workdir,
            seed=args.seed, ttl_s=args.ttl_s, progress=progress,
        )  # fmt: skip

    with on_stderr(args.kills) as progress:  # kills done, on stderr
        result = asyncio.run(go(progress))
    summary = result.summary()
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    sys.stdout.write(
        json.dumps({k: v for k, v in summary.items() if k != "details"}, indent=2) + "\n"
    )
    passed = save_leg(args.out, result, ttl_s=args.ttl_s, backend=make_url(url).get_backend_name())
    return 0 if passed else 1


def save_leg(out: Path, result: LeaderLegResult, *, ttl_s: float, backend: str) -> bool:
    """Write the leg's column of the reliability table (``OUT/leadership.json``)."""
    bad = result.non_leader_orders or result.duplicates or Decimal(result.oversold)
    passed = not bad and not result.unattributed_orders and result.final_exit == 0
    summary = result.summary()
    save(
        out, "leadership", title="two daemons (SIGKILL the leader)", covers=(
            f"two real `sellbot run` processes on one {backend} database against a simulator "
            f"served over HTTP by the campaign process, SELLBOT_LEASE_TTL_S={ttl_s:g}; the "
            "leader SIGKILLed at seeded moments, restarted as the new standby each time; each "
            "exchange order attributed to the process that logged sending it and checked "
            "against that process's lease term; a final `--once` run finishes the rest"
        ),
        extra={
            "leaders SIGKILLed|20": result.kills,
            "orders placed by a non-leader|0": result.non_leader_orders,
            "orders not attributable to a process|0": result.unattributed_orders,
            "oversold amount (two daemons)|0": result.oversold,
            "duplicate orders (two daemons)|0": result.duplicates,
            "takeover after a kill: median / max|≤ TTL": (
                f"{summary['takeover_median_s']} / {summary['takeover_max_s']} s (TTL {ttl_s:g} s)"
            ),
            "final `sellbot run --once` exit code (two daemons)|0": result.final_exit,
            "verdict": "PASS" if passed else "FAIL",
        },
    )  # fmt: skip
    return passed


if __name__ == "__main__":
    sys.exit(main())
