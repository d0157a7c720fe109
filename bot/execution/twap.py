"""``twap``: the allocation in N slices over the horizon.

The schedule (``planning.twap_schedule``) is rebuilt from the execution's id, start and
decision, so it is the same after a restart. At each slice the executor tops sold up to the
slice's cumulative target with one marketable limit bounded by the guards; whatever is not
filled within ``poll_interval_s`` is cancelled and rolls into the next slice. After the last
slice the remainder is retried every ``poll_interval_s`` until the horizon ends.
"""

from __future__ import annotations

from bot.domain.executions import Execution
from bot.execution.actions import order_book, sell, settle_open
from bot.execution.guards import min_sellable
from bot.execution.planning import bid_amount_above, marketable_price, twap_schedule
from bot.execution.port import DONE, ExecutionContext, StepResult
from bot.rand import make_rng

JITTER_FRAC = 0.1  # of the slice interval


class TwapExecutor:
    def __init__(self, ctx: ExecutionContext, execution: Execution) -> None:
        self._ctx = ctx
        decision = execution.decision
        slices = max(1, decision.slices)
        rng = make_rng(f"{ctx.seed}/{execution.id}", "twap")
        self.plan = twap_schedule(
            execution.allocated,
            slices,
            decision.horizon_s,
            ctx.started(execution),
            rng,
            JITTER_FRAC * decision.horizon_s / slices,
            ctx.market,
            min_sellable(ctx.market, ctx.bound, ctx.guards),
        )

    async def step(self, execution: Execution) -> StepResult:
        ctx = self._ctx
        now = ctx.clock.time()
        rest_s = ctx.guards.poll_interval_s
        end = ctx.horizon_end(execution)
        progress = await settle_open(ctx, execution)
        if isinstance(progress, StepResult):
            return progress
        if not self.plan or now >= end:
            return DONE
        due = [s for s in self.plan if s.due_at <= now]
        upcoming = [s.due_at for s in self.plan if s.due_at > now]
        next_due = upcoming[0] if upcoming else end
        if not due:
            return StepResult(next_due)
        want = due[-1].target - progress.committed
        if want <= 0:
            return StepResult(next_due) if upcoming else DONE
        slice_start = due[-1].due_at
        if upcoming and any(o.created_at.timestamp() >= slice_start for o in progress.orders):
            return StepResult(next_due)  # this slice was sent: its remainder rolls forward
        book = await order_book(ctx)
        if bid_amount_above(book, ctx.bound) <= 0:
            return StepResult(min(next_due, now + rest_s), "no_bids_above_bound")
        price = marketable_price(book, want, ctx.bound, ctx.market)
        placed = await sell(ctx, execution, progress, want, price)
        if any(not o.state.terminal for o in placed):
            return StepResult(now + rest_s)
        if not placed:  # below the minimum: it rolls into the next slice
            return StepResult(next_due) if upcoming else DONE
        return StepResult(now)
