"""In-process fault campaign: the daemon's pipeline over a faulty simulator in virtual time.

One *shard* is one account on its own ``MatchingEngine`` with ``markets`` synthetic markets.
It builds the real ``App`` (``build_app``: SQLite store, rule advisor, supervisor, limiter)
around ``SimExchange(faults=FaultPlan)`` and runs ``rounds`` prioritisation cycles, each with
``SELLBOT_FORCE_STRATEGY`` rotated over the strategies and the balances topped up again, so
every round sells every market once. A maintenance window disables one market for a while.

Faults covered here (in-process, drawn per request by ``FaultPlan``): HTTP 5xx, 429 with
Retry-After, accepted-but-response-lost order writes, connection resets (surfacing as
``ExchangeUnavailable``, as the client maps them), latency up to ``max_latency_s`` on the
virtual clock, and the maintenance window. WebSocket drops need the HTTP leg
(``bench.reliability.http_leg``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import structlog

from bench.reliability.invariants import InvariantReport, Window, check, read_db
from bench.reliability.meter import Tick, silent
from bench.reliability.stack import ReadRetrying
from bench.reliability.vtime import DbActivity, drive
from bot.advisor.rules import RuleAdvisor
from bot.bootstrap import App, build_app
from bot.clock import Clock, VirtualClock
from bot.db.migrate import upgrade
from bot.domain.decisions import StrategyName
from bot.domain.market import Market
from bot.domain.orders import Order
from bot.exchange.cached import CachedExchange
from bot.exchange.errors import ExchangeError
from bot.rand import make_rng
from bot.service.cycle import run_prioritisation_cycle
from bot.settings import Settings
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange
from bot.sim.faults import FaultPlan
from bot.sim.market_params import MarketParams

KEY = "campaign"
CYCLE_INTERVAL_S = 60.0
MAX_CYCLES_PER_ROUND = 60
STRATEGIES: tuple[StrategyName, ...] = tuple(StrategyName)


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Per-request fault probabilities (the issue's figures by default)."""

    p_5xx: float = 0.10
    p_429: float = 0.05
    p_lost: float = 0.02
    p_reset: float = 0.01
    max_latency_s: float = 2.0
    maintenance_s: float = 600.0  # one market disabled this long, from the second round

    def plan(self, seed: int | str) -> FaultPlan:
        return FaultPlan(
            seed=seed,
            p_5xx=self.p_5xx,
            p_429=self.p_429,
            retry_after_s=1.0,
            p_latency=1.0 if self.max_latency_s > 0 else 0.0,
            max_latency_s=self.max_latency_s,
            p_reset=self.p_reset,
            p_lost_response=self.p_lost,
        )


@dataclass
class ShardResult:
    seed: int
    report: InvariantReport
    injected: dict[str, int] = field(default_factory=dict)
    virtual_s: float = 0.0


def _market(i: int) -> tuple[Market, MarketParams]:
    base = f"c{i:03d}"
    market = Market(
        id=f"{base}usdt",
        base=base,
        quote="usdt",
        amount_precision=2,
        price_precision=4,
        min_amount=Decimal("0.1"),
        min_price=Decimal("0.0001"),
        min_value=Decimal(1),
    )
    params = MarketParams(
        mid0=Decimal("10.0000"),
        price_precision=4,
        amount_precision=2,
        sigma_per_s=0.0002,
        half_spread_bps=10.0,
        d0=Decimal(40),
        alpha=0.5,
        rho=0.05,
        taker_rate_per_s=0.05,
        taker_size_scale=Decimal(5),
        min_amount=Decimal("0.1"),
        min_value=Decimal(1),
        daily_volume=Decimal(100_000),
        level_ticks=5,
    )
    return market, params


def _settings(db_url: str, seed: int, markets: int) -> Settings:
    env: dict[str, object] = {
        "DATABASE_URL": db_url,
        "SELLBOT_QUOTE_CURRENCY": "usdt",
        "SELLBOT_MIN_ORDER_VALUE": "1",
        "SELLBOT_MAX_DAILY_VALUE": "1000000000000",
        "SELLBOT_MAX_CONCURRENT_EXECUTIONS": str(markets),
        "SELLBOT_MIN_HORIZON_S": "300",
        "SELLBOT_MAX_HORIZON_S": "900",
        "SELLBOT_MIN_SLICES": "2",
        "SELLBOT_MAX_SLICES": "6",
        "SELLBOT_ORDER_POLL_INTERVAL_S": "2",
        "SELLBOT_MAX_SLIPPAGE_BPS": "300",
        "SELLBOT_SEED": str(seed),
        "SELLBOT_WEBSOCKET": "false",
        "SELLBOT_HTTP_PORT": "0",
    }
    return Settings(**env)  # type: ignore[arg-type]


def _top_up(engine: MatchingEngine, markets: Sequence[Market], rng_seed: int, rnd: int) -> None:
    rng = make_rng(f"{rng_seed}/{rnd}", "campaign.balances")
    for m in markets:
        have = engine.balance(KEY, m.base).available
        if have < Decimal(1):
            engine.deposit(KEY, m.base, Decimal(rng.randint(20, 200)))


async def _maintenance(
    clock: VirtualClock, plan: FaultPlan, market: str, at: float, s: float
) -> None:
    await clock.sleep_until(at)
    plan.maintenance.add(market)
    await clock.sleep(s)
    plan.maintenance.discard(market)


