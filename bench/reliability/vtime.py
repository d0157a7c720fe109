"""Drive a coroutine in virtual time without jumping over database work in flight.

``VirtualClock.run`` jumps to the next sleeper as soon as the event loop is idle. With
aiosqlite the loop *is* idle while a query runs in its thread, so time would leap past
horizons mid-query. ``DbActivity`` counts the pool's checked-out connections, and ``drive``
only moves time when none is checked out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import VirtualClock, real_sleep

T = TypeVar("T")


class DbActivity:
    """Connections of ``engine``'s pool being opened or checked out right now."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.checked_out = 0
        self.connecting = 0
        pool = engine.sync_engine.pool
        event.listen(engine.sync_engine, "do_connect", self._connecting)
        event.listen(pool, "connect", self._connected)
        event.listen(pool, "checkout", self._out)
        event.listen(pool, "checkin", self._in)

    def _connecting(self, *_: Any) -> None:
        self.connecting += 1

    def _connected(self, *_: Any) -> None:
        self.connecting = max(0, self.connecting - 1)

    def _out(self, *_: Any) -> None:
        self.checked_out += 1

    def _in(self, *_: Any) -> None:
        self.checked_out = max(0, self.checked_out - 1)

    @property
    def busy(self) -> bool:
        return self.checked_out > 0 or self.connecting > 0


async def drive(clock: VirtualClock, aw: Awaitable[T], db: DbActivity) -> T:
    """Run ``aw`` to completion, moving time only when the loop and the database are idle."""
    task = asyncio.ensure_future(aw)
    while not task.done():
        await clock.settle()
        if task.done():
            break
        nxt = clock.next_wake()
        if db.busy or nxt is None:
            await real_sleep(0.0002)  # a query (or other real I/O) is running in a thread
            continue
        await clock.advance(max(0.0, nxt - clock.time()))
    return task.result()
