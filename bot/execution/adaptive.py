"""``adaptive``: passive or aggressive, chosen per step from the live book.

The rule (modes ``final``, ``falling``, ``behind``, ``tight``/``restless``, ``passive``) is
``planning.adaptive_step``, stated in ``planning.py``'s docstring. This executor feeds it:
every ``step_s`` (the horizon in ``STEPS`` parts, at least ``poll_interval_s``) it reads the
book and adds its mid and the others' best ask to two ``PriceSeries`` (the last
``MID_WINDOW`` readings), then acts on the answer. A resting order at the answer's price is
kept (it keeps its queue place) and topped up; at a stale price it is replaced. Aggressive
leftovers are cancelled after ``poll_interval_s``.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain.executions import Execution
from bot.domain.money import ZERO
from bot.execution.actions import (
    cancel_open,
    order_book,
    refresh_progress,
    sell,
)
from bot.execution.guards import min_sellable
from bot.execution.midstats import PriceSeries
from bot.execution.planning import (
    AdaptiveAction,
    AdaptiveInputs,
    adaptive_step,
    bid_amount_above,
    drop_bps,
    others_best_ask,
)
from bot.execution.port import DONE, ExecutionContext, Progress, StepResult

STEPS = 30
MID_WINDOW = 30


class AdaptiveExecutor:
    def __init__(self, ctx: ExecutionContext, execution: Execution) -> None:
        self._ctx = ctx
        horizon = float(execution.decision.horizon_s)
        self.step_s = max(ctx.guards.poll_interval_s, horizon / STEPS)
        self._mids = PriceSeries(MID_WINDOW)  # the book's mids
        self._refs = PriceSeries(MID_WINDOW)  # the others' best asks, read with them
        self._first: Decimal | None = None  # the first of those
        self.modes: list[str] = []

    async def step(self, execution: Execution) -> StepResult:
        ctx = self._ctx
        now = ctx.clock.time()
        end = ctx.horizon_end(execution)
        progress = await refresh_progress(ctx, execution)
        if now >= end:
            if progress.open:
                await cancel_open(ctx, execution)
            return DONE
        if not progress.open and progress.room(execution) <= 0:
            return DONE  # everything sold: nothing to watch until the horizon
        book = await order_book(ctx)
        own = [(o.price, o.amount - o.filled) for o in progress.open if o.price is not None]
        ref = others_best_ask(book, own)
        if ref is not None and book.mid is not None:
            self._first = self._first or ref
            self._refs.add(ref, now)
            self._mids.add(book.mid, now)
        stats = self._refs.stats(self.step_s)
        noise = self._mids.stats(self.step_s).volatility_bps
        action = adaptive_step(
            book,
            AdaptiveInputs(
                allocated=execution.allocated,
                sold=progress.sold,
                elapsed_s=now - ctx.started(execution),
                horizon_s=float(execution.decision.horizon_s),
                step_s=self.step_s,
                volatility_bps=noise,
                fall_volatility_bps=stats.volatility_bps,
                bound=ctx.bound,
                drop_bps=drop_bps(self._first, ref),
                drift_t=stats.drift_t,
                drift_bps=stats.drift_bps,
                fell="falling" in self.modes,
                jump_share=stats.jump_share,
            ),
            ctx.market,
        )
        self.modes.append(action.mode)
        if progress.open and self._keep(progress, action):
            await self._top_up(execution, progress, action)
            return StepResult(min(now + self.step_s, end))
        if progress.open:
            progress = await cancel_open(ctx, execution)
            if progress.open:
                return StepResult(min(now + ctx.guards.poll_interval_s, end))
        if action.aggressive and bid_amount_above(book, ctx.bound) <= 0:
            return StepResult(min(now + ctx.guards.poll_interval_s, end))
        await sell(
            ctx, execution, progress, self._amount(execution, progress, action), action.price
        )
        wait_s = ctx.guards.poll_interval_s if action.aggressive else self.step_s
        return StepResult(min(now + wait_s, end))

    @staticmethod
    def _keep(progress: Progress, action: AdaptiveAction) -> bool:
        return not action.aggressive and all(o.price == action.price for o in progress.open)

    def _amount(self, execution: Execution, progress: Progress, action: AdaptiveAction) -> Decimal:
        """Return the order size: at least the minimum, and never leaving a dust tail."""
        room = progress.room(execution)
        minimum = min_sellable(self._ctx.market, action.price, self._ctx.guards)
        want = min(max(action.amount, ZERO), room)
        if ZERO < want < minimum <= room:
            want = minimum
        if room - want < minimum:
            want = room
        return want

    async def _top_up(
        self, execution: Execution, progress: Progress, action: AdaptiveAction
    ) -> None:
        resting = sum((o.amount - o.filled for o in progress.open), ZERO)
        extra = action.amount - resting
        minimum = min_sellable(self._ctx.market, action.price, self._ctx.guards)
        if extra >= minimum:
            await sell(self._ctx, execution, progress, extra, action.price)
