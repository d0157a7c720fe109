"""The runner reads an execution from the store once and writes it once per transition."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from decimal import Decimal

from bot.domain.decisions import StrategyName
from bot.domain.executions import Execution, ExecutionState
from bot.execution.memory_store import MemoryExecutionStore
from tests.execution.exec_helpers import T0, Desk, Runners, make_execution


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


QUEUED = make_execution("ex1", strategy=StrategyName.MARKET, allocated="2", horizon_s=60)


async def _run_twap(runners: Runners, slices: int) -> tuple[CountingStore, Execution]:
    store = CountingStore()
    runner = runners(store=store)
    execution = make_execution(
        f"twap{slices}",
        strategy=StrategyName.TWAP,
        allocated=str(slices),
        horizon_s=60 * slices,
        slices=slices,
    )
    return store, await runners.clock.run(runner.run(execution))


async def test_reads_do_not_grow_with_the_steps_and_each_write_is_a_transition(
    desk: Desk, runners: Runners
) -> None:
    desk.deep_book(ask="5")
    sales = [await _run_twap(runners, slices) for slices in (3, 12)]

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


async def _run_over(runners: Runners, stored: Execution) -> tuple[CountingStore, Execution]:
    """Run ``QUEUED`` on a store that already holds the row ``stored``."""
    store = CountingStore()
    await store.create_execution(stored)
    return store, await runners.clock.run(runners(store=store).run(QUEUED))


async def test_a_resumed_execution_is_the_stored_row_not_the_callers_copy(
    desk: Desk, runners: Runners
) -> None:
    desk.deep_book(ask="5")
    stored = replace(
        QUEUED, state=ExecutionState.RUNNING, started_at=T0, arrival_mid=Decimal("1.0040")
    )

    store, result = await _run_over(runners, stored)

    assert result.state is ExecutionState.COMPLETED
    assert result.arrival_mid == Decimal("1.0040")  # not re-taken from today's book
    assert result.started_at == T0
    assert store.reads["ex1"] == 1


async def test_an_execution_ended_in_the_store_before_its_run_is_left_as_it_is(
    desk: Desk, runners: Runners
) -> None:
    desk.deep_book(ask="5")
    cancelled = replace(QUEUED, state=ExecutionState.CANCELLED, finished_at=T0)

    store, result = await _run_over(runners, cancelled)  # cancelled by the operator while queued

    assert result == cancelled
    assert await store.orders_for("ex1") == []
    assert "ex1" not in store.writes