async def _exchange_orders(exchange: SimExchange, markets: Sequence[Market]) -> list[Order]:
    found: list[Order] = []
    for m in markets:
        page = 1
        while batch := await exchange.orders(m.id, page=page, limit=100):
            found.extend(batch)
            page += 1
    return found


async def _cycle(app: App, stats: Counter[str]) -> bool:
    """One scheduled cycle as the daemon's job runs it; True when it started nothing new."""
    try:
        result = await run_prioritisation_cycle(app)
    except ExchangeError:  # the job boundary logs it; the next interval tries again
        stats["cycles_failed"] += 1
        return False
    stats["cycles"] += 1
    return not result.started


@dataclass
class Round:
    """What one round put up for sale and what it sold."""

    engine: MatchingEngine
    markets: Sequence[Market]
    plan: FaultPlan
    stats: Counter[str]
    touched: set[str] = field(default_factory=set)  # markets in maintenance during the round

    def unsold(self) -> set[str]:
        left = set()
        for m in self.markets:
            b = self.engine.balance(KEY, m.base)
            if b.available + b.locked >= m.min_amount:
                left.add(m.id)
        return left

    def count(self) -> None:
        unsold = self.unsold()
        for m in self.markets:
            if m.id in self.touched:
                continue
            self.stats["sales"] += 1
            self.stats["sales_completed"] += m.id not in unsold


async def _rounds(
    app: App, clock: VirtualClock, rounds: int, top_up: Callable[[int], None], rnd_: Round,
    progress: Tick,
) -> None:  # fmt: skip
    for rnd in range(rounds):
        strategy = STRATEGIES[rnd % len(STRATEGIES)]
        app.settings = app.settings.model_copy(update={"force_strategy": strategy})
        top_up(rnd)
        rnd_.touched = set(rnd_.plan.maintenance)
        for _ in range(MAX_CYCLES_PER_ROUND):
            idle = await _cycle(app, rnd_.stats)
            rnd_.touched |= rnd_.plan.maintenance
            if idle and not app.supervisor.active_ids:
                break
            await clock.sleep(CYCLE_INTERVAL_S)
        await app.supervisor.wait_all()
        rnd_.touched |= rnd_.plan.maintenance
        rnd_.count()
        progress(rnd + 1)


def build_engine(clock: Clock, markets: int, seed: int) -> tuple[MatchingEngine, list[Market]]:
    engine = MatchingEngine(clock, make_rng(seed, "sim.engine"), fee_rate=Decimal("0.002"))
    listed = []
    for i in range(markets):
        market, params = _market(i)
        engine.add_market(market, params, seed=f"{seed}/{i}")
        listed.append(market)
    return engine, listed


async def run_shard(
    seed: int, *, markets: int = 10, rounds: int = 5, rates: FaultRates | None = None,
    workdir: Path | None = None, progress: Tick = silent,
) -> ShardResult:  # fmt: skip
    """Run one shard and return its invariants (compared with faults switched off);
    ``progress`` is told how many rounds are done after each."""
    rates = rates or FaultRates()
    clock = VirtualClock()
    engine, listed = build_engine(clock, markets, seed)
    plan = rates.plan(f"faults/{seed}")
    exchange = SimExchange(engine, KEY, clock=clock, faults=plan)
    stack = CachedExchange(ReadRetrying(exchange, clock, make_rng(seed, "client")), clock)
    stats: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'campaign.db'}"
        await upgrade(db_url)
        settings = _settings(db_url, seed, markets)
        app = build_app(
            settings, clock=clock, rng=make_rng(seed, "app"), exchange=stack,
            advisor=RuleAdvisor(settings.limits()),
        )  # fmt: skip
        start = clock.time()
        window = Window(listed[0].id, start + 900.0, start + 900.0 + rates.maintenance_s)
        try:
            closer = asyncio.ensure_future(
                _maintenance(clock, plan, window.market, window.start, rates.maintenance_s)
            )
            rounds_ = Round(engine, listed, plan, stats)
            db = DbActivity(app.engine)
            top_up = functools.partial(_top_up, engine, listed, seed)
            await drive(clock, _rounds(app, clock, rounds, top_up, rounds_, progress), db)
            await drive(clock, closer, db)
            report = await _verdict(app, exchange, rounds_, [window] if rates.maintenance_s else [])
        finally:
            await app.close()
    injected = dict(plan.counters) | {f"daemon_{k}": v for k, v in stats.items()}
    return ShardResult(seed, report, injected, clock.time() - start)


async def _verdict(
    app: App, exchange: SimExchange, done: Round, windows: list[Window]
) -> InvariantReport:
    """Switch the faults off, then compare the exchange with the database."""
    done.plan.clear()
    done.plan.apply_maintenance(done.engine)
    report = check(
        await read_db(app.sessions),
        await _exchange_orders(exchange, done.markets),
        now=app.clock.time(),
        maintenance=windows,
    )
    report.sales = done.stats.pop("sales", 0)
    report.sales_completed = done.stats.pop("sales_completed", 0)
    return report


def quiet_logs() -> None:
    """Keep campaign output to the table: only errors from the daemon's loggers."""
    logging.basicConfig(level=logging.ERROR)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


def run_shard_sync(
    seed: int, markets: int, rounds: int, rounds_done: queue.Queue[int] | None = None
) -> ShardResult:
    """Process-pool entry point; puts each round's number on ``rounds_done`` as it ends."""
    quiet_logs()
    progress = rounds_done.put if rounds_done is not None else silent
    return asyncio.run(run_shard(seed, markets=markets, rounds=rounds, progress=progress))
