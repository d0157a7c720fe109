"""Read-only views of the database for the operator CLI (status, history, orders)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import ExecutionRow, OrderRow

_TERMINAL_EXECUTIONS = ("completed", "partial", "cancelled", "failed")
_OPEN_ORDERS = ("pending", "unknown", "open")


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def render(self) -> str:
        if not self.rows:
            return "(none)"
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) for i, c in enumerate(self.columns)]
        line = "  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True))
        out = [line, "  ".join("-" * w for w in widths)]
        out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in self.rows]
        return "\n".join(out)

    def as_dicts(self) -> list[dict[str, str]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def _d(value: Decimal | None, places: int = 8) -> str:
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
    progress = f"{_d(row.sold)}/{_d(row.allocated)}"
    return (
        row.id,
        row.market,
        row.strategy,
        row.state,
        progress,
        _d(avg),
        _d(row.proceeds),
        _bps(_shortfall(row)),
    )


EXEC_COLUMNS = ("id", "market", "strategy", "state", "sold/allocated", "avg", "proceeds", "IS_bps")
ORDER_COLUMNS = ("client_id", "market", "type", "price", "amount", "filled", "state", "exch_id")


def _order_row(row: OrderRow) -> tuple[str, ...]:
    return (
        row.client_id,
        row.market,
        row.type,
        _d(row.price),
        _d(row.amount),
        _d(row.filled),
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
