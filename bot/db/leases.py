"""The leader lease and the daemons' heartbeats, as rows (atomic on SQLite and PostgreSQL).

Taking the lease is one conditional ``UPDATE`` (``holder = me`` or expired) whose row count
says who won; the first daemon ever ``INSERT``s the row, and losing that insert race to
another daemon is a unique-key error, read as "not taken". Times are wall-clock UTC from the
caller's clock: daemons sharing a database must keep their clocks in sync (NTP).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import DaemonRow, LeaseRow

LEADER = "leader"


@dataclass(frozen=True, slots=True)
class LeaseView:
    """The lease as last written: who holds it, in which epoch, until when."""

    holder: str
    epoch: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One daemon's ``daemons`` row."""

    instance_id: str
    role: str
    host: str
    pid: int
    started_at: datetime


class LeaseRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], name: str = LEADER) -> None:
        self._sessions = sessions
        self._name = name

    async def acquire(self, holder: str, now: datetime, ttl_s: float) -> int | None:
        """Take the lease if it is free or expired (a new epoch); return the epoch or None."""
        expires = now + timedelta(seconds=ttl_s)
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self._name, LeaseRow.expires_at < now)
                .values(
                    holder=holder,
                    epoch=LeaseRow.epoch + 1,
                    acquired_at=now,
                    renewed_at=now,
                    expires_at=expires,
                )
            )
            if _rowcount(result) == 1:
                epoch = await session.scalar(
                    select(LeaseRow.epoch).where(LeaseRow.name == self._name)
                )
                return int(epoch) if epoch is not None else None
        return await self._insert(holder, now, expires)

    async def _insert(self, holder: str, now: datetime, expires: datetime) -> int | None:
        try:
            async with self._sessions.begin() as session:
                if await session.get(LeaseRow, self._name) is not None:
                    return None  # held and not expired
                session.add(
                    LeaseRow(
                        name=self._name,
                        holder=holder,
                        epoch=1,
                        acquired_at=now,
                        renewed_at=now,
                        expires_at=expires,
                    )
                )
        except IntegrityError:  # another daemon inserted it first
            return None
        return 1

    async def renew(self, holder: str, epoch: int, now: datetime, ttl_s: float) -> bool:
        """Extend the lease held in ``epoch``; False if another daemon has taken it since."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == self._name,
                    LeaseRow.holder == holder,
                    LeaseRow.epoch == epoch,
                )
                .values(renewed_at=now, expires_at=now + timedelta(seconds=ttl_s))
            )
            return _rowcount(result) == 1

    async def release(self, holder: str, epoch: int, now: datetime) -> None:
        """Expire the lease now (a clean stop), so a standby takes over at once."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == self._name,
                    LeaseRow.holder == holder,
                    LeaseRow.epoch == epoch,
                )
                .values(expires_at=now - timedelta(microseconds=1))
            )

    async def current(self) -> LeaseView | None:
        async with self._sessions() as session:
            row = await session.get(LeaseRow, self._name)
            if row is None:
                return None
            expires = row.expires_at
            if expires.tzinfo is None:  # SQLite keeps no zone; every time written is UTC
                expires = expires.replace(tzinfo=UTC)
            return LeaseView(row.holder, row.epoch, expires)

    async def heartbeat(self, beat: Heartbeat, now: datetime) -> None:
        """Write this daemon's role and heartbeat time (insert the row the first time)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(DaemonRow)
                .where(DaemonRow.instance_id == beat.instance_id)
                .values(role=beat.role, heartbeat_at=now)
            )
            if _rowcount(result) == 0:
                session.add(
                    DaemonRow(
                        instance_id=beat.instance_id,
                        role=beat.role,
                        host=beat.host,
                        pid=beat.pid,
                        started_at=beat.started_at,
                        heartbeat_at=now,
                    )
                )


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0
