"""Run every strategy on the same simulated market, seed by seed, in worker processes.

One *case* is (scenario, size, seed). Its exogenous market (mid path, other traders) is drawn
from the market model's own rng streams, seeded by ``"{scenario}/{seed}"`` only, so every
strategy of the case sees the same market whatever it does. Each strategy runs the daemon's
``ExecutionRunner`` and executors on a fresh in-process ``MatchingEngine`` in virtual time,
with an in-memory store. Fees are zero: the benchmark measures execution, not the fee table.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal

import structlog

from bot.advisor.port import AdviceContext
from bot.advisor.rules import RuleAdvisor
from bot.bench.clock import SoleTaskClock
from bot.bench.oracle import optimal_factory
from bot.bench.scenarios import (
    HORIZON_S,
    MAX_SLIPPAGE_BPS,
    MID0,
    SLICES,
    Scenario,
    market_of,
    params_of,
    scenario,
)
from bot.clock import VirtualClock
from bot.domain.balances import BalanceScore, Classification, ScoreMetrics
from bot.domain.decisions import Decision, Limits, StrategyName, Urgency
from bot.domain.executions import Execution, ExecutionState
from bot.domain.market import Market, OrderBook
from bot.domain.money import BPS, ZERO
from bot.domain.orders import Side
from bot.execution.guards import ExecutionGuards, price_bound
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.port import ExecutorFactory
from bot.execution.registry import EXECUTORS, SEEDED_BY_EXECUTION_ID, executor_view
from bot.execution.runner import ExecutionRunner
from bot.execution.urgency import longest_horizon_s
from bot.prioritisation.scoring import bid_depths
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange

LIMITS = Limits(
    max_slippage_bps=MAX_SLIPPAGE_BPS,
    min_slices=1,
    max_slices=30,
    min_horizon_s=30,
    max_horizon_s=HORIZON_S,
)
STRATEGIES = (
    "market",
    "limit",
    "twap",
    "iceberg",
    "adaptive@low",
    "adaptive",
    "adaptive@high",
    "optimal",
    "advisor",
)
URGENT = "@"  # "adaptive@low": adaptive at that urgency; plain "adaptive" is medium
BOT_KEY = "bench"
FLOOR_FRAC = Decimal("0.97")  # a configured price floor 3% under the opening mid
UNSELLABLE_BPS = 10_000.0  # a remainder below the minimums at the end is worth nothing
CHUNKS_PER_WORKER = 16  # small batches: no worker idles long at the end


@dataclass(frozen=True, slots=True)
class RunResult:
    """One strategy on one case; costs in bps of the arrival value (positive = cost)."""

    strategy: str
    is_executed_bps: float | None
    is_total_bps: float
    unsold_frac: float
    completion_s: float | None  # last fill after start, when everything sold
    violations: int
    chosen: str = ""  # the advisor's strategy
    urgency: str = ""  # of an adaptive run (the advisor's too, when it chose adaptive)


@dataclass(frozen=True, slots=True)
class CaseResult:
    scenario: str
    size: str
    seed: int
    runs: tuple[RunResult, ...]


def guards_of(s: Scenario, market: Market) -> ExecutionGuards:
    return ExecutionGuards(
        max_slippage_bps=MAX_SLIPPAGE_BPS,
        price_floors={market.id: MID0 * FLOOR_FRAC},
        min_order_value=s.min_value,
        reprice_interval_s=30.0,
        final_sweep="cross",
        poll_interval_s=2.0,
        unknown_grace_s=30.0,
    )


def decision_of(strategy: str, s: Scenario) -> Decision:
    """Return the fixed decision each baseline strategy runs with (an adaptive run's horizon
    is the longest its urgency allows, as the guardrails would clamp it)."""
    offset = Decimal(repr(round(2 * s.half_spread_bps / 3, 2)))
    name, _, level = strategy.partition(URGENT)
    kind = StrategyName.TWAP if name == "optimal" else StrategyName(name)
    urgency = Urgency(level) if level else Urgency.MEDIUM
    return Decision(
        strategy=kind,
        horizon_s=longest_horizon_s(HORIZON_S, LIMITS.min_horizon_s, urgency),
        urgency=urgency,
        slices=SLICES if kind is not StrategyName.MARKET else 1,
        limit_offset_bps=offset if kind in (StrategyName.LIMIT, StrategyName.ICEBERG) else ZERO,
        display_frac=Decimal("0.2"),
        max_slippage_bps=MAX_SLIPPAGE_BPS,
        reason=f"bench {strategy}",
    )


def run_name(decision: Decision) -> str:
    """Return the bench's name for a decision's strategy ("adaptive@high" for an urgency)."""
    if decision.strategy is StrategyName.ADAPTIVE and decision.urgency is not Urgency.MEDIUM:
        return f"{decision.strategy}{URGENT}{decision.urgency}"
    return str(decision.strategy)


def advisor_decision(s: Scenario, amount: Decimal, book: OrderBook) -> Decision:
    """Return the rule advisor's decision from the opening book and the true volatility."""
    mid = book.mid
    depth1, depth5 = bid_depths(book, mid)
    value = amount * (mid or MID0)
    metrics = ScoreMetrics(
        best_bid=book.best_bid,
        mid=mid,
        spread_bps=book.spread_bps,
        depth_1pct_quote=depth1,
        depth_5pct_quote=depth5,
        volume_24h_quote=s.daily * MID0,
        volatility_bps_per_hour=Decimal(repr(round(s.sigma_bps_s * 60, 2))),
    )
    score = BalanceScore(
        currency="bench",
        market="benchusdt",
        amount=amount,
        classification=Classification.SELL,
        score=Decimal(1),
        value_quote=value,
        metrics=metrics,
    )
    ctx = AdviceContext(score=score, market=market_of(s), book=book)
    return RuleAdvisor(LIMITS).decide(ctx)


