"""Start-up recovery and the periodic tracking job (kill switch, cancel requests, metrics)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.clock import Clock
from bot.db.models import ExecutionRow, OrderRow
from bot.domain.executions import Execution, ExecutionState
from bot.domain.orders import OrderState
from bot.exchange.cached import CachedExchange
from bot.exchange.forwarding import layer
from bot.exchange.gate import GatedExchange
from bot.execution.order_match import MATCH_WINDOW_S
from bot.execution.reconcile import reconcile, resolve_stray_orders
from bot.execution.store import ExecutionStore
from bot.execution.supervisor import ExecutionSupervisor
from bot.execution.vanished import recheck_vanished
from bot.logs import get_logger
from bot.notify.events import kill_switch

log = get_logger("sellbot.tracking")

RESUME_AFTER_S = 5.0  # wait this long after a first crash before resuming (e.g. a DB outage)
VANISHED_RECHECK_EVERY_S = 60.0  # how often the tracking job re-checks vanished orders
RESUME_MAX_DELAY_S = 600.0  # the backoff between resumes grows no longer than this


async def recover(app: App, gate: GatedExchange) -> None:
    """Reconcile unfinished orders with the exchange, then resume unfinished executions."""
    gate.paused = await app.controls.is_paused()
    report = await reconcile(
        exchange=app.exchange, store=app.store, tracker=app.runner.tracker, clock=app.clock
    )
    log.info(
        "reconciled",
        checked=report.checked,
        updated=report.updated,
        adopted=report.adopted,
        matched=report.matched,
        vanished=report.vanished,
        unresolved=len(report.unresolved),
        errors=len(report.errors),
    )
    await recheck_vanished_orders(app)
    for execution in await app.store.non_terminal_executions():
        if app.supervisor.submit(execution, priority=execution.priority):
            log.info("execution_resumed", execution_id=execution.id, state=str(execution.state))


async def recheck_vanished_orders(app: App) -> int:
    """Adopt orders marked vanished within ``vanished_recheck_s`` that the exchange now lists
    (``bot.execution.vanished``); return how many. 0 disables the re-check."""
    app.runner.tracker.vanished_checked_at = app.clock.monotonic()
    window_s = app.settings.vanished_recheck_s
    if window_s <= 0:
        return 0
    since = app.clock.now() - timedelta(seconds=window_s)
    async with app.sessions() as session:
        ids = await session.scalars(
            select(OrderRow.client_id).where(
                OrderRow.state == str(OrderState.VANISHED), OrderRow.created_at >= since
            )
        )
        held = await session.scalars(
            select(OrderRow.exchange_id).where(
                OrderRow.exchange_id.is_not(None),
                OrderRow.created_at >= since - timedelta(seconds=MATCH_WINDOW_S),
            )
        )
        client_ids, held_ids = list(ids.all()), {h for h in held.all() if h}
    rows = [r for c in client_ids if (r := await app.store.get_order(c)) is not None]
    if not rows:
        return 0
    adopted = await recheck_vanished(
        exchange=app.exchange,
        store=app.store,
        tracker=app.runner.tracker,
        rows=rows,
        held=held_ids,
    )
    log.info("vanished_rechecked", rows=len(rows), adopted=adopted)
    return adopted


async def track_once(app: App, gate: GatedExchange) -> None:
    """Refresh the kill switch, honour cancel requests, resume crashed executions, re-check
    vanished orders (each ``VANISHED_RECHECK_EVERY_S``), settle orders that ended executions
    left unresolved, refresh metrics from the database."""
    paused = await app.controls.is_paused()
    if paused != gate.paused:
        log.info("kill_switch", paused=paused)
        app.notifier.publish(kill_switch(paused))
    gate.paused = paused
    app.metrics.paused.set(1.0 if paused else 0.0)
    await _cancel_requests(app)
    await resume_crashed(app)
    checked_at = app.runner.tracker.vanished_checked_at
    if checked_at is None or app.clock.monotonic() - checked_at >= VANISHED_RECHECK_EVERY_S:
        await recheck_vanished_orders(app)
    await resolve_stray_orders(app.store, app.runner.tracker)
    await refresh_metrics(app)


async def resume_crashed(app: App) -> None:
    """Resubmit executions that crashed mid-run, backing off; give up after a bound."""
    await resume_with_backoff(
        app.supervisor, app.store, app.clock, max_attempts=app.settings.resume_max_attempts
    )


def resume_delay_s(crashes: int) -> float:
    """Return how long to wait after the ``crashes``-th crash: 5 s, 10 s, 20 s … 10 min."""
    return min(RESUME_AFTER_S * 2.0 ** max(crashes - 1, 0), RESUME_MAX_DELAY_S)


async def resume_with_backoff(
    supervisor: ExecutionSupervisor, store: ExecutionStore, clock: Clock, *, max_attempts: int
) -> None:
    """Resubmit crashed executions still unfinished in the store, or end them ``failed``.

    A crash is usually a database write that failed (the store was locked or down): the
    execution's orders are tracked by client id, so resuming it reconciles what was sent
    and sells the rest, without waiting for a restart. The n-th crash is resumed after
    ``resume_delay_s(n)``; after ``max_attempts`` resumes crashed too, the execution ends
    ``failed`` with the last crash's reason (its open orders are then cancelled by the
    stray-order sweep). Counts live in memory: a restart starts over. One that cannot
    even be read stays in the list for the next pass.
    """
    now = clock.monotonic()
    for execution_id, crashed_at in list(supervisor.crashed.items()):
        crashes = supervisor.crash_counts.get(execution_id, 1)
        if crashes <= max_attempts and now - crashed_at < resume_delay_s(crashes):
            continue
        execution = await store.get_execution(execution_id)
        if execution.state.terminal:
            supervisor.forget_crashes(execution_id)
        elif crashes > max_attempts:
            await _give_up(supervisor, store, clock, execution, crashes)
        elif supervisor.submit(execution, priority=execution.priority):
            log.info("execution_resumed", execution_id=execution_id, after="crash", crashes=crashes)


async def _give_up(
    supervisor: ExecutionSupervisor,
    store: ExecutionStore,
    clock: Clock,
    execution: Execution,
    crashes: int,
) -> None:
    reason = supervisor.crash_reasons.get(execution.id, "unknown")
    note = f"crashed {crashes} times: {reason}"
    await store.update_execution(
        replace(execution, state=ExecutionState.FAILED, finished_at=clock.now(), note=note)
    )
    await store.append_event(
        "execution_failed", execution.id, {"note": note, "crashes": str(crashes)}
    )
    supervisor.forget_crashes(execution.id)
    log.error("execution_given_up", execution_id=execution.id, crashes=crashes, reason=reason)


async def _cancel_requests(app: App) -> None:
    active = app.supervisor.active_ids
    for execution in await app.store.non_terminal_executions():
        key = f"cancel:{execution.id}"
        if await app.controls.get(key) != "requested":
            continue
        if execution.id in active:
            app.runner.request_cancel(execution.id)
        elif execution.state is ExecutionState.QUEUED:
            await app.store.update_execution(
                replace(execution, state=ExecutionState.CANCELLED, finished_at=app.clock.now())
            )
        await app.controls.set(key, "done", app.clock.now())
        log.info("execution_cancel_requested", execution_id=execution.id)


async def refresh_metrics(app: App) -> None:
    """Set order and execution counts from the database (the source of truth) and bring the
    cache counters up to the cache's own totals."""
    async with app.sessions() as session:
        orders = await session.execute(
            select(OrderRow.state, func.count()).group_by(OrderRow.state)
        )
        order_counts: dict[tuple[str, ...], float] = {
            (state,): float(count) for state, count in orders.all()
        }
        executions = await session.execute(
            select(ExecutionRow.strategy, ExecutionRow.state, func.count()).group_by(
                ExecutionRow.strategy, ExecutionRow.state
            )
        )
        execution_counts: dict[tuple[str, ...], float] = {
            (s, state): float(n) for s, state, n in executions.all()
        }
    app.metrics.order_states.replace(order_counts)
    app.metrics.execution_states.replace(execution_counts)
    app.metrics.running.set(float(len(app.supervisor.active_ids)))
    cached = layer(app.exchange, CachedExchange)
    if cached is not None:
        for cache, counts in cached.stats().items():
            app.metrics.cache_requests.advance_to(counts["hits"], cache=cache, outcome="hit")
            app.metrics.cache_requests.advance_to(counts["misses"], cache=cache, outcome="miss")
            app.metrics.cache_entries.set(float(counts["size"]), cache=cache)
