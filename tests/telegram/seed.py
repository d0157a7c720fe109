"""Rows a daemon would have written: sales running and finished, an open order, one cycle."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import BalanceSnapshotRow, DecisionRow, ExecutionRow, OrderRow


def execution(
    execution_id: str, state: str, at: datetime, *, sold: str = "0", proceeds: str = "0"
) -> ExecutionRow:
    finished = state in ("completed", "partial", "cancelled", "failed")
    return ExecutionRow(
        id=execution_id, market="btcusdt", currency="btc", allocated=Decimal("0.002"),
        allocated_value=Decimal(260), strategy="twap", params={}, state=state,
        priority=Decimal(1), arrival_mid=Decimal(130_000), sold=Decimal(sold),
        proceeds=Decimal(proceeds), fees=Decimal(0), shortfall_bps=None, decision_id=None,
        created_at=at, started_at=at, finished_at=at if finished else None,
    )  # fmt: skip


def open_order(execution_id: str, at: datetime) -> OrderRow:
    return OrderRow(
        client_id=f"{execution_id}-1", execution_id=execution_id, seq=1, exchange_id="77",
        market="btcusdt", side="sell", type="limit", price=Decimal(130_100),
        amount=Decimal("0.001"), filled=Decimal(0), avg_price=None, state="open",
        created_at=at, updated_at=at, sent_at=at,
    )  # fmt: skip


def snapshot(
    cycle_id: str, at: datetime, currency: str, amount: str, value: str, kind: str, score: str
) -> BalanceSnapshotRow:
    return BalanceSnapshotRow(
        cycle_id=cycle_id, taken_at=at, currency=currency, market=f"{currency}usdt",
        amount=Decimal(amount), value_quote=Decimal(value), classification=kind,
        score=Decimal(score), components={}, reason="",
    )  # fmt: skip


def cycle(cycle_id: str, at: datetime) -> list[object]:
    """One cycle that scored btc (sold by twap) and some dust."""
    decision = DecisionRow(
        cycle_id=cycle_id, created_at=at, market="btcusdt", currency="btc", advisor="rules",
        model=None, latency_ms=None, prompt_hash=None, raw_answer=None, strategy="twap",
        params={}, reason="", fallback=False, fallback_reason=None,
    )  # fmt: skip
    return [
        snapshot(cycle_id, at, "btc", "0.002", "260.5", "sellable", "0.812"),
        snapshot(cycle_id, at, "doge", "3", "0.4", "dust", "0"),
        decision,
    ]


async def add(sessions: async_sessionmaker[AsyncSession], *rows: object) -> None:
    async with sessions.begin() as session:
        session.add_all(rows)


async def seed_all(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """e-run (running, one open order), e-done (completed an hour ago), cycle c-old and c-new."""
    earlier = now - timedelta(hours=1)
    await add(sessions, execution("e-run", "running", now))
    await add(sessions, open_order("e-run", now))
    await add(sessions, execution("e-done", "completed", earlier, sold="0.002", proceeds="259.9"))
    await add(sessions, snapshot("c-old", earlier, "eth", "1", "3000", "sellable", "0.9"))
    await add(sessions, *cycle("c-new", now - timedelta(minutes=3)))
