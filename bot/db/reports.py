"""Read-only views of the database for the operator CLI (status, history, orders)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import DaemonRow, ExecutionRow, LeaseRow, OrderRow

_TERMINAL_EXECUTIONS = ("completed", "partial", "cancelled", "failed")
_OPEN_ORDERS = ("pending", "unknown", "open")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
NUMERIC = re.compile(rf"{_NUMBER}(?:/{_NUMBER})?")  # 1.5, -3, and progress like 0.4/1.0
MISSING = "-"


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of text under named columns; numeric columns are right-aligned when rendered."""

    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def numeric(self, index: int) -> bool:
        """True when column ``index`` holds numbers: every cell one (or ``-``), at least one."""
        cells = [r[index] for r in self.rows if r[index] != MISSING]
        return bool(cells) and all(NUMERIC.fullmatch(c) for c in cells)

    def render(self) -> str:
        if not self.rows:
            return "(none)"
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) for i, c in enumerate(self.columns)]
        right = [self.numeric(i) for i in range(len(self.columns))]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(
                v.rjust(w) if r else v.ljust(w)
                for v, w, r in zip(cells, widths, right, strict=True)
            ).rstrip()

        out = [line(self.columns), "  ".join("-" * w for w in widths)]
        out += [line(r) for r in self.rows]
        return "\n".join(out)

    def as_dicts(self) -> list[dict[str, str]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def human_money(value: Decimal | None, places: int = 8) -> str:
    """Render money for people: at most ``places`` decimals, no exponent, no trailing zeros."""
    if value is None:
        return "-"
    q = value.quantize(Decimal(1).scaleb(-places)).normalize()
    return format(q, "f") if q != 0 else "0"


def _bps(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _shortfall(row: ExecutionRow) -> Decimal | None:
    if row.shortfall_bps is not None:
        return row.shortfall_bps
    if not row.arrival_mid or not row.sold:
        return None
    bench = row.arrival_mid * row.sold
    return (bench - row.proceeds) / bench * 10_000


def _execution_row(row: ExecutionRow) -> tuple[str, ...]:
    avg = row.proceeds / row.sold if row.sold else None
    progress = f"{human_money(row.sold)}/{human_money(row.allocated)}"
    return (
        row.id,
        row.market,
        row.strategy,
        str(row.params.get("urgency", "")),
        row.state,
        progress,
        human_money(avg),
        human_money(row.proceeds),
        _bps(_shortfall(row)),
    )


EXEC_COLUMNS = (
    "id",
    "market",
    "strategy",
    "urgency",
    "state",
    "sold/allocated",
    "avg",
    "proceeds",
    "IS_bps",
)
ORDER_COLUMNS = ("client_id", "market", "type", "price", "amount", "filled", "state", "exch_id")


def _order_row(row: OrderRow) -> tuple[str, ...]:
    return (
        row.client_id,
        row.market,
        row.type,
        human_money(row.price),
        human_money(row.amount),
        human_money(row.filled),
        row.state,
        row.exchange_id or "-",
    )


async def status(sessions: async_sessionmaker[AsyncSession], limit: int = 50) -> dict[str, Table]:
    async with sessions() as session:
        running = (
            await session.execute(
                select(ExecutionRow)
                .where(ExecutionRow.state.not_in(_TERMINAL_EXECUTIONS))
                .order_by(ExecutionRow.created_at)
                .limit(limit)
            )
        ).scalars()
        executions = Table(EXEC_COLUMNS, [_execution_row(r) for r in running])
        open_rows = (
            await session.execute(
                select(OrderRow).where(OrderRow.state.in_(_OPEN_ORDERS)).order_by(OrderRow.id)
            )
        ).scalars()
        orders = Table(ORDER_COLUMNS, [_order_row(r) for r in open_rows])
    return {"executions": executions, "open_orders": orders}


async def history(sessions: async_sessionmaker[AsyncSession], limit: int = 50) -> Table:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(ExecutionRow)
                .where(ExecutionRow.state.in_(_TERMINAL_EXECUTIONS))
                .order_by(ExecutionRow.finished_at.desc(), ExecutionRow.created_at.desc())
                .limit(limit)
            )
        ).scalars()
        return Table(EXEC_COLUMNS, [_execution_row(r) for r in rows])


async def orders_of(sessions: async_sessionmaker[AsyncSession], execution_id: str) -> Table:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(OrderRow).where(OrderRow.execution_id == execution_id).order_by(OrderRow.seq)
            )
        ).scalars()
        return Table(ORDER_COLUMNS, [_order_row(r) for r in rows])


