"""``ExecutionRunner``: drive one executor to a terminal state, persisting after every step.

Start: ``queued → running``, record the arrival mid and start time. The arrival mid is taken
only from a book ``guards.reference_check`` accepts (two-sided, not crossed, mid not more than
``max_mid_deviation_bps`` below the last trade or the scoring-time price): on a refused book the
execution stays ``queued`` with no arrival mid and no order, re-checks every
``poll_interval_s``, and ends ``failed`` (note ``book_refused:<reason>``) if its horizon ends
first. A step refused the same way (``actions.BookRefused``) places nothing and is retried after
``poll_interval_s``; past the horizon (the final sweep) a refusal ends the execution, and an
execution that ends short after a refusal says so in its note. Loop: ``step``, store
sold/proceeds/fees from the recorded fills, sleep on the clock until the executor's next
wake-up. Transient exchange errors are retried on the clock; definitive ones end the
execution ``failed``. End: cancel whatever is still open, collect the last fills, then
``completed`` (what is left is dust), ``partial`` or ``failed``.

Cancelling the ``run`` task is an interruption (shutdown): open orders are cancelled and the
execution stays ``running`` so the next start resumes it. ``request_cancel`` is the user's
cancel: the execution ends ``cancelled``.

The store is read once, at the start: a resumed execution is the stored row, not what the
caller holds. From then on the runner keeps the execution it last wrote and writes it once
per transition (running, new totals, finished). Nothing else writes a running execution's
row but its totals, which are always recomputed from the stored fills (a re-checked vanished
order, ``vanished.refresh_totals``): the runner's next write recomputes them the same way, so
its copy never overwrites newer data. The user's cancel does not come through the row
either: ``sellbot cancel`` sets a control that the daemon passes on as ``request_cancel``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from bot.clock import Clock
from bot.domain.executions import Execution, ExecutionState
from bot.domain.market import Market
from bot.exchange.errors import (
    DefinitiveError,
    ExchangeBlocked,
    ExchangeError,
    MalformedResponse,
    RateLimited,
    TransientError,
)
from bot.exchange.markets import find_market
from bot.exchange.port import Exchange
from bot.execution.actions import (
    BookRefused,
    cancel_open,
    checked_book,
    read_progress,
    refresh_progress,
)
from bot.execution.guards import ExecutionGuards, is_dust, price_bound
from bot.execution.port import ExecutionContext, ExecutorFactory, Progress, StepResult
from bot.execution.registry import EXECUTORS
from bot.execution.store import ExecutionStore, execution_totals
from bot.execution.tracker import OrderTracker
from bot.logs import get_logger

log = get_logger("sellbot.runner")

HORIZON_GRACE_S = 120.0  # the runner stops an executor that overruns its horizon by this much
MAX_TRANSIENT_STREAK = 50
FINISH_ATTEMPTS = 10
CLOSE_ATTEMPTS = 60  # transient errors while closing are retried on the clock


class ExecutionFailed(Exception):
    """The execution cannot continue (market gone, repeated rejections)."""


class ExecutionRunner:
    """Run executions over an exchange, a store and a clock."""

    def __init__(
        self,
        *,
        exchange: Exchange,
        store: ExecutionStore,
        clock: Clock,
        guards: ExecutionGuards,
        seed: int | str | None = None,
        tracker: OrderTracker | None = None,
        executors: Mapping[str, ExecutorFactory] | None = None,
        cancel_on_interrupt: bool = True,
    ) -> None:
        self._exchange = exchange
        self._cancel_on_interrupt = cancel_on_interrupt
        self._store = store
        self._clock = clock
        self._guards = guards
        self._seed = seed
        self.tracker = tracker or OrderTracker(
            exchange=exchange,
            store=store,
            clock=clock,
            unknown_grace_s=guards.unknown_grace_s,
            poll_interval_s=guards.poll_interval_s,
        )
        self._executors: Mapping[str, ExecutorFactory] = executors or EXECUTORS
        self._markets: dict[str, Market] = {}
        self._cancel_requested: set[str] = set()

    def request_cancel(self, execution_id: str) -> None:
        """Ask a running execution to stop and end ``cancelled`` at its next step."""
        self._cancel_requested.add(execution_id)

    async def run(self, execution: Execution) -> Execution:
        """Drive ``execution`` (new or resumed) to a terminal state and return it."""
        if execution.state.terminal:
            return execution
        try:  # a resumed execution: the stored row is the truth
            execution = await self._store.get_execution(execution.id)
        except LookupError:
            await self._store.create_execution(execution)
        if execution.state.terminal:  # ended meanwhile (cancelled while queued, given up)
            return execution
        started = await self._start_with_retries(execution)
        if isinstance(started, Execution):
            return started
        ctx, execution = started
        try:
            state, note = await self._loop(ctx, execution)
        except asyncio.CancelledError:
            await self._interrupt(ctx, execution)
            raise
        return await self._finish(ctx, execution, state, note)

    async def _market(self, market_id: str) -> Market:
        market = await find_market(self._exchange, market_id, self._markets)
        if market is None:
            raise ExecutionFailed(f"unknown market {market_id}")
        return market

    async def _start_with_retries(
        self, execution: Execution
    ) -> tuple[ExecutionContext, Execution] | Execution:
        """Start (or resume) the execution; return it ended if it cannot start: failed, or
        cancelled if asked while it waits for a sane book."""
        transient = 0
        refused: str | None = None
        deadline = execution.created_at.timestamp() + execution.decision.horizon_s
        while transient < MAX_TRANSIENT_STREAK:
            if execution.id in self._cancel_requested:
                self._cancel_requested.discard(execution.id)
                return await self._end_before_start(
                    execution, ExecutionState.CANCELLED, "cancel_requested"
                )
            try:
                market = await self._market(execution.market)
                if execution.state is ExecutionState.QUEUED:
                    execution = await self._begin(execution)
                return self._context(execution, market)
            except BookRefused as e:
                refused = await self._refused(execution, e, "arrival", refused)
                if self._clock.time() + self._guards.poll_interval_s > deadline:
                    return await self._fail_before_start(execution, f"book_refused:{e.reason}")
                await self._clock.sleep(self._guards.poll_interval_s)
            except (TransientError, ExchangeBlocked) as e:
                transient += 1
                await self._clock.sleep(self._retry_delay(e))
            except (DefinitiveError, MalformedResponse, ExecutionFailed) as e:
                return await self._fail_before_start(execution, f"{type(e).__name__}:{e}")
        return await self._fail_before_start(execution, "transient_errors_at_start")

    async def _refused(
        self, execution: Execution, e: BookRefused, phase: str, previous: str | None
    ) -> str:
        """Log and record a refused book once per change of reason; return the reason."""
        if e.reason != previous:
            fields = {"phase": phase, **e.fields()}
            # a sale that cannot start warns; a step waiting out a bad book is routine
            emit = log.warning if phase == "arrival" else log.info
            emit("book_refused", execution_id=execution.id, **fields)
            await self._store.append_event("book_refused", execution.id, fields)
        return e.reason

    async def _begin(self, execution: Execution) -> Execution:
        """Take the arrival mid from a sane book and store the execution ``running``."""
        book = await checked_book(
            self._exchange,
            execution.market,
            50,
            self._guards.max_mid_deviation_bps,
            scoring_price(execution),
        )
        running = replace(
            execution,
            state=ExecutionState.RUNNING,
            started_at=self._clock.now(),
            arrival_mid=execution.arrival_mid or book.mid,
        )
        await self._store.update_execution(running)
        await self._store.append_event(
            "execution_started",
            running.id,
            {"market": running.market, "arrival_mid": str(running.arrival_mid)},
        )
        return running

    def _context(self, execution: Execution, market: Market) -> tuple[ExecutionContext, Execution]:
        if execution.arrival_mid is None:
            raise ExecutionFailed("no arrival mid (empty book)")
        bound = price_bound(
            market, execution.arrival_mid, self._guards, execution.decision.max_slippage_bps
        )
        ctx = ExecutionContext(
            exchange=self._exchange,
            tracker=self.tracker,
            store=self._store,
            clock=self._clock,
            guards=self._guards,
            market=market,
            bound=bound,
            seed=self._seed,
        )
        log.info("execution_running", execution_id=execution.id, bound=str(bound))
        return ctx, execution

    async def _loop(
        self, ctx: ExecutionContext, execution: Execution
    ) -> tuple[ExecutionState, str]:
        executor = self._executors[execution.decision.strategy](ctx, execution)
        hard_stop = ctx.horizon_end(execution) + HORIZON_GRACE_S
        transient_streak = 0
        refused: str | None = None  # the last refused book's reason, kept for the note
        while True:
            if execution.id in self._cancel_requested:
                return ExecutionState.CANCELLED, "cancel_requested"
            if self._clock.time() >= hard_stop:
                return ExecutionState.PARTIAL, _with_refusal("horizon_overrun", refused)
            try:
                result = await executor.step(execution)
                transient_streak = 0
            except BookRefused as e:
                refused = await self._refused(execution, e, "step", refused)
                if self._clock.time() >= ctx.horizon_end(execution):
                    return ExecutionState.COMPLETED, _with_refusal("", refused)  # no sweep
                result = StepResult(self._clock.time() + self._guards.poll_interval_s)
            except (TransientError, MalformedResponse, ExchangeBlocked) as e:
                transient_streak += 1
                if transient_streak > MAX_TRANSIENT_STREAK:
                    return ExecutionState.FAILED, f"transient_errors:{type(e).__name__}"
                result = StepResult(self._clock.time() + self._retry_delay(e))
            except (DefinitiveError, ExecutionFailed) as e:
                return ExecutionState.FAILED, f"{type(e).__name__}:{e}"
            progress = result.progress or await read_progress(ctx, execution)
            execution = await self._save_progress(execution, progress.sold)
            if progress.rejected >= self._guards.max_rejects:
                return ExecutionState.FAILED, "rejected_orders"
            if result.wake_at is None:
                return ExecutionState.COMPLETED, _with_refusal(result.note, refused)
            await self._clock.sleep_until(min(result.wake_at, hard_stop))

    def _retry_delay(self, e: ExchangeError) -> float:
        if isinstance(e, RateLimited) and e.retry_after_s is not None:
            return max(e.retry_after_s, 0.0)
        return self._guards.poll_interval_s

    async def _save_progress(self, execution: Execution, sold: Decimal | None = None) -> Execution:
        """Store the execution's totals from its fills if they changed, and return it;
        ``sold`` (the fills' sum, when the caller has it) equal to the execution's means no
        new fill (fills are never empty)."""
        if sold is not None and sold == execution.sold:
            return execution
        updated = await self._with_totals(execution)
        if updated != execution:
            await self._store.update_execution(updated)
        return updated

    async def _with_totals(self, execution: Execution) -> Execution:
        """Return ``execution`` with sold, proceeds and fees from its stored fills."""
        totals = await execution_totals(self._store, execution.id)
        return replace(execution, sold=totals.sold, proceeds=totals.proceeds, fees=totals.fees)

    async def _close_orders(self, ctx: ExecutionContext, execution: Execution) -> Progress:
        """Cancel what is open, retrying ``FINISH_ATTEMPTS`` times, and keep looking up an
        order whose outcome is unknown until its grace has passed (found, or vanished), so
        no execution ends with a row nobody resolves."""
        poll_s = self._guards.poll_interval_s
        progress = await cancel_open(ctx, execution)
        attempts = 0
        while progress.open:
            unknown_until = max(
                (
                    o.created_at.timestamp() + self._guards.unknown_grace_s + poll_s
                    for o in progress.open
                    if o.exchange_id is None
                ),
                default=0.0,
            )
            if attempts >= FINISH_ATTEMPTS and self._clock.time() >= unknown_until:
                break
            await self._clock.sleep(poll_s)
            progress = await cancel_open(ctx, execution)
            attempts += 1
        return await refresh_progress(ctx, execution)

    async def _finish(
        self, ctx: ExecutionContext, execution: Execution, state: ExecutionState, note: str
    ) -> Execution:
        progress = await self._close_orders_safely(ctx, execution)
        execution = await self._with_totals(execution)  # stored with the end state, below
        if state is ExecutionState.COMPLETED:
            left = execution.allocated - execution.sold
            if not is_dust(left, ctx.market, ctx.bound, self._guards):
                state = ExecutionState.PARTIAL
        if progress is not None and progress.open:
            note = f"{note};orders_unresolved".strip(";")
        finished = replace(execution, state=state, finished_at=self._clock.now(), note=note)
        await self._store.update_execution(finished)
        shortfall = finished.shortfall_bps
        await self._store.append_event(
            "execution_finished",
            finished.id,
            {
                "state": str(state),
                "sold": str(finished.sold),
                "proceeds": str(finished.proceeds),
                "avg_price": str(finished.avg_price),
                "shortfall_bps": str(shortfall),
                "note": note,
            },
        )
        log.info(
            "execution_finished",
            execution_id=finished.id,
            state=str(state),
            sold=str(finished.sold),
            proceeds=str(finished.proceeds),
            shortfall_bps=str(shortfall),
        )
        self._cancel_requested.discard(finished.id)
        return finished

    async def _close_orders_safely(
        self, ctx: ExecutionContext, execution: Execution
    ) -> Progress | None:
        for _ in range(CLOSE_ATTEMPTS):
            try:
                return await self._close_orders(ctx, execution)
            except (TransientError, MalformedResponse, ExchangeBlocked):
                await self._clock.sleep(self._guards.poll_interval_s)
        return None

    async def _interrupt(self, ctx: ExecutionContext, execution: Execution) -> None:
        """Cancel open orders on shutdown (unless told to leave them) and store the totals;
        the execution stays running, and the next start reconciles and resumes it.

        ``execution`` is the one the loop started with: a step changes only its totals, and
        those are recomputed from the fills here."""
        if not self._cancel_on_interrupt:
            log.info("interrupt_left_orders_open", execution_id=execution.id)
            return
        try:
            await self._close_orders(ctx, execution)
            await self._save_progress(execution)
        except ExchangeError as e:
            log.warning(
                "interrupt_cleanup_failed", execution_id=execution.id, error=type(e).__name__
            )

    async def _fail_before_start(self, execution: Execution, note: str) -> Execution:
        return await self._end_before_start(execution, ExecutionState.FAILED, note)

    async def _end_before_start(
        self, execution: Execution, state: ExecutionState, note: str
    ) -> Execution:
        ended = replace(execution, state=state, finished_at=self._clock.now(), note=note)
        await self._store.update_execution(ended)
        await self._store.append_event(f"execution_{state}", execution.id, {"note": note})
        return ended


def scoring_price(execution: Execution) -> Decimal | None:
    """Return the price the balance was valued at when scored (``allocated_value /
    allocated``), or None where the execution does not carry that value."""
    value = execution.allocated_value
    if value is None or value <= 0 or execution.allocated <= 0:
        return None
    return value / execution.allocated


def _with_refusal(note: str, refused: str | None) -> str:
    """Return ``note`` with the last refused book's reason, if a step was refused."""
    return note if refused is None else f"{note};book_refused:{refused}".strip(";")
