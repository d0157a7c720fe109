"""Single-active leadership: one daemon per database holds the ``leader`` lease and trades.

A daemon that does not hold the lease is a hot standby: it writes its heartbeat, polls the
lease every ``ttl/3`` (and wakes just after the leader's lease would expire), and takes it
over once it has expired. The leader renews every ``ttl/3``. Whether the lease is held is
decided locally on the injected monotonic clock: it is held until ``ttl`` after the start of
the last successful renewal, which is never later than the expiry written in the database,
so a leader cut off from the database stops trading (``held()`` turns false) no later than
a standby may take over. Wall-clock times in the table need the daemons' clocks in sync.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.leases import Heartbeat, LeaseRepository, LeaseView
from bot.logs import get_logger
from bot.rand import make_rng

log = get_logger("sellbot.leadership")

LEADER, STANDBY = "leader", "standby"
WAKE_AFTER_EXPIRY_S = 0.01  # the lease is free once ``expires_at < now``: wake just after
RETRY_FAILED_RENEWAL_S = 1.0  # a database back from an outage keeps the lease if still held


def new_instance_id() -> str:
    """Return an id unique to this process: host, pid and a random suffix (restarts differ)."""
    suffix = make_rng(None, "instance").getrandbits(32)
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{suffix:08x}"


class Leadership:
    """Take, renew and release the leader lease; ``held()`` is the fence the gate checks."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        instance_id: str,
        ttl_s: float,
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        self.repo = LeaseRepository(sessions)
        self.clock = clock
        self.instance_id = instance_id
        self.ttl_s = ttl_s
        self.epoch: int | None = None
        self._deadline = -math.inf  # monotonic: the lease is ours until then
        self._host = host if host is not None else socket.gethostname()
        self._pid = pid if pid is not None else os.getpid()
        self._started_at = clock.now()
        self._seen_holder: str | None = None

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 3

    def held(self) -> bool:
        """True while the lease is ours and was renewed less than ``ttl`` ago."""
        return self.epoch is not None and self.clock.monotonic() < self._deadline

    def role(self) -> str:
        return LEADER if self.held() else STANDBY

    async def try_acquire(self) -> bool:
        """Take the lease if it is free or expired (a new epoch); write the heartbeat."""
        started = self.clock.monotonic()
        epoch = await self.repo.acquire(self.instance_id, self.clock.now(), self.ttl_s)
        if epoch is not None:
            self.epoch, self._deadline = epoch, started + self.ttl_s
            log.info("lease_acquired", instance_id=self.instance_id, epoch=epoch)
        await self._heartbeat()
        return epoch is not None

    async def renew(self) -> bool:
        """Extend the lease; on finding another holder, give it up at once."""
        if self.epoch is None:
            return False
        started = self.clock.monotonic()
        if await self.repo.renew(self.instance_id, self.epoch, self.clock.now(), self.ttl_s):
            self._deadline = started + self.ttl_s
        else:
            log.warning("lease_taken_over", instance_id=self.instance_id, epoch=self.epoch)
            self.epoch = None
        await self._heartbeat()
        return self.held()

    async def release(self) -> None:
        """Expire the lease now if still ours (a clean stop hands over without waiting)."""
        if not self.held() or self.epoch is None:
            return
        epoch, self.epoch = self.epoch, None
        await self.repo.release(self.instance_id, epoch, self.clock.now())
        await self._heartbeat()
        log.info("lease_released", instance_id=self.instance_id, epoch=epoch)

    async def wait_until_leader(self, stop: asyncio.Event) -> bool:
        """Stand by until the lease is ours (True) or ``stop`` is set (False)."""
        while not stop.is_set():
            delay = self.renew_every_s
            try:
                if await self.try_acquire():
                    return True
                delay = await self._standby_delay()
            except Exception as e:  # the database is unreachable: stay standby, try again
                log.warning("lease_acquire_failed", error=type(e).__name__)
            await first_of(self.clock.sleep(delay), stop.wait())
        return False

    async def keep(self) -> str:
        """Renew every ``ttl/3`` while held; return why the lease was lost."""
        delay = self.renew_every_s
        while True:
            await self.clock.sleep(min(delay, self._remaining()))
            if not self.held():
                break
            try:
                await first_of(self.renew(), self.clock.sleep(self._remaining()))
                delay = self.renew_every_s
            except Exception as e:  # a failed renewal: try again soon; the deadline decides
                log.warning("lease_renew_failed", error=type(e).__name__)
                delay = RETRY_FAILED_RENEWAL_S
            if not self.held():
                break
        reason = "taken_over" if self.epoch is None else "not_renewed_in_time"
        log.error("lease_lost", instance_id=self.instance_id, reason=reason)
        return reason

    def _remaining(self) -> float:
        return max(0.0, self._deadline - self.clock.monotonic())

    async def _standby_delay(self) -> float:
        """Log who leads when that changes; sleep until just after its lease would expire."""
        current: LeaseView | None = await self.repo.current()
        if current is None:
            return WAKE_AFTER_EXPIRY_S
        if current.holder != self._seen_holder:
            self._seen_holder = current.holder
            log.info(
                "standby",
                instance_id=self.instance_id,
                leader=current.holder,
                epoch=current.epoch,
                expires_at=current.expires_at.isoformat(),
            )
        until_expiry = (current.expires_at - self.clock.now()).total_seconds()
        return min(self.renew_every_s, max(0.0, until_expiry) + WAKE_AFTER_EXPIRY_S)

    async def _heartbeat(self) -> None:
        beat = Heartbeat(self.instance_id, self.role(), self._host, self._pid, self._started_at)
        await self.repo.heartbeat(beat, self.clock.now())


async def first_of(*aws: Awaitable[object]) -> None:
    """Wait until the first of ``aws`` ends, cancel the rest; re-raise the first's error."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
    for task in done:
        task.result()
