"""An exchange that does not echo client ids: unknown orders are found by shape, vanished
ones are re-checked and adopted, and no exchange order is given to two rows."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.clock import VirtualClock
from bot.domain.executions import ExecutionState
from bot.domain.orders import Order, OrderRequest, OrderState, OrderType, Side
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.reconcile import reconcile, unfinished_executions
from bot.execution.runner import ExecutionRunner
from bot.execution.store import OrderRecord
from bot.execution.vanished import recheck_vanished
from bot.sim.exchange import SimExchange
from tests.execution.exec_helpers import BOT_KEY, Desk, make_execution


class Crash(BaseException):
    """The process dies here: nothing after this point runs."""


class CrashAfterPlace(SimExchange):
    """The exchange accepts the first order, then the process dies before reading the answer."""

    async def place_order(self, request: OrderRequest) -> Order:
        await super().place_order(request)
        raise Crash


def _sold(desk: Desk) -> Decimal:
    return Decimal(1_000_000) - desk.engine.balance(BOT_KEY, "abc").total


def _row(client_id: str, execution_id: str, state: OrderState, clock: VirtualClock) -> OrderRecord:
    return OrderRecord(
        client_id=client_id, execution_id=execution_id, seq=int(client_id[-1]),
        market="abcusdt", side=Side.SELL, type=OrderType.LIMIT, amount=Decimal(3),
        price=Decimal("1.0000"), state=state, created_at=clock.now(),
    )  # fmt: skip


def _place(desk: Desk) -> str:
    """The bot's account places the order the rows describe (the exchange keeps no client id)."""
    order = desk.engine.place_order(
        BOT_KEY, "abcusdt", Side.SELL, OrderType.LIMIT, Decimal(3), Decimal("1.0000"), "ignored"
    )
    return str(order.id)


async def _recheck_all(desk: Desk, store: MemoryExecutionStore, runner: ExecutionRunner) -> int:
    """The tracking job's re-check over every row of the store."""
    return await recheck_vanished(
        exchange=desk.exchange, store=store, tracker=runner.tracker,
        rows=list(store.orders.values()), held=set(),
    )  # fmt: skip


@pytest.fixture
def blind(desk: Desk) -> Desk:
    desk.engine.echo_client_ids = False
    desk.bid("1.0000", "1000")
    desk.ask("1.0100", "10")
    return desk


async def test_a_lost_answer_after_a_restart_is_found_by_shape_not_resold(
    blind: Desk, store: MemoryExecutionStore, clock: VirtualClock, guards: ExecutionGuards
) -> None:
    crashing = ExecutionRunner(
        exchange=CrashAfterPlace(blind.engine, BOT_KEY, clock=clock),
        store=store, clock=clock, guards=guards,
    )  # fmt: skip
    with pytest.raises(Crash):
        await clock.run(crashing.run(make_execution("vx1", allocated="4", horizon_s=60)))
    await clock.advance(guards.unknown_grace_s + 60)  # down past the grace: a lookup finds nothing

    runner = ExecutionRunner(exchange=blind.exchange, store=store, clock=clock, guards=guards)
    report = await reconcile(
        exchange=blind.exchange, store=store, tracker=runner.tracker, clock=clock
    )
    results = [await clock.run(runner.run(e)) for e in await unfinished_executions(store)]

    first = await store.get_order("sb-vx1-1")
    assert first is not None
    assert first.state is OrderState.FILLED
    assert report.vanished == 0
    assert [r.sold for r in results] == [Decimal(4)]
    assert _sold(blind) == Decimal(4)  # sold once: the allocation, not twice it


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

    adopted = await _recheck_all(blind, store, runner)

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

    adopted = await _recheck_all(blind, store, runner)

    row = await store.get_order("sb-vx3-1")
    assert adopted == 0
    assert row is not None
    assert row.state is OrderState.VANISHED
    assert (await store.get_execution("vx3")).sold == 0


async def test_two_identical_unknown_rows_share_no_exchange_order(
    blind: Desk, store: MemoryExecutionStore, clock: VirtualClock, guards: ExecutionGuards
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

    runner = ExecutionRunner(exchange=blind.exchange, store=store, clock=clock, guards=guards)
    await reconcile(exchange=blind.exchange, store=store, tracker=runner.tracker, clock=clock)
    rows = [await store.get_order(c) for c in ("sb-vx4-1", "sb-vx5-1")]
    again = await recheck_vanished(
        exchange=blind.exchange, store=store, tracker=runner.tracker,
        rows=[r for r in rows if r is not None], held=set(),
    )  # fmt: skip

    states = sorted(str(r.state) for r in rows if r is not None)
    assert states == ["filled", "vanished"]
    assert [r.exchange_id for r in rows if r is not None and r.exchange_id] == [order_id]
    assert again == 0
