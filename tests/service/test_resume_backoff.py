"""A sale that crashes every time is resumed with growing delays, then ends ``failed``."""

from __future__ import annotations

import itertools

from structlog.testing import capture_logs

from bot.clock import VirtualClock
from bot.domain.executions import Execution, ExecutionState
from bot.execution.limiter import ConcurrencyLimiter
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.supervisor import ExecutionSupervisor
from bot.service.tracking import resume_with_backoff
from tests.execution.exec_helpers import make_execution


async def test_a_sale_that_always_crashes_backs_off_then_fails_with_its_reason() -> None:
    clock = VirtualClock(start=1_000.0)
    store = MemoryExecutionStore()
    await store.create_execution(make_execution("bo1", state=ExecutionState.RUNNING))
    runs: list[float] = []

    async def run(execution: Execution) -> Execution:
        runs.append(clock.monotonic())
        raise RuntimeError("database is locked")

    supervisor = ExecutionSupervisor(ConcurrencyLimiter(1), run, now=clock.monotonic)
    supervisor.submit(await store.get_execution("bo1"))
    await supervisor.wait_all()
    with capture_logs() as logs:
        for _ in range(1_400):  # the tracking job's passes, one per virtual second
            await resume_with_backoff(supervisor, store, clock, max_attempts=8)
            await supervisor.wait_all()
            await clock.advance(1.0)

    gaps = [b - a for a, b in itertools.pairwise(runs)]
    assert gaps == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 600.0]  # capped at 10 min
    failed = await store.get_execution("bo1")
    assert failed.state is ExecutionState.FAILED
    assert failed.note == "crashed 9 times: RuntimeError: database is locked"
    assert failed.finished_at is not None
    events = [e for e in store.events if e.kind == "execution_failed"]
    assert [e.data for e in events] == [{"note": failed.note, "crashes": "9"}]
    assert [e["event"] for e in logs].count("execution_given_up") == 1
    assert supervisor.crashed == {}
    assert supervisor.crash_counts == {}


async def test_a_sale_that_recovers_is_forgotten() -> None:
    clock = VirtualClock(start=1_000.0)
    store = MemoryExecutionStore()
    await store.create_execution(make_execution("bo2", state=ExecutionState.RUNNING))
    runs: list[float] = []

    async def run(execution: Execution) -> Execution:
        runs.append(clock.monotonic())
        if len(runs) < 3:
            raise RuntimeError("database is locked")
        return execution

    supervisor = ExecutionSupervisor(ConcurrencyLimiter(1), run, now=clock.monotonic)
    supervisor.submit(await store.get_execution("bo2"))
    await supervisor.wait_all()
    for _ in range(60):
        await resume_with_backoff(supervisor, store, clock, max_attempts=8)
        await supervisor.wait_all()
        await clock.advance(1.0)

    assert [b - a for a, b in itertools.pairwise(runs)] == [5.0, 10.0]
    assert supervisor.crash_counts == {}
    assert supervisor.crash_reasons == {}
    assert (await store.get_execution("bo2")).state is ExecutionState.RUNNING