async def run_strategy(
    s: Scenario, amount: Decimal, seed: int, strategy: str, decision: Decision | None = None
) -> tuple[RunResult, MatchingEngine]:
    """Run one strategy on the case's market and measure it (``decision`` replaces the
    baseline's own, or the advisor's when the caller has it already)."""
    clock, market, engine = _case_market(s, seed)
    engine.deposit(BOT_KEY, market.base, amount)
    exchange = SimExchange(engine, BOT_KEY, clock=clock)
    guards = guards_of(s, market)
    executors: Mapping[str, ExecutorFactory] = EXECUTORS
    chosen = ""
    if strategy == "optimal":
        executors = {**EXECUTORS, StrategyName.TWAP: optimal_factory(s.rho)}
        decision = decision_of(strategy, s)
    elif strategy == "advisor":
        decision = decision or advisor_decision(s, amount, engine.order_book(market.id, 200))
        chosen = run_name(decision)
    else:
        decision = decision or decision_of(strategy, s)
    store = MemoryExecutionStore()
    runner = ExecutionRunner(
        exchange=exchange, store=store, clock=clock, guards=guards, seed=seed, executors=executors
    )
    execution = Execution(
        id=f"{strategy}-{seed}",
        market=market.id,
        currency=market.base,
        allocated=amount,
        decision=decision,
        state=ExecutionState.QUEUED,
        created_at=clock.now(),
    )
    done = await clock.run(runner.run(execution))
    result = _measure(engine, store, done, market, guards, strategy, chosen)
    if decision.strategy is StrategyName.ADAPTIVE:
        result = replace(result, urgency=str(decision.urgency))
    return result, engine


def _measure(
    engine: MatchingEngine,
    store: MemoryExecutionStore,
    done: Execution,
    market: Market,
    guards: ExecutionGuards,
    strategy: str,
    chosen: str,
) -> RunResult:
    arrival = done.arrival_mid or MID0
    bound = price_bound(market, arrival, guards, done.decision.max_slippage_bps)
    fills = [fill for _, _, fill in store.fills.values()]
    violations = sum(1 for f in fills if f.price < bound)
    violations += 1 if done.sold > done.allocated else 0
    unsold = done.allocated - done.sold
    value = arrival * done.allocated
    dump = _dump_value(engine, market, unsold, guards)
    total = float((value - done.proceeds - dump) / value * BPS) if value > 0 else 0.0
    executed = done.shortfall_bps
    started = (done.started_at or done.created_at).timestamp()
    last = max((f.at.timestamp() for f in fills), default=None)
    completion = last - started if last is not None and unsold <= 0 else None
    return RunResult(
        strategy=strategy,
        is_executed_bps=float(executed) if executed is not None else None,
        is_total_bps=total,
        unsold_frac=float(unsold / done.allocated) if done.allocated > 0 else 0.0,
        completion_s=completion,
        violations=violations,
        chosen=chosen,
    )


