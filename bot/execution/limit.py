"""``limit``: one resting sell limit at the decision's price, re-priced on a timeout.

The price is ``limit_offset_bps`` above the best bid (never below the bound). Every
``reprice_interval_s`` the unfilled rest is cancelled and placed again at a fresh price; the
order is polled every ``poll_interval_s`` in between. At the horizon the final sweep policy
applies (``leave``: cancel and stop; ``cross``: one marketable limit down to the bound).
"""

from __future__ import annotations

from bot.domain.executions import Execution
from bot.execution.actions import (
    cancel_open,
    order_book,
    reference_price,
    refresh_progress,
    remaining_is_dust,
    sell,
    sweep_at_horizon,
)
from bot.execution.planning import limit_price
from bot.execution.port import DONE, ExecutionContext, StepResult


class LimitExecutor:
    def __init__(self, ctx: ExecutionContext, execution: Execution) -> None:
        self._ctx = ctx

    async def step(self, execution: Execution) -> StepResult:
        ctx = self._ctx
        now = ctx.clock.time()
        end = ctx.horizon_end(execution)
        poll_s, reprice_s = ctx.guards.poll_interval_s, ctx.guards.reprice_interval_s
        progress = await refresh_progress(ctx, execution)
        if now >= end:
            return await sweep_at_horizon(ctx, execution, progress)
        newest = progress.newest_open_at()
        if newest is not None:
            if now < newest + reprice_s:
                return StepResult(min(now + poll_s, newest + reprice_s, end), progress=progress)
            progress = await cancel_open(ctx, execution)
            if progress.open:
                return StepResult(min(now + poll_s, end))
        book = await order_book(ctx, 1)
        price = limit_price(book, execution.decision.limit_offset_bps, ctx.bound, ctx.market)
        # judged at the price it would rest at: a balance worth less than the minimum at
        # the bid may still qualify a few ticks higher
        if remaining_is_dust(ctx, execution, progress, max(price, reference_price(book, ctx))):
            return DONE
        await sell(ctx, execution, progress, progress.room(execution), price)
        return StepResult(min(now + poll_s, end))
