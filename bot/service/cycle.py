"""One prioritisation cycle: balances → snapshot → scores → advice → executions (queued)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time
from decimal import Decimal

import structlog

from bot.advisor.port import Advice, AdviceContext
from bot.bootstrap import App
from bot.domain.balances import BalanceScore, Classification
from bot.domain.decisions import Decision
from bot.domain.executions import Execution, ExecutionState
from bot.domain.money import ZERO, quantize_down
from bot.ids import new_cycle_id, new_execution_id
from bot.logs import get_logger
from bot.notify.events import cycle_summary, daily_cap_hit
from bot.prioritisation.marketdata import build_snapshot
from bot.prioritisation.scoring import MarketSnapshot, prioritise

log = get_logger("sellbot.cycle")


@dataclass
class CycleResult:
    cycle_id: str
    paused: bool = False
    scored: int = 0
    started: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _midnight(now: datetime) -> datetime:
    return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


async def run_prioritisation_cycle(app: App) -> CycleResult:
    """Score every balance and start an execution for each sellable one (under the limiter)."""
    result = CycleResult(cycle_id=new_cycle_id())
    with structlog.contextvars.bound_contextvars(cycle_id=result.cycle_id):
        if await app.controls.is_paused():
            log.info("cycle_skipped_paused")
            app.metrics.cycles.inc(outcome="paused")
            result.paused = True
            return result
        settings = app.settings
        balances = await app.exchange.balances()
        snapshot = await build_snapshot(
            app.exchange,
            balances,
            quote=settings.quote_currency,
            excluded=settings.excluded_currencies,
            clock=app.clock,
            min_value=settings.min_order_value,
            volatility_cache=app.volatility,
        )
        scores = prioritise(snapshot, weights=app.weights, min_value=settings.min_order_value)
        result.scored = len(scores)
        await app.snapshots.add_scores(result.cycle_id, app.clock.now(), scores)
        log.info(
            "cycle_scored",
            balances=len(scores),
            sell=sum(1 for s in scores if s.classification is Classification.SELL),
        )
        await _start_sales(app, snapshot, scores, result)
        app.notifier.publish(cycle_summary(result, scores, settings.quote_currency))
        app.metrics.cycles.inc(outcome="ok")
        log.info("cycle_done", started=len(result.started), skipped=len(result.skipped))
        return result


async def _busy_markets(app: App) -> set[str]:
    busy = app.supervisor.active_markets()
    busy |= {e.market for e in await app.store.non_terminal_executions()}
    return busy


async def _start_sales(
    app: App, snapshot: MarketSnapshot, scores: list[BalanceScore], result: CycleResult
) -> None:
    # under the limiter's budget lock: another cycle reads the ledger only after these rows
    async with app.limiter.budget_lock:
        await _allocate_and_queue(app, snapshot, scores, result)


async def _allocate_and_queue(
    app: App, snapshot: MarketSnapshot, scores: list[BalanceScore], result: CycleResult
) -> None:
    cap = app.settings.max_daily_value
    busy = await _busy_markets(app)
    committed = await app.ledger.value_since(_midnight(app.clock.now()))
    for score in scores:
        if score.classification is not Classification.SELL or score.market is None:
            continue
        if score.market in busy:
            result.skipped[score.currency] = "market_busy"
            continue
        ctx = AdviceContext.from_snapshot(score, snapshot)
        allocated = _allocation(score, ctx, cap - committed)
        app.notifier.publish(daily_cap_hit(score, allocated, committed, cap, app.clock.now()))
        capped = {"committed": str(committed), "cap": str(cap), "value": str(score.value_quote)}
        if allocated <= ZERO:
            result.skipped[score.currency] = "daily_cap"
            log.info("sale_skipped_daily_cap", currency=score.currency, **capped)
            continue
        value = _value_of(score, allocated)
        if allocated < score.amount:
            log.info(
                "sale_reduced_daily_cap",
                currency=score.currency,
                allocated=str(allocated),
                allocated_value=str(value),
                **capped,
            )
        advice = await app.advisor.advise(ctx)
        _count_advice(app, advice)
        decision = _forced(app, advice.decision)
        execution = await _create_execution(
            app, result.cycle_id, score, advice, decision, (allocated, value)
        )
        committed += value  # the row is written: the next cycle's ledger counts it too
        if app.supervisor.submit(execution, priority=score.score):
            result.started.append(execution.id)
            busy.add(score.market)


def _value_of(score: BalanceScore, allocated: Decimal) -> Decimal:
    """Return the quote value of ``allocated`` at the price the balance was scored at."""
    if allocated == score.amount or not score.amount:
        return score.value_quote
    return score.value_quote * allocated / score.amount


def _allocation(score: BalanceScore, ctx: AdviceContext, budget: Decimal) -> Decimal:
    """Return how much of the balance to sell now: all of it, or what the daily cap allows."""
    if budget <= ZERO:
        return ZERO
    if score.value_quote <= budget or score.value_quote <= ZERO:
        return score.amount
    share = score.amount * budget / score.value_quote
    amount = quantize_down(share, ctx.market.amount_precision)
    return amount if amount >= ctx.market.min_amount else ZERO


def _count_advice(app: App, advice: Advice) -> None:
    outcome = "fallback" if advice.fallback else ("memo" if advice.memo_hit else "ok")
    app.metrics.llm_calls.inc(advisor=advice.advisor, outcome=outcome)


def _forced(app: App, decision: Decision) -> Decision:
    forced = app.settings.force_strategy
    if forced is None or decision.strategy is forced:
        return decision
    limits = app.settings.limits()
    return replace(
        decision,
        strategy=forced,
        slices=max(limits.min_slices, min(decision.slices, limits.max_slices)),
        horizon_s=max(limits.min_horizon_s, min(decision.horizon_s, limits.max_horizon_s)),
        reason=f"forced by SELLBOT_FORCE_STRATEGY (advisor said {decision.strategy})",
    )


async def _create_execution(
    app: App,
    cycle_id: str,
    score: BalanceScore,
    advice: Advice,
    decision: Decision,
    allocation: tuple[Decimal, Decimal],
) -> Execution:
    if score.market is None:  # only sell scores, which have a market, get here
        raise ValueError(f"{score.currency} has no market")
    allocated, allocated_value = allocation
    now = app.clock.now()
    decision_id = await app.decisions.add(
        cycle_id=cycle_id,
        at=now,
        market=score.market,
        currency=score.currency,
        decision=decision,
        advisor=advice.advisor,
        model=advice.model,
        latency_ms=advice.latency_ms,
        prompt_hash=advice.prompt_hash,
        raw_answer=advice.raw_answer,
        fallback_reason=advice.fallback_reason,
    )
    execution = Execution(
        id=new_execution_id(),
        market=score.market,
        currency=score.currency,
        allocated=allocated,
        allocated_value=allocated_value,
        decision=decision,
        state=ExecutionState.QUEUED,
        created_at=now,
        priority=score.score,
        decision_id=decision_id,
    )
    await app.store.create_execution(execution)
    log.info(
        "execution_queued",
        execution_id=execution.id,
        market=execution.market,
        allocated=str(allocated),
        allocated_value=str(allocated_value),
        strategy=str(decision.strategy),
        horizon_s=decision.horizon_s,
        advisor=advice.advisor,
        reason=decision.reason,
        fallback=advice.fallback_reason,
    )
    return execution
