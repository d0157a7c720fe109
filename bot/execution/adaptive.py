"""``adaptive``: passive or aggressive, chosen per step from the live book.

The rule (modes ``final``, ``falling``, ``behind``, ``tight``/``restless``, ``passive``) is
``planning.adaptive_step``, stated in ``planning.py``'s docstring. This executor feeds it:
every ``step_s`` (the horizon in ``STEPS`` parts, at least ``poll_interval_s``) it reads the
book into its ``FallWatch`` (``fall.py``: the mid and the others' best ask over the last
``MID_WINDOW`` readings, and the step a fall was first called; that call is persisted as an
event and restored when a restarted process resumes the sale), passes the decision's
urgency (``urgency.py``: schedule, fall patience) and acts on the answer. A resting order at
the answer's price is kept (it keeps its queue place) and topped up; at a stale price it is
replaced. Aggressive leftovers are cancelled after ``poll_interval_s``.
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
from bot.execution.fall import FALL_EVENT, FallWatch
from bot.execution.guards import min_sellable
from bot.execution.planning import (
    AdaptiveAction,
    AdaptiveInputs,
    adaptive_step,
    bid_amount_above,
)
from bot.execution.port import DONE, ExecutionContext, Progress, StepResult
from bot.execution.urgency import profile

STEPS = 30
MID_WINDOW = 30


class AdaptiveExecutor:
    def __init__(self, ctx: ExecutionContext, execution: Execution) -> None:
        self._ctx = ctx
        horizon = float(execution.decision.horizon_s)
        self.step_s = max(ctx.guards.poll_interval_s, horizon / STEPS)
        self.watch = FallWatch(MID_WINDOW)
        self.profile = profile(execution.decision.urgency)
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
        elapsed = now - ctx.started(execution)
        if not self.modes and elapsed > self.step_s:  # resumed after a restart
            await self._restore(execution)
        book = await order_book(ctx)
        own = [(o.price, o.amount - o.filled) for o in progress.open if o.price is not None]
        self.watch.observe(book, own, now)
        stats = self.watch.ref_stats(self.step_s)
        urgency = self.profile
        action = adaptive_step(
            book,
            AdaptiveInputs(
                allocated=execution.allocated,
                sold=progress.sold,
                elapsed_s=elapsed,
                horizon_s=float(execution.decision.horizon_s),
                step_s=self.step_s,
                volatility_bps=self.watch.mid_volatility_bps(self.step_s),
                fall_volatility_bps=stats.volatility_bps,
                bound=ctx.bound,
                drop_bps=self.watch.drop_bps(),
                drift_t=stats.drift_t,
                drift_bps=stats.drift_bps,
                fell=self.watch.fell,
                jump_share=stats.jump_share,
                fell_steps=self.watch.fell_steps,
                fall_restored=self.watch.restored,
                front_load=urgency.front_load,
                fall_sigmas=urgency.fall_sigmas,
                fall_steps=urgency.fall_steps,
            ),
            ctx.market,
        )
        self.modes.append(action.mode)
        if action.mode == "falling" and not self.watch.fell:
            await self._record_fall(execution, now)
        self.watch.mark(action.mode == "falling")
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

    async def _restore(self, execution: Execution) -> None:
        """Resume a fall called before a restart (persisted as a ``FALL_EVENT``)."""
        events = await self._ctx.store.events_for(execution.id, FALL_EVENT)
        if events:
            self.watch.restore(Decimal(events[0]["first"]))

    async def _record_fall(self, execution: Execution, now: float) -> None:
        first = self.watch.first
        data = {"at": repr(now), "first": str(first) if first is not None else ""}
        await self._ctx.store.append_event(FALL_EVENT, execution.id, data)

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