def _dump_value(
    engine: MatchingEngine, market: Market, unsold: Decimal, guards: ExecutionGuards
) -> Decimal:
    """Return what dumping ``unsold`` into the bids at the end would fetch (0 if unsellable).

    Only the background model rests bids here (the bot only sells), so its levels are the
    whole bid side; they are walked lazily instead of materialising a deep book.
    """
    model = engine.model(market.id)
    if unsold <= 0 or model is None:
        return ZERO
    engine.sync(market.id)
    left, proceeds = unsold, ZERO
    for price, amount in model.levels(Side.BUY):
        take = min(left, amount)
        proceeds += take * price
        left -= take
        if left <= 0:
            break
    if left > 0 or proceeds < max(market.min_value, guards.min_order_value):
        return ZERO
    return proceeds


def _case_market(s: Scenario, seed: int) -> tuple[VirtualClock, Market, MatchingEngine]:
    """Return a fresh clock and engine holding the case's market, at its start (the run is
    one chain of awaits, so its sleeps end at once: ``SoleTaskClock``)."""
    clock = SoleTaskClock()
    market = market_of(s)
    engine = MatchingEngine(clock, make_rng(seed, "bench.engine"), fee_rate=ZERO)
    engine.add_market(market, params_of(s), seed=f"{s.name}/{seed}", shared_path=True)
    return clock, market, engine


async def _run_case(name: str, size: str, amount: Decimal, seed: int) -> CaseResult:
    s = scenario(name)
    _, market, opening = _case_market(s, seed)
    advice = advisor_decision(s, amount, opening.order_book(market.id, 200))
    runs: dict[str, RunResult] = {}
    for strategy in STRATEGIES:
        same = _baseline_like(advice, s) if strategy == "advisor" else None
        if same is not None and same in runs:
            runs[strategy] = replace(runs[same], strategy=strategy, chosen=same)
        else:
            decision = advice if strategy == "advisor" else None
            runs[strategy] = (await run_strategy(s, amount, seed, strategy, decision))[0]
    return CaseResult(name, size, seed, tuple(runs[strategy] for strategy in STRATEGIES))


def _baseline_like(advice: Decision, s: Scenario) -> str | None:
    """Return the baseline whose run the advisor's decision repeats exactly, if one does:
    the same executor view (``registry.executor_view``) and no randomness from the
    execution id, whose name differs. Saves the advisor's run in the adaptive rows."""
    chosen = run_name(advice)
    if str(advice.strategy) in SEEDED_BY_EXECUTION_ID:
        return None
    if executor_view(advice) != executor_view(decision_of(chosen, s)):
        return None
    return chosen


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Drop the executors' info events (thousands per second here), restoring the config."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.configure(**saved)


def run_cases(cases: list[tuple[str, str, str, int]]) -> list[CaseResult]:
    """Run a batch of cases (scenario, size label, amount, seed) in this process."""

    async def batch() -> list[CaseResult]:
        return [await _run_case(n, size, Decimal(a), seed) for n, size, a, seed in cases]

    with quiet_logs(), lenient_gc():
        return asyncio.run(batch())


def _worker_logs() -> None:
    """Quiet a worker process's logs for good, with each module's logger assembled once (a
    lazy proxy otherwise builds a logger on every call; the cost is in docs/benchmark.md)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=True,
    )


@contextmanager
def lenient_gc() -> Iterator[None]:
    """Collect cycles less often: a run allocates millions of short-lived objects that
    reference counting frees, and the default thresholds keep scanning them (the cost is in
    docs/benchmark.md)."""
    saved = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def all_cases(
    scenarios: Iterable[Scenario], seeds: int, sizes: set[str] | None = None
) -> list[tuple[str, str, str, int]]:
    out: list[tuple[str, str, str, int]] = []
    for s in scenarios:
        for label, amount in s.sizes():
            if sizes is not None and label not in sizes:
                continue
            out.extend((s.name, label, str(amount), seed) for seed in range(seeds))
    return out


def run_all(
    cases: list[tuple[str, str, str, int]],
    *,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> list[CaseResult]:
    """Run ``cases`` in ``workers`` processes; the result does not depend on the split.
    ``progress`` is told how many cases are done after each batch."""
    report = progress or (lambda done: None)
    if workers <= 1 or len(cases) < 2:
        results = run_cases(cases)
        report(len(results))
        return results
    chunks = [cases[i :: workers * CHUNKS_PER_WORKER] for i in range(workers * CHUNKS_PER_WORKER)]
    results, done = [], 0
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_logs) as pool:
        futures = [pool.submit(run_cases, chunk) for chunk in chunks if chunk]
        for future in as_completed(futures):
            part = future.result()
            results.extend(part)
            done += len(part)
            report(done)
    order = {c: i for i, c in enumerate((n, size, seed) for n, size, _, seed in cases)}
    return sorted(results, key=lambda r: order[(r.scenario, r.size, r.seed)])
