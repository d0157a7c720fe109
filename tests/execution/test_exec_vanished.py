"""An exchange that does not echo client ids: unknown orders are found by shape, vanished
ones are re-checked and adopted, and no exchange order is given to two rows."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.clock import VirtualClock
from bot.domain.executions import ExecutionState
from bot.domain.orders import OrderState, OrderType, Side
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.runner import ExecutionRunner
from bot.execution.store import OrderRecord
from bot.execution.vanished import recheck_vanished
from tests.execution.exec_helpers import (
    BOT_KEY,
    CrashAfterPlace,
    Desk,
    Runners,
    make_execution,
    make_order,
)


def _row(client_id: str, execution_id: str, state: OrderState, clock: VirtualClock) -> OrderRecord:
    return make_order(
        client_id, execution_id=execution_id, seq=int(client_id[-1]), amount="3",
        price="1.0000", state=state, created_at=clock.now(),
    )  # fmt: skip


def _place(desk: Desk) -> str:
    """The bot's account places the order the rows describe (the exchange keeps no client id)."""
    order = desk.engine.place_order(
        BOT_KEY, "abcusdt", Side.SELL, OrderType.LIMIT, Decimal(3), Decimal("1.0000"), "ignored"
    )
    return str(order.id)


async def _recheck(
    desk: Desk,
    store: MemoryExecutionStore,
    runner: ExecutionRunner,
    rows: list[OrderRecord] | None = None,
) -> int:
    """The tracking job's re-check over ``rows`` (every row of the store by default)."""
    rows = list(store.orders.values()) if rows is None else rows
    return await recheck_vanished(
        exchange=desk.exchange, store=store, tracker=runner.tracker, rows=rows, held=set()
    )


@pytest.fixture
def blind(desk: Desk) -> Desk:
    desk.engine.echo_client_ids = False
    desk.deep_book()
    return desk


async def test_a_lost_answer_after_a_restart_is_found_by_shape_not_resold(
    blind: Desk,
    store: MemoryExecutionStore,
    clock: VirtualClock,
    guards: ExecutionGuards,
    runners: Runners,
) -> None:
    execution = make_execution("vx1", allocated="4", horizon_s=60)
    await runners.crash(execution, exchange=CrashAfterPlace(blind))
    await clock.advance(guards.unknown_grace_s + 60)  # down past the grace: a lookup finds nothing

    restarted = await runners.restart()

    first = await store.get_order("sb-vx1-1")
    assert first is not None
    assert first.state is OrderState.FILLED
    assert restarted.report.vanished == 0
    assert [r.sold for r in restarted.results] == [Decimal(4)]
    assert blind.bot_sold() == Decimal(4)  # sold once: the allocation, not twice it


async def test_a_vanished_order_listed_later_is_adopted_with_its_fills(
    blind: Desk, store: MemoryExecutionStore, clock: VirtualClock, runner: ExecutionRunner
) -> None:
    execution = make_execution("vx2", allocated="3", state=ExecutionState.PARTIAL)
    await store.create_execution(execution)
    await store.insert_order(_row("sb-vx2-1", "vx2", OrderState.PENDING, clock))
    await store.update_order(
        replace(_row("sb-vx2-1", "vx2", OrderState.VANISHED, clock), note="not_found")
    )
    await clock.advance(100)  # within the window of the row
    order_id = _place(blind)

    adopted = await _recheck(blind, store, runner)

    row = await store.get_order("sb-vx2-1")
    assert adopted == 1
    assert row is not None
    assert (row.state, row.exchange_id, row.filled) == (OrderState.FILLED, order_id, Decimal(3))
    assert (await store.filled_by_order("vx2")) == {"sb-vx2-1": Decimal(3)}
    finished = await store.get_execution("vx2")
    assert finished.sold == Decimal(3)
    assert finished.proceeds == Decimal(3)
    kinds = [e.kind for e in store.events]
    assert "order_adopted_after_vanished" in kinds
    assert "execution_oversold" not in kinds


async def test_a_vanished_order_outside_the_window_is_not_adopted(
    blind: Desk, store: MemoryExecutionStore, clock: VirtualClock, runner: ExecutionRunner
) -> None:
    await store.create_execution(make_execution("vx3", allocated="3", state=ExecutionState.PARTIAL))
    await store.insert_order(_row("sb-vx3-1", "vx3", OrderState.VANISHED, clock))
    await clock.advance(400)  # past the 300 s window: another order of the same shape
    _place(blind)

    adopted = await _recheck(blind, store, runner)

    row = await store.get_order("sb-vx3-1")
    assert adopted == 0
    assert row is not None
    assert row.state is OrderState.VANISHED
    assert (await store.get_execution("vx3")).sold == 0


async def test_two_identical_unknown_rows_share_no_exchange_order(
    blind: Desk,
    store: MemoryExecutionStore,
    clock: VirtualClock,
    guards: ExecutionGuards,
    runners: Runners,
) -> None:
    for eid in ("vx4", "vx5"):
        await store.create_execution(
            make_execution(eid, allocated="3", state=ExecutionState.RUNNING)
        )
    await store.insert_order(_row("sb-vx4-1", "vx4", OrderState.UNKNOWN, clock))
    await store.insert_order(_row("sb-vx5-1", "vx5", OrderState.UNKNOWN, clock))
    await clock.advance(1)
    order_id = _place(blind)
    await clock.advance(guards.unknown_grace_s + 10)

    restarted = await runners.restart(resume=False)
    rows = [await store.get_order(c) for c in ("sb-vx4-1", "sb-vx5-1")]
    again = await _recheck(blind, store, restarted.runner, [r for r in rows if r is not None])

    states = sorted(str(r.state) for r in rows if r is not None)
    assert states == ["filled", "vanished"]
    assert [r.exchange_id for r in rows if r is not None and r.exchange_id] == [order_id]
    assert again == 0