async def execution_exists(sessions: async_sessionmaker[AsyncSession], execution_id: str) -> Any:
    async with sessions() as session:
        return await session.get(ExecutionRow, execution_id)


async def open_orders(sessions: async_sessionmaker[AsyncSession]) -> list[OrderRow]:
    """Return every order the database lists as open (pending, unknown or open)."""
    async with sessions() as session:
        rows = await session.execute(
            select(OrderRow).where(OrderRow.state.in_(_OPEN_ORDERS)).order_by(OrderRow.id)
        )
        return list(rows.scalars())


def human_age(seconds: float) -> str:
    """Render a duration for people: 42s, 17m, 5h, 3d."""
    s = max(0, round(seconds))
    for unit, size, below in (("s", 1, 90), ("m", 60, 90 * 60), ("h", 3600, 48 * 3600)):
        if s < below:
            return f"{s // size}{unit}"
    return f"{s // 86_400}d"


def _seconds_since(now: datetime, at: datetime) -> float:
    return (now - (at if at.tzinfo else at.replace(tzinfo=UTC))).total_seconds()


@dataclass(frozen=True, slots=True)
class SeenDaemon:
    """One daemon's last heartbeat, ``age_s`` seconds old."""

    instance_id: str
    role: str
    host: str
    pid: int
    age_s: float

    def describe(self) -> str:
        where = f"{self.instance_id}, {self.role}, {self.host} pid {self.pid}"
        return f"{human_age(self.age_s)} ago ({where})"

    def as_dict(self) -> dict[str, object]:
        return {
            "instance_id": self.instance_id,
            "role": self.role,
            "host": self.host,
            "pid": self.pid,
            "heartbeat_age_s": round(self.age_s, 1),
        }


@dataclass(frozen=True, slots=True)
class Leader:
    """The holder of the ``leader`` lease; ``expires_in_s`` <= 0 means nobody leads."""

    holder: str
    epoch: int
    renewed_age_s: float
    expires_in_s: float
    heartbeat: SeenDaemon | None

    @property
    def expired(self) -> bool:
        return self.expires_in_s <= 0

    def describe(self) -> str:
        if self.expired:
            return f"none (the lease of {self.holder} expired {human_age(-self.expires_in_s)} ago)"
        beat = (
            f"heartbeat {human_age(self.heartbeat.age_s)} ago" if self.heartbeat else "no heartbeat"
        )
        return (
            f"{self.holder} (epoch {self.epoch}), lease renewed {human_age(self.renewed_age_s)} "
            f"ago, expires in {human_age(self.expires_in_s)}; {beat}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "holder": self.holder,
            "epoch": self.epoch,
            "expired": self.expired,
            "renewed_age_s": round(self.renewed_age_s, 1),
            "expires_in_s": round(self.expires_in_s, 1),
            "heartbeat_age_s": round(self.heartbeat.age_s, 1) if self.heartbeat else None,
        }


@dataclass(frozen=True, slots=True)
class Presence:
    """Which daemons write to this database: the leader lease and every heartbeat."""

    leader: Leader | None
    daemons: list[SeenDaemon]  # newest first

    @property
    def newest(self) -> SeenDaemon | None:
        return self.daemons[0] if self.daemons else None

    def standbys(self, recent_s: float) -> list[SeenDaemon]:
        return [d for d in self.daemons if d.role == "standby" and d.age_s <= recent_s]


STANDBY_COLUMNS = ("instance_id", "host", "pid", "heartbeat")


def standby_table(presence: Presence, recent_s: float) -> Table:
    rows: list[tuple[str, ...]] = [
        (d.instance_id, d.host, str(d.pid), f"{human_age(d.age_s)} ago")
        for d in presence.standbys(recent_s)
    ]
    return Table(STANDBY_COLUMNS, rows)


async def presence(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Presence:
    """Read the leader lease and the daemon heartbeats as of ``now``."""
    async with sessions() as session:
        lease = await session.get(LeaseRow, "leader")
        rows = (
            await session.execute(select(DaemonRow).order_by(DaemonRow.heartbeat_at.desc()))
        ).scalars()
        beats = [
            SeenDaemon(r.instance_id, r.role, r.host, r.pid, _seconds_since(now, r.heartbeat_at))
            for r in rows
        ]
    leader = None
    if lease is not None:
        leader = Leader(
            holder=lease.holder,
            epoch=lease.epoch,
            renewed_age_s=_seconds_since(now, lease.renewed_at),
            expires_in_s=-_seconds_since(now, lease.expires_at),
            heartbeat=next((b for b in beats if b.instance_id == lease.holder), None),
        )
    return Presence(leader, beats)
