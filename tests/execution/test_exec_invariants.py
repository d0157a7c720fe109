"""Property tests: whatever the fills, cancels, faults and crashes, the invariants hold.

* never oversell: the exchange's record of what we sold equals our fills and is at most the
  allocation, even across a crash and restart;
* every fill is at or above the bound (price floor and max slippage vs arrival mid);
* nothing is left open on the exchange when an execution ends;
* fills are idempotent: re-applying every trade changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import VirtualClock
from bot.domain.decisions import StrategyName
from bot.domain.executions import Execution
from bot.domain.money import ZERO
from bot.execution.guards import ExecutionGuards, price_bound
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.reconcile import reconcile, unfinished_executions
from bot.sim.exchange import SimExchange
from bot.sim.faults import FaultPlan
from bot.sim.records import SimError
from tests.execution.exec_helpers import (
    BOT_KEY,
    Crash,
    CrashAfterPlace,
    Desk,
    Runners,
    make_execution,
    make_market,
)

MARKET = make_market("abcusdt", amount_precision=4, price_precision=4, min_amount="0.01")

scenario = st.fixed_dictionaries(
    {
        "strategy": st.sampled_from(list(StrategyName)),
        "allocated": st.decimals(min_value=Decimal("0.005"), max_value=Decimal(40), places=4),
        "bids": st.lists(
            st.tuples(st.integers(9_000, 10_000), st.integers(100, 200_000)), min_size=0, max_size=6
        ),
        "asks": st.lists(
            st.tuples(st.integers(10_001, 11_000), st.integers(100, 200_000)),
            min_size=1,
            max_size=4,
        ),
        "horizon_s": st.integers(30, 900),
        "slices": st.integers(1, 8),
        "offset_bps": st.integers(0, 150),
        "slippage_bps": st.integers(10, 500),
        "floor": st.sampled_from([None, "0.95", "0.99", "1.0"]),
        "sweep": st.sampled_from(["leave", "cross"]),
        "events": st.lists(
            st.tuples(
                st.floats(0, 1000),
                st.sampled_from(["buy", "bid", "clear", "ask"]),
                st.integers(100, 100_000),  # at least the market minimum (0.01)
                st.integers(9_000, 11_000),
            ),
            max_size=12,
        ),
        "p_fault": st.sampled_from([0.0, 0.05, 0.15]),
        "crash_on": st.sampled_from([None, None, 1, 2, 3]),
        "seed": st.integers(0, 10_000),
    }
)


def _lot(units: int) -> str:
    return str(Decimal(units).scaleb(-4))


def _build(clock: VirtualClock, sc: dict[str, object]) -> Desk:
    desk = Desk(clock, MARKET)
    for price, amount in sc["bids"]:  # type: ignore[attr-defined]
        desk.bid(_lot(price), _lot(amount))
    for price, amount in sc["asks"]:  # type: ignore[attr-defined]
        desk.ask(_lot(price), _lot(amount))
    return desk


async def _chaos(
    desk: Desk, clock: VirtualClock, events: list[tuple[float, str, int, int]]
) -> None:
    start = clock.time()
    for at, kind, amount, price in sorted(events):
        await clock.sleep_until(start + at)
        with contextlib.suppress(SimError):  # the market may refuse a chaos order; skip it
            _chaos_step(desk, kind, amount, price)


def _chaos_step(desk: Desk, kind: str, amount: int, price: int) -> None:
    if kind == "buy":
        if desk.engine.order_book(MARKET.id, 1).asks:
            desk.buy(_lot(amount))
    elif kind == "bid":
        desk.bid(_lot(price), _lot(amount))
    elif kind == "ask":
        desk.ask(_lot(max(price, 10_001)), _lot(amount))
    else:
        desk.clear()


async def _run_scenario(sc: dict[str, object]) -> None:
    clock = VirtualClock()
    desk = _build(clock, sc)
    faults = FaultPlan(
        seed=sc["seed"],  # type: ignore[arg-type]
        p_5xx=float(sc["p_fault"]),  # type: ignore[arg-type]
        p_429=float(sc["p_fault"]),  # type: ignore[arg-type]
        p_lost_response=float(sc["p_fault"]),  # type: ignore[arg-type]
        retry_after_s=1.0,
        p_latency=0.3,
        max_latency_s=1.5,
    )
    floor = sc["floor"]
    guards = ExecutionGuards(
        max_slippage_bps=Decimal(300),
        price_floors={} if floor is None else {MARKET.id: Decimal(str(floor))},
        min_order_value=Decimal("0.05"),
        reprice_interval_s=20.0,
        final_sweep=sc["sweep"],  # type: ignore[arg-type]
        poll_interval_s=2.0,
        unknown_grace_s=20.0,
    )
    execution = make_execution(
        "inv",
        strategy=sc["strategy"],  # type: ignore[arg-type]
        allocated=str(sc["allocated"]),
        horizon_s=sc["horizon_s"],  # type: ignore[arg-type]
        slices=sc["slices"],  # type: ignore[arg-type]
        limit_offset_bps=Decimal(sc["offset_bps"]),  # type: ignore[arg-type]
        max_slippage_bps=Decimal(sc["slippage_bps"]),  # type: ignore[arg-type]
    )
    store = MemoryExecutionStore()
    exchange = SimExchange(desk.engine, BOT_KEY, clock=clock, faults=faults)
    runners = Runners(exchange, store, clock, guards)
    crash_on = sc["crash_on"]
    chaos = asyncio.ensure_future(_chaos(desk, clock, sc["events"]))  # type: ignore[arg-type]
    if crash_on is not None:
        crashing = CrashAfterPlace(desk, int(crash_on))  # type: ignore[call-overload]
        crashing.faults = faults
        first = runners(exchange=crashing, seed=1)
        with contextlib.suppress(Crash):  # the process "dies"; a restart follows
            await clock.run(first.run(execution))
    runner = runners(seed=1)
    results: list[Execution] = []
    for _ in range(5):  # reconcile may itself meet faults
        try:
            await clock.run(
                reconcile(exchange=exchange, store=store, tracker=runner.tracker, clock=clock)
            )
            break
        except Exception:
            await clock.run(clock.sleep(1))
    pending = await unfinished_executions(store) if crash_on is not None else [execution]
    for unfinished in pending:
        results.append(await clock.run(runner.run(unfinished)))
    await clock.run(chaos)
    final = await store.get_execution("inv")
    faults.clear()

    # never oversell, and our records match the exchange's
    sold_on_exchange = desk.bot_sold()
    fills = await store.fills_for("inv")
    recorded = sum((f.amount for f in fills), ZERO)
    assert sold_on_exchange <= execution.allocated
    assert recorded == sold_on_exchange, (recorded, sold_on_exchange, final.note)
    assert final.state.terminal
    assert final.sold == recorded
    # every fill respects the floor and the slippage guard
    if fills:  # an allocation below the minimum ends before it starts, with no arrival mid
        assert final.arrival_mid is not None
        bound = price_bound(MARKET, final.arrival_mid, guards, execution.decision.max_slippage_bps)
        assert all(f.price >= bound for f in fills), (bound, [str(f.price) for f in fills])
    # nothing left open
    assert desk.engine.open_orders(BOT_KEY, MARKET.id) == []
    # fills are idempotent
    for fill in fills:
        order = next(o for o in store.orders.values() if o.exchange_id == fill.order_id)
        assert not await store.record_fill("inv", order.client_id, fill)
    assert sum((f.amount for f in await store.fills_for("inv")), ZERO) == recorded
    # no order was ever bigger than what was left
    assert sum((o.amount for o in store.orders.values() if o.exchange_id), ZERO) >= recorded


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(sc=scenario)
def test_execution_invariants_hold_under_random_fills_cancels_faults_and_crashes(
    sc: dict[str, object],
) -> None:
    random.seed(0)
    asyncio.run(_run_scenario(sc))
