"""Long run: many scheduler cycles in virtual time; resident memory, fds and tasks stay flat.

The daemon's App (``build_app``: SQLite store, rule advisor, supervisor) over an in-process
simulator with a few markets runs ``run_prioritisation_cycle`` every ``interval_s`` virtual
seconds, with the sales it starts running alongside, and balances topped up every
``top_up_every`` cycles so there is always something to sell. Every ``sample_every`` cycles
it records RSS (``/proc/self/statm``), open file descriptors (``/proc/self/fd``) and asyncio
tasks. Growth is measured from the first sample after ``warmup`` cycles to the last. The
simulator shares the process, so it keeps a bounded history (a day of k-line buckets and
of finished orders, ``SIM_HISTORY_S``): otherwise its own bookkeeping would be measured.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.reliability.campaign import KEY, _market, _settings
from bench.reliability.vtime import DbActivity, drive
from bot.advisor.rules import RuleAdvisor
from bot.bootstrap import App, build_app
from bot.clock import VirtualClock
from bot.db.migrate import upgrade
from bot.exchange.cached import CachedExchange
from bot.exchange.errors import ExchangeError
from bot.rand import make_rng
from bot.service.cycle import run_prioritisation_cycle
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange

PAGE = os.sysconf("SC_PAGE_SIZE")
SIM_HISTORY_S = 86_400


@dataclass(frozen=True, slots=True)
class Sample:
    cycle: int
    rss_bytes: int
    fds: int
    tasks: int


@dataclass
class LongRunResult:
    cycles: int
    samples: list[Sample] = field(default_factory=list)
    executions: int = 0
    cycle_errors: int = 0
    warmup: int = 0

    def _after_warmup(self) -> list[Sample]:
        return [s for s in self.samples if s.cycle >= self.warmup] or self.samples

    def growth(self, attr: str) -> float:
        """Relative growth of ``attr`` from the first sample after warm-up to the last."""
        kept = self._after_warmup()
        first, last = getattr(kept[0], attr), getattr(kept[-1], attr)
        return (last - first) / first if first else 0.0

    @property
    def peak_rss(self) -> int:
        return max(s.rss_bytes for s in self.samples)

    @property
    def flat(self) -> bool:
        return all(self.growth(a) < 0.05 for a in ("rss_bytes", "fds", "tasks"))


def sample(cycle: int) -> Sample:
    rss_pages = int(Path("/proc/self/statm").read_text().split()[1])
    fds = sum(1 for _ in Path("/proc/self/fd").iterdir())
    return Sample(cycle, rss_pages * PAGE, fds, len(asyncio.all_tasks()))


def _top_up(engine: MatchingEngine, app: App) -> None:
    for m in engine.markets():
        if engine.balance(KEY, m.base).total < m.min_amount:
            engine.deposit(KEY, m.base, Decimal(30))


async def _cycles(app: App, engine: MatchingEngine, result: LongRunResult, *, interval_s: float,
                  top_up_every: int, sample_every: int) -> None:  # fmt: skip
    for i in range(result.cycles):
        if i % sample_every == 0:  # before the top-up: the previous sales have ended
            result.samples.append(sample(i))
        if i % top_up_every == 0:
            _top_up(engine, app)
        try:
            started = await run_prioritisation_cycle(app)
            result.executions += len(started.started)
        except ExchangeError:
            result.cycle_errors += 1
        await app.clock.sleep(interval_s)
    await app.supervisor.wait_all()
    result.samples.append(sample(result.cycles))


async def long_run(
    cycles: int = 10_000, *, markets: int = 3, interval_s: float = 60.0, top_up_every: int = 20,
    sample_every: int = 500, warmup: int = 2_000, seed: int = 1,
) -> LongRunResult:  # fmt: skip
    clock = VirtualClock()
    engine = MatchingEngine(
        clock, make_rng(seed, "sim.engine"), fee_rate=Decimal("0.002"),
        keep_minutes=SIM_HISTORY_S // 60, order_history_s=SIM_HISTORY_S,
    )  # fmt: skip
    for i in range(markets):
        market, params = _market(i)
        engine.add_market(market, params, seed=f"{seed}/{i}")
    exchange = CachedExchange(SimExchange(engine, KEY, clock=clock), clock)
    result = LongRunResult(cycles, warmup=min(warmup, cycles // 2))
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'longrun.db'}"
        await upgrade(db_url)
        settings = _settings(db_url, seed, markets)
        app = build_app(settings, clock=clock, rng=make_rng(seed, "app"), exchange=exchange,
                        advisor=RuleAdvisor(settings.limits()))  # fmt: skip
        try:
            work = _cycles(app, engine, result, interval_s=interval_s,
                           top_up_every=top_up_every, sample_every=sample_every)  # fmt: skip
            await drive(clock, work, DbActivity(app.engine))
        finally:
            await app.close()
    return result
