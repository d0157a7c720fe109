"""The ExecutionStore contract, run against every implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import VirtualClock
from bot.db.engine import create_engine, session_factory
from bot.db.execution_store import SqlExecutionStore
from bot.db.migrate import upgrade
from bot.db.models import EventRow
from bot.domain.executions import ExecutionState
from bot.domain.orders import IllegalTransition, OrderState
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.store import (
    DuplicateClientId,
    ExecutionStore,
    IllegalExecutionTransition,
    UnknownRecord,
    committed_for,
    execution_totals,
)
from tests.execution.exec_helpers import make_execution, make_fill, make_order


@pytest.fixture(params=["memory", "sqlite"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: VirtualClock
) -> AsyncIterator[ExecutionStore]:
    if request.param == "memory":
        yield MemoryExecutionStore()
        return
    url = f"sqlite+aiosqlite:///{tmp_path / 'exec.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield SqlExecutionStore(session_factory(engine), clock)
    await engine.dispose()


async def _event_kinds(store: ExecutionStore) -> list[str]:
    if isinstance(store, MemoryExecutionStore):
        return [e.kind for e in store.events]
    assert isinstance(store, SqlExecutionStore)
    async with store._sessions() as session:
        return list((await session.scalars(select(EventRow.kind).order_by(EventRow.id))).all())


async def test_store_round_trips_an_execution_and_checks_transitions(store: ExecutionStore) -> None:
    execution = make_execution("ex1", allocated="12.5")
    await store.create_execution(execution)

    running = replace(execution, state=ExecutionState.RUNNING, arrival_mid=Decimal("1.2345"))
    await store.update_execution(running)

    got = await store.get_execution("ex1")
    assert got == running
    assert [e.id for e in await store.non_terminal_executions()] == ["ex1"]
    with pytest.raises(IllegalExecutionTransition):
        await store.update_execution(replace(running, state=ExecutionState.QUEUED))
    with pytest.raises(UnknownRecord):
        await store.get_execution("nope")


async def test_store_orders_are_unique_by_client_id_and_transition_checked(
    store: ExecutionStore,
) -> None:
    await store.create_execution(make_execution("ex1"))
    order = make_order("sb-ex1-1", seq=1)
    await store.insert_order(order)

    with pytest.raises(DuplicateClientId):
        await store.insert_order(order)
    opened = await store.update_order(replace(order, state=OrderState.OPEN, exchange_id="42"))
    assert (await store.get_order("sb-ex1-1")) == opened
    await store.update_order(replace(opened, state=OrderState.CANCELLED, filled=Decimal("0.25")))
    with pytest.raises(IllegalTransition):
        await store.update_order(replace(opened, state=OrderState.OPEN))
    assert await store.get_order("missing") is None
    assert await store.next_order_seq("ex1") == 2
    assert await store.next_order_seq("other") == 1


async def test_store_fills_are_idempotent_and_drive_committed_amount(store: ExecutionStore) -> None:
    await store.create_execution(make_execution("ex1", allocated="10"))
    await store.insert_order(make_order("sb-ex1-1", seq=1, amount="4", state=OrderState.PENDING))
    first = await store.get_order("sb-ex1-1")
    assert first is not None
    await store.update_order(replace(first, state=OrderState.OPEN, exchange_id="o1"))
    await store.insert_order(make_order("sb-ex1-2", seq=2, amount="3"))

    new = await store.record_fill("ex1", "sb-ex1-1", make_fill("t1", "1.5", "2", order_id="o1"))
    again = await store.record_fill("ex1", "sb-ex1-1", make_fill("t1", "1.5", "2", order_id="o1"))
    await store.record_fill("ex1", "sb-ex1-1", make_fill("t2", "0.5", "3", order_id="o1"))

    assert (new, again) == (True, False)
    totals = await execution_totals(store, "ex1")
    assert totals.sold == Decimal(2)
    assert totals.proceeds == Decimal("4.5")
    assert totals.fees == Decimal("0.002")
    assert await store.filled_by_order("ex1") == {"sb-ex1-1": Decimal(2)}
    assert await committed_for(store, "ex1") == Decimal(7)  # both orders still live
    opened = await store.get_order("sb-ex1-1")
    assert opened is not None
    await store.update_order(replace(opened, state=OrderState.CANCELLED, filled=Decimal("2.5")))
    assert await committed_for(store, "ex1") == Decimal("5.5")  # reported fill counts until seen
    fills = await store.fills_for("ex1")
    assert [f.trade_id for f in fills] == ["t1", "t2"]
    assert fills[0].order_id == "o1"
    assert [o.client_id for o in await store.non_terminal_orders()] == ["sb-ex1-2"]
    assert [o.seq for o in await store.orders_for("ex1")] == [1, 2]


async def test_store_appends_events(store: ExecutionStore) -> None:
    await store.create_execution(make_execution("ex1"))

    await store.append_event("execution_started", "ex1", {"market": "abcusdt"})
    await store.append_event("reconciled", None, {"adopted": "0"})

    assert await _event_kinds(store) == ["execution_started", "reconciled"]
