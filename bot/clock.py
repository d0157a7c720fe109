"""Time: the only module allowed to read the wall clock or sleep.

``SystemClock`` is real time. ``VirtualClock`` is time you move: tests call
``await clock.advance(seconds)``, and the benchmark and the reliability campaigns run
``clock.run(coro)``, which jumps to the next sleeper whenever every task is waiting on the
clock. The daemon, paper mode included, runs on ``SystemClock``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current UTC time."""
        ...

    def time(self) -> float:
        """Return seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Return a monotonic reading in seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds``."""
        ...

    async def sleep_until(self, epoch_s: float) -> None:
        """Sleep until the epoch time ``epoch_s``."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, epoch_s: float) -> None:
        await asyncio.sleep(max(0.0, epoch_s - time.time()))


async def real_sleep(seconds: float) -> None:
    """Sleep in real time whatever clock is in use (network back-off in the I/O layer only)."""
    await asyncio.sleep(seconds)


class ClockStalled(RuntimeError):
    """The virtual clock could not settle: a task waits on something that never happens."""


DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


class VirtualClock:
    """Time that moves only when told to.

    ``real_idle_s`` is how long the loop must stay idle in real time before time may jump;
    0 suits pure in-memory work, a few milliseconds suits work that waits on threads or sockets.
    """

    def __init__(self, start: float = DEFAULT_EPOCH, *, real_idle_s: float = 0.0) -> None:
        self._now = start
        self._start_mono = start
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._real_idle_s = real_idle_s
        self.wakeups = 0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._start_mono

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + max(0.0, seconds))

    async def sleep_until(self, epoch_s: float) -> None:
        if epoch_s <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (epoch_s, next(self._seq), fut))
        await fut

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._heap if not f.done())

    def next_wake(self) -> float | None:
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else None

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][2].done():
            heapq.heappop(self._heap)

    async def settle(self) -> None:
        """Return once no other task can make progress without time moving."""
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)
        quiet = 0
        for _ in range(1_000_000):
            await asyncio.sleep(0)
            busy = ready is not None and len(ready) > 0
            if busy:
                quiet = 0
                continue
            if self._real_idle_s <= 0:
                return
            quiet += 1
            if quiet >= 3:
                return
            await asyncio.sleep(self._real_idle_s / 3)
        raise ClockStalled("event loop never became idle")

    def _wake_due(self, until: float) -> bool:
        self._drop_cancelled()
        if not self._heap or self._heap[0][0] > until:
            return False
        wake_at = self._heap[0][0]
        self._now = max(self._now, wake_at)
        while self._heap and self._heap[0][0] <= wake_at:
            _, _, fut = heapq.heappop(self._heap)
            if not fut.done():
                fut.set_result(None)
                self.wakeups += 1
        return True

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking sleepers in time order."""
        target = self._now + seconds
        await self.settle()
        while self._wake_due(target):
            await self.settle()
        self._now = max(self._now, target)
        await self.settle()

    async def run(self, aw: Awaitable[T], *, max_virtual_s: float = 10 * 365 * 86400.0) -> T:
        """Drive ``aw`` to completion, jumping time whenever everything waits on the clock."""
        task = asyncio.ensure_future(aw)
        deadline = self._now + max_virtual_s
        while not task.done():
            await self.settle()
            if task.done():
                break
            nxt = self.next_wake()
            if nxt is None:
                await asyncio.sleep(0.001)  # waiting on real I/O only
                continue
            if nxt > deadline:
                task.cancel()
                raise ClockStalled(f"still running after {max_virtual_s} virtual seconds")
            self._wake_due(nxt)
        return task.result()
