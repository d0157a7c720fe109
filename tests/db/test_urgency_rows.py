"""Urgency is stored with the decision (its own column) and the execution (its parameters),
and shown in ``status`` and ``history``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import DecisionRow, ExecutionRow
from bot.db.reports import history, status
from bot.db.repositories import DecisionRepository, decision_params
from bot.domain.decisions import Decision, StrategyName, Urgency

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def test_urgency_is_persisted_and_shown(sessions: async_sessionmaker[AsyncSession]) -> None:
    decision = Decision(StrategyName.ADAPTIVE, 600, urgency=Urgency.HIGH)
    decision_id = await DecisionRepository(sessions).add(
        cycle_id="c1", at=NOW, market="btcusdt", currency="btc", decision=decision,
        advisor="rules",
    )  # fmt: skip
    low = decision_params(Decision(StrategyName.ADAPTIVE, 600, urgency=Urgency.LOW))
    async with sessions.begin() as session:
        session.add_all(
            [
                _execution("e1", "running", decision_params(decision), decision_id),
                _execution("e2", "completed", low, None),
            ]
        )

    async with sessions() as session:
        stored = (await session.execute(select(DecisionRow.urgency))).scalar_one()
    running = (await status(sessions))["executions"].as_dicts()
    done = (await history(sessions)).as_dicts()

    assert stored == "high"
    assert [row["urgency"] for row in running] == ["high"]
    assert [row["urgency"] for row in done] == ["low"]


def _execution(
    execution_id: str, state: str, params: dict[str, object], decision_id: int | None
) -> ExecutionRow:
    return ExecutionRow(
        id=execution_id, market="btcusdt", currency="btc", allocated=Decimal(1),
        allocated_value=None, strategy="adaptive", params=params, state=state,
        priority=Decimal(1), arrival_mid=None, sold=Decimal(0), proceeds=Decimal(0),
        fees=Decimal(0), shortfall_bps=None, decision_id=decision_id, created_at=NOW,
        started_at=NOW, finished_at=NOW if state == "completed" else None,
    )  # fmt: skip
