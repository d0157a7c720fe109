"""Composition root: build every collaborator from settings; nothing happens at import."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.advisor.port import Advisor
from bot.advisor.rules import RuleAdvisor
from bot.clock import Clock
from bot.db.engine import create_engine, session_factory
from bot.db.execution_store import SqlExecutionStore
from bot.db.repositories import (
    ControlRepository,
    DailyLedger,
    DecisionRepository,
    EventLog,
    SnapshotRepository,
)
from bot.exchange.port import Exchange
from bot.execution.guards import ExecutionGuards
from bot.execution.limiter import ConcurrencyLimiter
from bot.execution.runner import ExecutionRunner
from bot.execution.supervisor import ExecutionSupervisor
from bot.metrics import Metrics, record_finished
from bot.prioritisation.marketdata import VolatilityCache
from bot.prioritisation.scoring import ScoreWeights
from bot.settings import Settings


@dataclass
class App:
    """Everything the daemon, the cycle and the jobs use."""

    settings: Settings
    clock: Clock
    rng: random.Random
    exchange: Exchange
    advisor: Advisor
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: SqlExecutionStore
    runner: ExecutionRunner
    limiter: ConcurrencyLimiter
    supervisor: ExecutionSupervisor
    snapshots: SnapshotRepository
    decisions: DecisionRepository
    events: EventLog
    controls: ControlRepository
    ledger: DailyLedger
    weights: ScoreWeights
    volatility: VolatilityCache
    metrics: Metrics = field(default_factory=Metrics)

    async def close(self) -> None:
        close_advisor = getattr(self.advisor, "close", None)
        if callable(close_advisor):
            await close_advisor()
        await self.exchange.close()
        await self.engine.dispose()


def build_guards(settings: Settings) -> ExecutionGuards:
    return ExecutionGuards(
        max_slippage_bps=settings.max_slippage_bps,
        price_floors=dict(settings.price_floors),
        min_order_value=settings.min_order_value,
        final_sweep=settings.final_sweep,
        poll_interval_s=settings.order_poll_interval_s,
        max_mid_deviation_bps=settings.max_mid_deviation_bps,
    )


def build_advisor(settings: Settings, clock: Clock) -> Advisor:
    """Return the LLM advisor when a Cerebras key is set, else the rule advisor."""
    rules = RuleAdvisor(settings.limits())
    if settings.cerebras_api_key is None or not settings.cerebras_api_key.get_secret_value():
        return rules
    from bot.advisor.llm import LlmAdvisor

    return LlmAdvisor(
        api_key=settings.cerebras_api_key.get_secret_value(),
        model=settings.cerebras_model,
        base_url=settings.cerebras_base_url,
        limits=settings.limits(),
        fallback=rules,
        clock=clock,
        timeout_s=settings.cerebras_timeout_s,
    )


def build_app(
    settings: Settings,
    *,
    clock: Clock,
    rng: random.Random,
    exchange: Exchange,
    advisor: Advisor | None = None,
    metrics: Metrics | None = None,
) -> App:
    """Wire the daemon's collaborators around ``exchange``."""
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    store = SqlExecutionStore(sessions, clock)
    runner = ExecutionRunner(
        exchange=exchange,
        store=store,
        clock=clock,
        guards=build_guards(settings),
        seed=settings.seed,
        cancel_on_interrupt=settings.cancel_on_shutdown,
    )
    limiter = ConcurrencyLimiter(settings.max_concurrent_executions)
    metrics = metrics or Metrics()
    return App(
        settings=settings,
        clock=clock,
        rng=rng,
        exchange=exchange,
        advisor=advisor or build_advisor(settings, clock),
        engine=engine,
        sessions=sessions,
        store=store,
        runner=runner,
        limiter=limiter,
        supervisor=ExecutionSupervisor(
            limiter,
            runner.run,
            on_finish=lambda e: record_finished(metrics, e),
            now=clock.monotonic,
        ),
        snapshots=SnapshotRepository(sessions),
        decisions=DecisionRepository(sessions),
        events=EventLog(sessions),
        controls=ControlRepository(sessions),
        ledger=DailyLedger(sessions),
        weights=ScoreWeights(
            value=settings.weight_value,
            liquidity=settings.weight_liquidity,
            volatility=settings.weight_volatility,
            spread=settings.weight_spread,
        ),
        volatility=VolatilityCache(clock),
        metrics=metrics,
    )
