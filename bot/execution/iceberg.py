"""``iceberg``: a resting limit that shows only part of the amount.

One clip rests at a time: ``display_frac`` of what is left (``planning.iceberg_next_clip``),
priced like ``limit`` but always resting (at least one tick above the best bid). When a clip
fills, the next one is placed; when the book moves away from the clip's price by at least
``REPRICE_BPS`` (and a tick), the clip is cancelled and placed again at the new price. At the
horizon the final sweep policy applies, as for ``limit``.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain.executions import Execution
from bot.domain.money import BPS, ZERO
from bot.execution.actions import (
    cancel_open,
    order_book,
    reference_price,
    refresh_progress,
    remaining_is_dust,
    sell,
    sweep_at_horizon,
)
from bot.execution.guards import min_sellable
from bot.execution.planning import iceberg_next_clip, resting_price
from bot.execution.port import DONE, ExecutionContext, StepResult
from bot.execution.store import OrderRecord

REPRICE_BPS = Decimal(5)


class IcebergExecutor:
    def __init__(self, ctx: ExecutionContext, execution: Execution) -> None:
        self._ctx = ctx

    def _moved(self, order: OrderRecord, target: Decimal) -> bool:
        if order.price is None:
            return True
        threshold = max(self._ctx.market.tick, target * REPRICE_BPS / BPS)
        return abs(order.price - target) >= threshold

    async def step(self, execution: Execution) -> StepResult:
        ctx = self._ctx
        now = ctx.clock.time()
        end = ctx.horizon_end(execution)
        poll_s = ctx.guards.poll_interval_s
        wake = StepResult(min(now + poll_s, end))
        progress = await refresh_progress(ctx, execution)
        if now >= end:
            return await sweep_at_horizon(ctx, execution, progress)
        book = await order_book(ctx, 1)
        decision = execution.decision
        target = resting_price(book, decision.limit_offset_bps, ctx.bound, ctx.market)
        if progress.open:
            if not any(self._moved(o, target) for o in progress.open):
                return StepResult(wake.wake_at, progress=progress)
            progress = await cancel_open(ctx, execution)
            if progress.open:
                return StepResult(wake.wake_at, progress=progress)
        if remaining_is_dust(ctx, execution, progress, reference_price(book, ctx)):
            return DONE
        room = progress.room(execution)
        clip = iceberg_next_clip(
            room, decision.display_frac, ctx.market, min_sellable(ctx.market, target, ctx.guards)
        )
        if clip > ZERO:
            await sell(ctx, execution, progress, clip, target)
        return wake
