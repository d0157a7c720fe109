"""Crash recovery: reconcile the store with the exchange, then resume without re-selling."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from bot.clock import VirtualClock
from bot.domain.decisions import StrategyName
from bot.domain.executions import ExecutionState
from bot.domain.orders import OrderState, OrderType
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.reconcile import resolve_stray_orders
from bot.execution.runner import ExecutionRunner
from tests.execution.exec_helpers import (
    CrashAfterPlace,
    CrashAfterWrite,
    Desk,
    Runners,
    make_execution,
    make_order,
)


async def test_restart_after_accepted_but_unread_order_never_resells(
    desk: Desk, store: MemoryExecutionStore, runners: Runners
) -> None:
    desk.deep_book()
    execution = make_execution(
        "rc1", strategy=StrategyName.TWAP, allocated="10", horizon_s=500, slices=5
    )
    await runners.crash(execution, exchange=CrashAfterPlace(desk, 3), seed=1)
    assert (await store.get_order("sb-rc1-3")) is not None

    [result] = (await runners.restart(seed=1)).results

    assert result.state is ExecutionState.COMPLETED
    assert result.sold == Decimal(10)
    assert desk.bot_sold() == Decimal(10)
    orders = await store.orders_for("rc1")
    assert [o.amount for o in orders] == [Decimal(2)] * 5
    assert all(o.state is OrderState.FILLED for o in orders)


async def test_restart_after_write_before_send_marks_vanished_then_completes(
    desk: Desk, runners: Runners
) -> None:
    desk.deep_book()
    store = CrashAfterWrite(crash_on=2)
    execution = make_execution(
        "rc2", strategy=StrategyName.TWAP, allocated="6", horizon_s=300, slices=3
    )
    await runners.crash(execution, store=store)
    store.crash_on = 0

    [result] = (await runners.restart(store=store, seed=1)).results

    assert result.sold == Decimal(6)
    assert desk.bot_sold() == Decimal(6)
    lost = await store.get_order("sb-rc2-2")
    assert lost is not None
    assert lost.state is OrderState.VANISHED
    assert await desk.bot_open_orders() == []


async def test_reconcile_adopts_an_order_the_database_lost(
    desk: Desk, store: MemoryExecutionStore, clock: VirtualClock, runners: Runners
) -> None:
    desk.deep_book()
    execution = make_execution("rc3", strategy=StrategyName.MARKET, allocated="4", horizon_s=60)
    await runners.crash(execution, exchange=CrashAfterPlace(desk))
    del store.orders["sb-rc3-1"]  # the row was lost; the exchange has the order

    restarted = await runners.restart(resume=False)
    adopted = await store.get_order("sb-rc3-1")
    result = await clock.run(restarted.runner.run(await store.get_execution("rc3")))

    assert restarted.report.adopted == 1
    assert adopted is not None
    assert adopted.state is OrderState.FILLED
    assert result.sold == Decimal(4)
    assert len(await store.orders_for("rc3")) == 1


async def test_restart_keeps_a_resting_limit_and_finishes_with_nothing_open(
    desk: Desk, store: MemoryExecutionStore, runners: Runners
) -> None:
    desk.wide_book()
    execution = make_execution(
        "rc4",
        strategy=StrategyName.LIMIT,
        allocated="5",
        horizon_s=120,
        limit_offset_bps=Decimal(50),
    )
    await runners.crash(execution, exchange=CrashAfterPlace(desk))
    desk.buy("2")  # fills part of our resting order while we are down

    [result] = (await runners.restart(seed=1)).results

    first = await store.get_order("sb-rc4-1")
    assert first is not None
    assert first.filled == Decimal(2)
    assert result.sold == Decimal(2)
    assert result.state is ExecutionState.PARTIAL
    assert await desk.bot_open_orders() == []


async def test_interrupting_a_run_cancels_orders_and_leaves_it_resumable(
    desk: Desk,
    store: MemoryExecutionStore,
    clock: VirtualClock,
    runner: ExecutionRunner,
    runners: Runners,
) -> None:
    desk.wide_book()
    execution = make_execution(
        "rc5",
        strategy=StrategyName.LIMIT,
        allocated="5",
        horizon_s=120,
        limit_offset_bps=Decimal(50),
    )
    task = asyncio.create_task(runner.run(execution))
    await clock.advance(5)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await desk.bot_open_orders() == []
    assert (await store.get_execution("rc5")).state is ExecutionState.RUNNING
    [result] = (await runners.restart(seed=1)).results
    assert result.state is ExecutionState.PARTIAL
    assert await desk.bot_open_orders() == []


async def test_user_cancel_ends_cancelled_with_nothing_open(
    desk: Desk, store: MemoryExecutionStore, clock: VirtualClock, runner: ExecutionRunner
) -> None:
    desk.wide_book()
    execution = make_execution(
        "rc6",
        strategy=StrategyName.ICEBERG,
        allocated="5",
        horizon_s=600,
        limit_offset_bps=Decimal(50),
    )
    task = asyncio.create_task(runner.run(execution))
    await clock.advance(5)

    runner.request_cancel("rc6")
    await clock.advance(10)
    result = await task

    assert result.state is ExecutionState.CANCELLED
    assert await desk.bot_open_orders() == []


async def test_an_unknown_order_is_resolved_before_its_execution_ends(
    desk: Desk, guards: ExecutionGuards, runners: Runners
) -> None:
    """Written, never sent, then a restart past the horizon: with fast polling the close
    phase is shorter than the unknown grace, yet the row must not be left ``unknown``."""
    desk.deep_book()
    guards = replace(guards, poll_interval_s=0.3, unknown_grace_s=60.0)
    store = CrashAfterWrite(crash_on=1)
    execution = make_execution("rc9", strategy=StrategyName.LIMIT, allocated="6", horizon_s=4)
    await runners.crash(execution, store=store, guards=guards)
    store.crash_on = 0

    [result] = (await runners.restart(store=store, guards=guards, seed=1)).results

    lost = await store.get_order("sb-rc9-1")
    assert lost is not None
    assert lost.state is OrderState.VANISHED
    assert "orders_unresolved" not in result.note
    assert result.state is ExecutionState.PARTIAL  # nothing sold: the next cycle sells it
    assert await desk.bot_open_orders() == []


async def test_orders_an_ended_execution_left_unresolved_are_settled_by_the_sweep(
    desk: Desk,
    store: MemoryExecutionStore,
    clock: VirtualClock,
    guards: ExecutionGuards,
    runners: Runners,
) -> None:
    desk.wide_book()
    runner = runners()
    ended = make_execution("st1", strategy=StrategyName.LIMIT, state=ExecutionState.RUNNING)
    running = make_execution("st2", strategy=StrategyName.LIMIT, state=ExecutionState.RUNNING)
    for e in (ended, running):
        await store.create_execution(e)
    resting = await runner.tracker.submit(
        "st1", "abcusdt", type=OrderType.LIMIT, amount=Decimal(1), price=Decimal("1.0100")
    )
    lost = make_order(
        "sb-st1-2", execution_id="st1", seq=2, amount="1", price="1.0100",
        state=OrderState.UNKNOWN, created_at=clock.now(),
    )  # fmt: skip
    await store.insert_order(lost)
    theirs = await runner.tracker.submit(
        "st2", "abcusdt", type=OrderType.LIMIT, amount=Decimal(1), price=Decimal("1.0150")
    )
    await store.update_execution(replace(ended, state=ExecutionState.PARTIAL))

    early = await resolve_stray_orders(store, runner.tracker)  # the unknown is still in grace
    await clock.advance(guards.unknown_grace_s + 1)
    late = await resolve_stray_orders(store, runner.tracker)

    states = {o.client_id: o.state for o in store.orders.values()}
    assert (early, late) == (1, 1)
    assert states[resting.client_id] is OrderState.CANCELLED
    assert states["sb-st1-2"] is OrderState.VANISHED
    assert states[theirs.client_id] is OrderState.OPEN  # a running execution's: left alone
    assert await desk.bot_open_orders() == [theirs.client_id]
