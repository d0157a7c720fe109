"""``KeyedLocks``: one ``asyncio.Lock`` per key, forgotten when nobody holds or awaits it.

The order tracker serialises work per client order id. A plain ``defaultdict(asyncio.Lock)``
keeps a lock for every order ever seen, which a daemon running for weeks must not do.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import TracebackType


@dataclass(slots=True)
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holders and waiters


class KeyedLocks:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        """Return how many keys are held or awaited now."""
        return len(self._entries)

    def hold(self, key: str) -> _Hold:
        """Hold ``key``'s lock for the ``async with`` block."""
        return _Hold(self._entries, key)


class _Hold:
    """``async with locks.hold(key)``: a class, not a generator context manager (the
    tracker takes a lock on every order poll)."""

    __slots__ = ("_entries", "_entry", "_key")

    def __init__(self, entries: dict[str, _Entry], key: str) -> None:
        self._entries = entries
        self._key = key

    async def __aenter__(self) -> None:
        entry = self._entries.get(self._key)
        if entry is None:
            entry = self._entries[self._key] = _Entry()
        entry.users += 1
        self._entry = entry
        try:
            await entry.lock.acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._entry.lock.release()
        self._leave()

    def _leave(self) -> None:
        self._entry.users -= 1
        if self._entry.users == 0:
            del self._entries[self._key]
