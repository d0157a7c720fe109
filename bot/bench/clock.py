"""``SoleTaskClock``: the benchmark's virtual time, for one chain of awaits alone on its loop."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from bot.clock import ClockStalled, VirtualClock

T = TypeVar("T")


class SoleTaskClock(VirtualClock):
    """Virtual time for driving ONE chain of awaits with nothing beside it (a benchmark run).

    A sleep moves time to its end at once instead of handing the loop back to ``run``: with a
    single sleeper, that is the wake-up ``VirtualClock`` would pick, minus two trips round
    the event loop. Tasks the chain starts and awaits (a shielded write) may sleep too; tasks
    running beside it would see time jump under them, so they need ``VirtualClock``.
    """

    _deadline = float("inf")

    async def sleep_until(self, epoch_s: float) -> None:
        if epoch_s > self._now:
            if epoch_s > self._deadline:
                raise ClockStalled("still running past the virtual deadline")
            self._now = epoch_s
            self.wakeups += 1

    async def run(self, aw: Awaitable[T], *, max_virtual_s: float = 10 * 365 * 86400.0) -> T:
        self._deadline = self._now + max_virtual_s
        return await aw
