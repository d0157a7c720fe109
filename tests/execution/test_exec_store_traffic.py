"""The runner reads an execution from the store once and writes it once per transition."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.decisions import StrategyName
from bot.domain.executions import Execution, ExecutionState
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.runner import ExecutionRunner
from tests.execution.exec_helpers import T0, Desk, make_execution


class CountingStore(MemoryExecutionStore):
    """A memory store that counts execution reads and keeps every execution write."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: Counter[str] = Counter()
        self.writes: dict[str, list[Execution]] = {}

    async def get_execution(self, execution_id: str) -> Execution:
        self.reads[execution_id] += 1
        return await super().get_execution(execution_id)

    async def update_execution(self, execution: Execution) -> None:
        await super().update_execution(execution)
        self.writes.setdefault(execution.id, []).append(execution)


def _deep_book(desk: Desk) -> None:
    desk.bid("1.0000", "1000")
    desk.ask("1.0100", "5")


async def _run_twap(
    desk: Desk, clock: VirtualClock, guards: ExecutionGuards, slices: int
) -> tuple[CountingStore, Execution]:
    store = CountingStore()
    runner = ExecutionRunner(exchange=desk.exchange, store=store, clock=clock, guards=guards)
    execution = make_execution(
        f"twap{slices}",
        strategy=StrategyName.TWAP,
        allocated=str(slices),
        horizon_s=60 * slices,
        slices=slices,
    )
    return store, await clock.run(runner.run(execution))


async def test_reads_do_not_grow_with_the_steps_and_each_write_is_a_transition(
    desk: Desk, clock: VirtualClock, guards: ExecutionGuards
) -> None:
    _deep_book(desk)
    sales = [await _run_twap(desk, clock, guards, slices) for slices in (3, 12)]

    for store, result in sales:
        assert result.state is ExecutionState.COMPLETED
        assert result.sold == result.allocated
        assert store.reads[result.id] == 1  # whether it exists, at the start only
        writes = store.writes[result.id]
        # running, then once per step that recorded a fill, then finished: never twice
        assert writes[0].state is ExecutionState.RUNNING
        assert writes[0].sold == 0
        middle = writes[1:-1]
        assert all(w.state is ExecutionState.RUNNING for w in middle)
        assert all(a.sold < b.sold for a, b in itertools.pairwise(writes[:-1]))
        assert writes[-1] == result == await store.get_execution(result.id)
    short, long = (len(store.writes[result.id]) for store, result in sales)
    assert long > short + 5  # more steps, more writes; still one read


async def test_a_resumed_execution_is_the_stored_row_not_the_callers_copy(
    desk: Desk, clock: VirtualClock, guards: ExecutionGuards
) -> None:
    _deep_book(desk)
    store = CountingStore()
    queued = make_execution("ex1", strategy=StrategyName.MARKET, allocated="2", horizon_s=60)
    stored = replace(
        queued, state=ExecutionState.RUNNING, started_at=T0, arrival_mid=Decimal("1.0040")
    )
    await store.create_execution(stored)
    runner = ExecutionRunner(exchange=desk.exchange, store=store, clock=clock, guards=guards)

    result = await clock.run(runner.run(queued))

    assert result.state is ExecutionState.COMPLETED
    assert result.arrival_mid == Decimal("1.0040")  # not re-taken from today's book
    assert result.started_at == T0
    assert store.reads["ex1"] == 1


async def test_an_execution_ended_in_the_store_before_its_run_is_left_as_it_is(
    desk: Desk, clock: VirtualClock, guards: ExecutionGuards
) -> None:
    _deep_book(desk)
    store = CountingStore()
    queued = make_execution("ex1", strategy=StrategyName.MARKET, allocated="2", horizon_s=60)
    cancelled = replace(queued, state=ExecutionState.CANCELLED, finished_at=T0)
    await store.create_execution(cancelled)  # e.g. cancelled by the operator while queued
    runner = ExecutionRunner(exchange=desk.exchange, store=store, clock=clock, guards=guards)

    result = await clock.run(runner.run(queued))

    assert result == cancelled
    assert await store.orders_for("ex1") == []
    assert "ex1" not in store.writes
