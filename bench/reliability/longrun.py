"""Long run: many scheduler cycles in virtual time; resident memory, fds and tasks stay flat.

The daemon's App (``build_app``: SQLite store, rule advisor, supervisor) over an in-process
simulator with a few markets runs ``run_prioritisation_cycle`` every ``interval_s`` virtual
seconds, with the sales it starts running alongside, and balances topped up every
``top_up_every`` cycles so there is always something to sell. Every ``sample_every`` cycles
it records resident memory and open file descriptors as the app's own ``/metrics`` serves
them (``process_resident_memory_bytes``, ``process_open_fds``: scraped over HTTP from the ops
server, as Prometheus would; virtual time stands still during the scrape) and asyncio
tasks. Growth is measured from the first sample after ``warmup`` cycles to the last. The
simulator shares the process, so it keeps a bounded history (a day of k-line buckets and
of finished orders, ``SIM_HISTORY_S``): otherwise its own bookkeeping would be measured.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench.reliability.campaign import KEY, _market, _settings
from bench.reliability.meter import Tick, silent
from bench.reliability.vtime import DbActivity, drive
from bot.advisor.rules import RuleAdvisor
from bot.bootstrap import App, build_app
from bot.clock import VirtualClock
from bot.db.migrate import upgrade
from bot.exchange.cached import CachedExchange
from bot.exchange.errors import ExchangeError
from bot.metrics import Metrics
from bot.rand import make_rng
from bot.service.cycle import run_prioritisation_cycle
from bot.service.ops_http import OpsServer, ReadinessChecks, create_ops_app
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange

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


class Activity(DbActivity):
    """The database's activity, and a scrape of ``/metrics`` in flight: time waits for both."""

    scraping = False

    @property
    def busy(self) -> bool:
        return self.scraping or super().busy


async def _always() -> bool:
    return True


class MetricsScraper:
    """Scrape the app's ``/metrics`` from its ops server over HTTP, as Prometheus would."""

    def __init__(self, metrics: Metrics, activity: Activity) -> None:
        checks = ReadinessChecks(database=_always, exchange=_always, scheduler=lambda: True)
        self._server = OpsServer(create_ops_app(metrics, checks), host="127.0.0.1", port=0)
        self._activity = activity
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        await self._server.start()
        self._http = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        await self._server.stop()

    async def scrape(self) -> dict[str, float]:
        """Every unlabelled sample by name (``process_resident_memory_bytes`` ...)."""
        if self._http is None:
            raise RuntimeError("MetricsScraper.start() first")
        self._activity.scraping = True
        try:
            url = f"http://127.0.0.1:{self._server.port}/metrics"
            async with self._http.get(url) as resp:
                resp.raise_for_status()
                text = await resp.text()
        finally:
            self._activity.scraping = False
        families = text_string_to_metric_families(text)
        return {s.name: s.value for f in families for s in f.samples if not s.labels}

    async def sample(self, cycle: int) -> Sample:
        scraped = await self.scrape()
        rss, fds = scraped["process_resident_memory_bytes"], scraped["process_open_fds"]
        return Sample(cycle, int(rss), int(fds), len(asyncio.all_tasks()))


def _top_up(engine: MatchingEngine, app: App) -> None:
    for m in engine.markets():
        if engine.balance(KEY, m.base).total < m.min_amount:
            engine.deposit(KEY, m.base, Decimal(30))


async def _cycles(app: App, engine: MatchingEngine, result: LongRunResult, scraper: MetricsScraper,
                  *, interval_s: float, top_up_every: int, sample_every: int,
                  progress: Tick) -> None:  # fmt: skip
    for i in range(result.cycles):
        if i % sample_every == 0:  # before the top-up: the previous sales have ended
            result.samples.append(await scraper.sample(i))
        if i % top_up_every == 0:
            _top_up(engine, app)
        try:
            started = await run_prioritisation_cycle(app)
            result.executions += len(started.started)
        except ExchangeError:
            result.cycle_errors += 1
        await app.clock.sleep(interval_s)
        progress(i + 1)
    await app.supervisor.wait_all()
    result.samples.append(await scraper.sample(result.cycles))


async def long_run(
    cycles: int = 10_000, *, markets: int = 3, interval_s: float = 60.0, top_up_every: int = 20,
    sample_every: int = 500, warmup: int = 2_000, seed: int = 1, progress: Tick = silent,
) -> LongRunResult:  # fmt: skip
    """Run ``cycles`` scheduler cycles; ``progress`` is told how many are done after each."""
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
        activity = Activity(app.engine)
        scraper = MetricsScraper(app.metrics, activity)
        await scraper.start()
        try:
            work = _cycles(app, engine, result, scraper, interval_s=interval_s,
                           top_up_every=top_up_every, sample_every=sample_every,
                           progress=progress)  # fmt: skip
            await drive(clock, work, activity)
        finally:
            await scraper.close()
            await app.close()
    return result
