"""The fall detector on the others' quotes: a steady fall is called and answered within the
urgency's steps, calm books raise no alarm at the benchmark's seeds, and a fall under way is
still seen by a watch rebuilt after a restart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.bench.command import QUICK_SEEDS
from bot.bench.runner import FLOOR_FRAC, _case_market, guards_of
from bot.bench.scenarios import MAX_SLIPPAGE_BPS, MID0, Scenario, scenario
from bot.clock import VirtualClock
from bot.domain.decisions import Decision, StrategyName, Urgency
from bot.domain.executions import Execution, ExecutionState
from bot.domain.market import Market
from bot.execution.adaptive import AdaptiveExecutor
from bot.execution.fall import FALL_EVENT, FallWatch
from bot.execution.guards import price_bound
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.planning import AdaptiveAction, AdaptiveInputs, adaptive_step
from bot.execution.port import ExecutionContext
from bot.execution.tracker import OrderTracker
from bot.execution.urgency import profile
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange

STEP_S = 10.0
HORIZON_S = 600.0
ALLOCATED = Decimal(100)
LARGE = Decimal(2000)  # 20% of the daily volume: not sold at the first sign of a fall
D = Decimal
# the liquid book, flat for a minute, then a steady fall of 10% over nine minutes
FALL = Scenario("fall", 5.0, D(50), 5, 0.05, 0.3, 0.4, D("0.3"), D(10_000),
                script=((0.0, 1.0), (60.0, 1.0), (600.0, 0.9)))  # fmt: skip


def _verdict(
    watch: FallWatch, engine: MatchingEngine, market: Market, elapsed: float, urgency: Urgency
) -> AdaptiveAction:
    book = engine.order_book(market.id, 50)
    stats = watch.ref_stats(STEP_S)
    level = profile(urgency)
    return adaptive_step(
        book,
        AdaptiveInputs(
            allocated=ALLOCATED,
            sold=ALLOCATED,  # nothing left to sell: only the detector speaks
            elapsed_s=elapsed,
            horizon_s=HORIZON_S,
            step_s=STEP_S,
            volatility_bps=watch.mid_volatility_bps(STEP_S),
            fall_volatility_bps=stats.volatility_bps,
            bound=MID0 * FLOOR_FRAC,
            drop_bps=watch.drop_bps(),
            drift_t=stats.drift_t,
            drift_bps=stats.drift_bps,
            fell=watch.fell,
            jump_share=stats.jump_share,
            fell_steps=watch.fell_steps,
            front_load=level.front_load,
            fall_sigmas=level.fall_sigmas,
            fall_steps=level.fall_steps,
        ),
        market,
    )


async def _watch_until(
    s: Scenario, seed: int, until_s: float, urgency: Urgency
) -> tuple[VirtualClock, Market, MatchingEngine, FallWatch, list[float]]:
    """Read the book every step up to ``until_s``; return the times a fall was called."""
    clock, market, engine = _case_market(s, seed)
    start = clock.time()
    watch, called = FallWatch(30), []
    elapsed = 0.0
    while elapsed <= until_s:
        await clock.sleep_until(start + elapsed)
        watch.observe(engine.order_book(market.id, 50), [], clock.time())
        falling = _verdict(watch, engine, market, elapsed, urgency).mode == "falling"
        watch.mark(falling)
        if falling:
            called.append(elapsed)
        elapsed += STEP_S
    return clock, market, engine, watch, called


async def test_a_steady_fall_is_called_soon_after_it_starts_and_sooner_at_higher_urgency() -> None:
    first = []
    for urgency in Urgency:
        *_, called = await _watch_until(FALL, seed=1, until_s=250.0, urgency=urgency)
        assert called, f"the fall was never called at {urgency}"
        first.append(called[0])

    low, medium, high = first
    assert 60.0 < high <= medium <= low <= 240.0
    assert medium <= 150.0


def test_the_fall_response_sells_the_rest_within_the_urgencys_steps() -> None:
    book_market = Market("benchusdt", "bench", "usdt", 2, 2, D("0.01"), D("0.01"), D(1))
    for urgency in Urgency:
        level = profile(urgency)
        sold, steps = D(20), 0
        while sold < ALLOCATED:
            _, _, engine = _case_market(scenario("liquid"), 0)
            action = adaptive_step(
                engine.order_book(book_market.id, 200),
                AdaptiveInputs(
                    allocated=ALLOCATED, sold=sold, elapsed_s=100.0, horizon_s=HORIZON_S,
                    step_s=STEP_S, volatility_bps=D(1), bound=MID0 * FLOOR_FRAC,
                    drop_bps=D(100), drift_t=D(-5), drift_bps=D(-1), fell=True,
                    fell_steps=steps, front_load=level.front_load,
                    fall_sigmas=level.fall_sigmas, fall_steps=level.fall_steps,
                ),
                book_market,
            )  # fmt: skip
            assert action.mode == "falling"
            assert action.price >= MID0 * FLOOR_FRAC
            sold += action.amount
            steps += 1
        assert steps <= level.fall_steps


@pytest.mark.parametrize("name", ["liquid", "thin", "wide", "volatile"])
async def test_calm_books_raise_no_alarm_at_the_bench_seeds(name: str) -> None:
    for seed in range(QUICK_SEEDS):
        for urgency in (Urgency.LOW, Urgency.MEDIUM):
            *_, called = await _watch_until(scenario(name), seed, 300.0, urgency)
            assert called == [], (name, seed, urgency)


async def test_a_restored_watch_keeps_the_fall_until_it_can_judge_again() -> None:
    clock, market, engine, before, called = await _watch_until(
        FALL, seed=1, until_s=150.0, urgency=Urgency.MEDIUM
    )
    assert called
    assert before.first is not None
    start = clock.time() - 150.0
    await clock.sleep_until(clock.time() + 30.0)  # the process is down for 30 s
    book = engine.order_book(market.id, 50)
    forgetful, restored = FallWatch(30), FallWatch(30)
    restored.restore(before.first)
    for watch in (forgetful, restored):
        watch.observe(book, [], clock.time())

    elapsed = clock.time() - start
    assert _verdict(forgetful, engine, market, elapsed, Urgency.MEDIUM).mode != "falling"
    assert restored.restored
    assert restored.drop_bps() > 100


async def _adaptive_on(
    s: Scenario, store: MemoryExecutionStore
) -> tuple[VirtualClock, ExecutionContext, Execution]:
    clock, market, engine = _case_market(s, 1)
    engine.deposit("bot", market.base, LARGE)
    exchange = SimExchange(engine, "bot", clock=clock)
    guards = guards_of(s, market)
    tracker = OrderTracker(exchange=exchange, store=store, clock=clock)
    ctx = ExecutionContext(
        exchange=exchange,
        tracker=tracker,
        store=store,
        clock=clock,
        guards=guards,
        market=market,
        bound=price_bound(market, MID0, guards, MAX_SLIPPAGE_BPS),
    )
    decision = Decision(StrategyName.ADAPTIVE, int(HORIZON_S), max_slippage_bps=MAX_SLIPPAGE_BPS)
    execution = Execution(
        id="fall-1", market=market.id, currency=market.base, allocated=LARGE,
        decision=decision, state=ExecutionState.RUNNING, created_at=clock.now(),
        arrival_mid=MID0, started_at=clock.now(),
    )  # fmt: skip
    await store.create_execution(execution)
    return clock, ctx, execution


async def test_the_executor_persists_a_fall_and_a_restarted_one_keeps_selling_into_it() -> None:
    store = MemoryExecutionStore()
    clock, ctx, execution = await _adaptive_on(FALL, store)
    before = AdaptiveExecutor(ctx, execution)
    while "falling" not in before.modes:
        result = await before.step(execution)
        assert result.wake_at is not None
        await clock.sleep_until(result.wake_at)
    [event] = await store.events_for(execution.id, FALL_EVENT)
    assert Decimal(event["first"]) > MID0 * Decimal("0.99")

    await clock.sleep_until(clock.time() + 30.0)  # down for 30 s, then a new process resumes
    kept = list(store.events)
    store.events.clear()  # what a process without the persisted call would see
    forgetful = AdaptiveExecutor(ctx, execution)
    await forgetful.step(execution)
    store.events.extend(kept)
    after = AdaptiveExecutor(ctx, execution)
    await after.step(execution)

    assert after.modes == ["falling"]
    assert forgetful.modes
    assert forgetful.modes != ["falling"]
