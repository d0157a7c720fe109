"""Repositories for decisions, balance snapshots, events and live controls (row ↔ domain)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import BalanceSnapshotRow, ControlRow, DecisionRow, EventRow
from bot.domain.balances import BalanceScore
from bot.domain.decisions import Decision


def decision_params(decision: Decision) -> dict[str, Any]:
    """Return the JSON-safe parameters of a decision (Decimals as strings)."""
    out: dict[str, Any] = {}
    for key, value in asdict(decision).items():
        if key in ("strategy", "reason"):
            continue
        out[key] = str(value) if isinstance(value, Decimal | StrEnum) else value
    return out


class SnapshotRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add_scores(self, cycle_id: str, at: datetime, scores: list[BalanceScore]) -> None:
        async with self._sessions.begin() as session:
            session.add_all(
                BalanceSnapshotRow(
                    cycle_id=cycle_id,
                    taken_at=at,
                    currency=s.currency,
                    market=s.market,
                    amount=s.amount,
                    value_quote=s.value_quote,
                    classification=str(s.classification),
                    score=s.score,
                    components=dict(s.components),
                    reason=s.reason,
                )
                for s in scores
            )


class DecisionRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(
        self,
        *,
        cycle_id: str,
        at: datetime,
        market: str,
        currency: str,
        decision: Decision,
        advisor: str,
        model: str | None = None,
        latency_ms: int | None = None,
        prompt_hash: str | None = None,
        raw_answer: str | None = None,
        fallback_reason: str | None = None,
    ) -> int:
        row = DecisionRow(
            cycle_id=cycle_id,
            created_at=at,
            market=market,
            currency=currency,
            advisor=advisor,
            model=model,
            latency_ms=latency_ms,
            prompt_hash=prompt_hash,
            raw_answer=raw_answer,
            strategy=str(decision.strategy),
            params=decision_params(decision),
            urgency=str(decision.urgency),
            reason=decision.reason,
            fallback=fallback_reason is not None,
            fallback_reason=fallback_reason,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            return row.id


class EventLog:
    """Append-only events."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def append(
        self,
        kind: str,
        at: datetime,
        *,
        execution_id: str | None = None,
        client_id: str | None = None,
        **data: Any,
    ) -> None:
        safe = {k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()}
        async with self._sessions.begin() as session:
            session.add(
                EventRow(
                    at=at, kind=kind, execution_id=execution_id, client_id=client_id, data=safe
                )
            )


class ControlRepository:
    """Live switches: ``paused`` is the kill switch."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, key: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(ControlRow, key)
            return row.value if row else None

    async def set(self, key: str, value: str, at: datetime) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(ControlRow, key)
            if row is None:
                session.add(ControlRow(key=key, value=value, updated_at=at))
            else:
                row.value, row.updated_at = value, at

    async def is_paused(self) -> bool:
        return (await self.get("paused")) == "true"

    async def set_paused(self, paused: bool, at: datetime) -> None:
        await self.set("paused", "true" if paused else "false", at)


async def recent_rows(
    sessions: async_sessionmaker[AsyncSession], model: type[Any], limit: int = 50
) -> list[Any]:
    """Return the newest rows of a table (for the CLI)."""
    async with sessions() as session:
        result = await session.execute(select(model).order_by(model.id.desc()).limit(limit))
        return list(result.scalars())


class DailyLedger:
    """What the daily cap counts: every unfinished sale, and the sales finished since a moment."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def value_since(self, since: datetime) -> Decimal:
        """Return proceeds of sales finished since ``since`` plus every unfinished sale's value."""
        from sqlalchemy import and_, or_

        from bot.db.models import ExecutionRow
        from bot.domain.executions import ExecutionState, committed_value

        unfinished = [s.value for s in ExecutionState if not s.terminal]
        query = select(ExecutionRow).where(
            or_(
                ExecutionRow.state.in_(unfinished),
                ExecutionRow.finished_at >= since,
                and_(ExecutionRow.finished_at.is_(None), ExecutionRow.created_at >= since),
            )
        )
        total = Decimal(0)
        async with self._sessions() as session:
            for row in (await session.scalars(query)).all():
                total += committed_value(
                    terminal=row.state not in unfinished,
                    proceeds=row.proceeds,
                    allocated=row.allocated,
                    allocated_value=row.allocated_value,
                    arrival_mid=row.arrival_mid,
                )
        return total
