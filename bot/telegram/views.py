"""What the Telegram commands read: the operator views of ``bot.db.reports`` (the same the CLI
prints), sized for one chat message.

Replies are Telegram HTML: tables go in ``<pre>`` blocks (monospace), everything is escaped.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import reports
from bot.db.models import BalanceSnapshotRow, DecisionRow
from bot.db.repositories import ControlRepository
from bot.domain.executions import ExecutionState

MESSAGE_LIMIT = 4096  # characters in one Telegram message
ROWS = 10  # rows per table a command shows

BALANCE_COLUMNS = ("currency", "amount", "value", "class", "score", "decision")


def section(title: str, table: reports.Table, budget: int = MESSAGE_LIMIT // 2) -> str:
    """Render ``table`` under ``title``, dropping its last rows until it fits ``budget``."""
    shown, dropped = table, 0
    while len(shown.render()) > budget and shown.rows:
        dropped += 1
        shown = replace(table, rows=table.rows[: len(table.rows) - dropped])
    more = f"\n({dropped} more not shown)" if dropped else ""
    return f"<b>{escape(title)}</b>\n<pre>{escape(shown.render())}</pre>{escape(more)}"


async def open_order_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    return len(await reports.open_orders(sessions))


async def execution_state(
    sessions: async_sessionmaker[AsyncSession], execution_id: str
) -> ExecutionState | None:
    """Return the state of the sale ``execution_id``, or None if there is no such sale."""
    row = await reports.execution_exists(sessions, execution_id)
    return None if row is None else ExecutionState(row.state)


async def status_text(
    sessions: async_sessionmaker[AsyncSession], now: datetime, limit: int = ROWS
) -> str:
    """The kill switch, the leader, the running sales and the open orders (``sellbot status``)."""
    paused = await ControlRepository(sessions).is_paused()
    leader = (await reports.presence(sessions, now)).leader
    tables = await reports.status(sessions, limit)
    head = (
        f"kill switch: {'PAUSED' if paused else 'off'}\n"
        f"leader: {escape(leader.describe() if leader else 'none')}"
    )
    return "\n\n".join(
        [
            head,
            section("running executions", tables["executions"]),
            section("open orders", tables["open_orders"], MESSAGE_LIMIT // 4),
        ]
    )


async def history_text(sessions: async_sessionmaker[AsyncSession], limit: int = ROWS) -> str:
    """The newest finished sales (``sellbot history``)."""
    return section("finished executions", await reports.history(sessions, limit), 3000)


async def balances_text(
    sessions: async_sessionmaker[AsyncSession], now: datetime, quote: str
) -> str:
    """What the newest cycle scored: each balance, its value, score and decision."""
    async with sessions() as session:
        newest = await session.scalar(
            select(BalanceSnapshotRow).order_by(BalanceSnapshotRow.id.desc()).limit(1)
        )
        if newest is None:
            return "no cycle has scored the balances yet"
        cycle = newest.cycle_id
        rows = (
            await session.scalars(
                select(BalanceSnapshotRow)
                .where(BalanceSnapshotRow.cycle_id == cycle)
                .order_by(BalanceSnapshotRow.score.desc(), BalanceSnapshotRow.currency)
            )
        ).all()
        decided = (
            await session.scalars(select(DecisionRow).where(DecisionRow.cycle_id == cycle))
        ).all()
    strategies = {d.currency: d.strategy for d in decided}
    table = reports.Table(
        BALANCE_COLUMNS,
        [
            (
                r.currency,
                reports.human_money(r.amount),
                reports.human_money(r.value_quote, 2),
                r.classification,
                reports.human_money(r.score, 3),
                strategies.get(r.currency, "-"),
            )
            for r in rows
        ],
    )
    taken = newest.taken_at if newest.taken_at.tzinfo else newest.taken_at.replace(tzinfo=UTC)
    age = reports.human_age((now - taken).total_seconds())
    total = reports.human_money(sum((r.value_quote for r in rows), start=Decimal(0)), 2)
    head = f"cycle {escape(cycle)}, {age} ago: {len(rows)} balance(s) worth {total} {escape(quote)}"
    return f"{head}\n\n{section('balances', table, 3500)}"
