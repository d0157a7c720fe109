"""``adaptive``: passive or aggressive, chosen per step from the live book.

The rule (modes ``final``, ``falling``, ``behind``, ``tight``/``restless``, ``passive``) is
``planning.adaptive_step``, stated in ``planning.py``'s docstring. This executor feeds it:
every ``step_s`` (the horizon in ``STEPS`` parts, at least ``poll_interval_s``) it reads the
book into its ``FallWatch`` (``fall.py``: the mid and the others' best ask over the last
``MID_WINDOW`` readings, and the step a fall was first called; that call is persisted as an
event and restored when a restarted process resumes the sale), passes the decision's
urgency (``urgency.py``: schedule, fall patience) and acts on the answer. A resting order at
the answer's price is kept (it keeps its queue place) and topped up; at a stale price it is
replaced. Aggressive leftovers are cancelled after ``poll_interval_s``; after an aggressive
order that filled at once, what the rule then rests is placed in the same step.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain.executions import Execution
from bot.domain.market import OrderBook
from bot.domain.money import ZERO
from bot.execution.actions import (
    cancel_open,
    order_book,
    read_progress,
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
    passive_price,
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
        action = self._decide(execution, book, progress, elapsed)
        await self._note(execution, action, now)
        if progress.open and self._keep(progress, action):
            await self._top_up(execution, progress, action)
            return StepResult(min(now + self.step_s, end))
        if progress.open:
            progress = await cancel_open(ctx, execution)
            if progress.open:
                return StepResult(min(now + ctx.guards.poll_interval_s, end))
        if action.aggressive and bid_amount_above(book, ctx.bound) <= 0:
            return StepResult(min(now + ctx.guards.poll_interval_s, end))
        placed = await sell(
            ctx, execution, progress, self._amount(execution, progress, action), action.price
        )
        if action.aggressive and any(not o.state.terminal for o in placed):
            return StepResult(min(now + ctx.guards.poll_interval_s, end))  # cancel it soon
        if action.aggressive:
            await self._rest_after_take(execution, book, elapsed)
        return StepResult(min(now + self.step_s, end))

    async def _rest_after_take(self, execution: Execution, book: OrderBook, elapsed: float) -> None:
        """After a take that filled at once, rest what the rule rests now, not a step later."""
        progress = await read_progress(self._ctx, execution)
        rest = self._decide(execution, book, progress, elapsed)
        if not rest.aggressive and progress.room(execution) > 0:
            want = self._amount(execution, progress, rest)
            await sell(self._ctx, execution, progress, want, rest.price)

    def _decide(
        self, execution: Execution, book: OrderBook, progress: Progress, elapsed: float
    ) -> AdaptiveAction:
        """Return the rule's action on what the watch has seen and what is sold."""
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
                bound=self._ctx.bound,
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
            self._ctx.market,
        )
        return self._sellable(book, progress.room(execution), action)

    async def _restore(self, execution: Execution) -> None:
        """Resume a fall called before a restart (persisted as a ``FALL_EVENT``)."""
        events = await self._ctx.store.events_for(execution.id, FALL_EVENT)
        if events:
            self.watch.restore(Decimal(events[0]["first"]))

    async def _note(self, execution: Execution, action: AdaptiveAction, now: float) -> None:
        """Record the step's mode; persist a fall's first call (restored after a restart)."""
        self.modes.append(action.mode)
        falling = action.mode == "falling"
        if falling and not self.watch.fell:
            first = self.watch.first
            data = {"at": repr(now), "first": str(first) if first is not None else ""}
            await self._ctx.store.append_event(FALL_EVENT, execution.id, data)
        self.watch.mark(falling)

    def _sellable(self, book: OrderBook, room: Decimal, action: AdaptiveAction) -> AdaptiveAction:
        """Rest what is left at the ask when it is too small to sell at the bids at all (a
        balance worth about the minimum order value is worth less than it at the bid)."""
        ctx = self._ctx
        if not action.aggressive or room <= 0:
            return action
        if room >= min_sellable(ctx.market, action.price, ctx.guards):
            return action
        price = passive_price(book, ctx.bound, ctx.market)
        return AdaptiveAction(mode="passive", aggressive=False, price=price, amount=room)

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
