"""``market``: sell everything now, within the guards.

SafeTrade's market orders carry no price limit, so a "market sell" here is a marketable limit
priced at the deepest bid level needed (never below the bound): it fills at once like a
market order but can never fill below the floor or the slippage guard. The amount is split
only where the market's max order size requires it, and limited to the bids resting above
the bound; what is left waits for the book to refill, until the horizon ends. An unfilled
remainder never rests longer than ``poll_interval_s``.
"""

from __future__ import annotations

from bot.domain.executions import Execution
from bot.execution.actions import (
    order_book,
    reference_price,
    remaining_is_dust,
    sell,
    settle_open,
)
from bot.execution.planning import bid_amount_above, marketable_price
from bot.execution.port import DONE, ExecutionContext, StepResult


class MarketExecutor:
    def __init__(self, ctx: ExecutionContext, execution: Execution) -> None:
        self._ctx = ctx

    async def step(self, execution: Execution) -> StepResult:
        ctx = self._ctx
        now = ctx.clock.time()
        rest_s = ctx.guards.poll_interval_s
        progress = await settle_open(ctx, execution)
        if isinstance(progress, StepResult):
            return progress
        if now >= ctx.horizon_end(execution):
            return DONE
        book = await order_book(ctx)
        if remaining_is_dust(ctx, execution, progress, reference_price(book, ctx)):
            return DONE
        depth = bid_amount_above(book, ctx.bound)
        want = min(progress.room(execution), depth)
        placed = await sell(
            ctx, execution, progress, want, marketable_price(book, want, ctx.bound, ctx.market)
        )
        if not placed or any(not o.state.terminal for o in placed):
            return StepResult(now + rest_s)
        return StepResult(now)
