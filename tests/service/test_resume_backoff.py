"""A sale that crashes every time is resumed with growing delays, then ends ``failed``."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from structlog.testing import capture_logs

from bot.clock import VirtualClock
from bot.domain.executions import Execution, ExecutionState
from bot.execution.limiter import ConcurrencyLimiter
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.supervisor import ExecutionSupervisor
from bot.service.tracking import resume_with_backoff
from tests.execution.exec_helpers import make_execution


@dataclass
class CrashingSale:
    """A running sale whose run crashes its first ``crashes`` times, under a supervisor."""

    crashes: float
    clock: VirtualClock = field(default_factory=lambda: VirtualClock(start=1_000.0))
    store: MemoryExecutionStore = field(default_factory=MemoryExecutionStore)
    runs: list[float] = field(default_factory=list)  # when each run started

    def __post_init__(self) -> None:
        self.supervisor = ExecutionSupervisor(
            ConcurrencyLimiter(1), self.run, now=self.clock.monotonic
        )

    async def run(self, execution: Execution) -> Execution:
        self.runs.append(self.clock.monotonic())
        if len(self.runs) <= self.crashes:
            raise RuntimeError("database is locked")
        return execution

    async def start(self, execution_id: str) -> None:
        """Store the sale ``running`` and submit it: its first run."""
        await self.store.create_execution(
            make_execution(execution_id, state=ExecutionState.RUNNING)
        )
        self.supervisor.submit(await self.store.get_execution(execution_id))
        await self.supervisor.wait_all()

    async def track(self, seconds: int) -> None:
        """The tracking job's passes, one per virtual second."""
        for _ in range(seconds):
            await resume_with_backoff(self.supervisor, self.store, self.clock, max_attempts=8)
            await self.supervisor.wait_all()
            await self.clock.advance(1.0)

    def gaps(self) -> list[float]:
        return [b - a for a, b in itertools.pairwise(self.runs)]


async def test_a_sale_that_always_crashes_backs_off_then_fails_with_its_reason() -> None:
    sale = CrashingSale(crashes=math.inf)
    await sale.start("bo1")
    with capture_logs() as logs:
        await sale.track(1_400)

    assert sale.gaps() == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 600.0]  # capped at 10 min
    failed = await sale.store.get_execution("bo1")
    assert failed.state is ExecutionState.FAILED
    assert failed.note == "crashed 9 times: RuntimeError: database is locked"
    assert failed.finished_at is not None
    events = [e for e in sale.store.events if e.kind == "execution_failed"]
    assert [e.data for e in events] == [{"note": failed.note, "crashes": "9"}]
    assert [e["event"] for e in logs].count("execution_given_up") == 1
    assert sale.supervisor.crashed == {}
    assert sale.supervisor.crash_counts == {}


async def test_a_sale_that_recovers_is_forgotten() -> None:
    sale = CrashingSale(crashes=2)
    await sale.start("bo2")
    await sale.track(60)

    assert sale.gaps() == [5.0, 10.0]
    assert sale.supervisor.crash_counts == {}
    assert sale.supervisor.crash_reasons == {}
    assert (await sale.store.get_execution("bo2")).state is ExecutionState.RUNNING
