"""Steps every executor shares: read progress from the store, sell within guards, cancel, sweep.

The amount of any new order is at most ``allocated - committed`` (see ``store.py``), computed
from stored rows right before sending, so no sequence of partial fills, cancels, unknown
outcomes or restarts can sell more than the allocation.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain.executions import Execution
from bot.domain.market import OrderBook
from bot.domain.money import ZERO, quantize_down
from bot.domain.orders import TERMINAL_ORDER_STATES, OrderType
from bot.exchange.port import Exchange
from bot.execution.guards import (
    book_shape_problem,
    guard_price,
    is_dust,
    order_amount,
    reference_check,
    split_amount,
)
from bot.execution.planning import marketable_price
from bot.execution.port import DONE, ExecutionContext, Progress, StepResult
from bot.execution.store import OrderRecord


async def read_progress(ctx: ExecutionContext, execution: Execution) -> Progress:
    """Return sold and committed amounts from the store, without touching the exchange."""
    orders = await ctx.store.orders_for(execution.id)
    return Progress.of(orders, await ctx.store.filled_by_order(execution.id))


async def refresh_progress(ctx: ExecutionContext, execution: Execution) -> Progress:
    """Poll every live order (and missing fills of finished ones), then read progress."""
    orders = await ctx.store.orders_for(execution.id)
    filled = await ctx.store.filled_by_order(execution.id)
    polled = changed = False
    for order in orders:
        if order.state not in TERMINAL_ORDER_STATES or order.filled > filled.get(
            order.client_id, ZERO
        ):
            changed |= await ctx.tracker.refresh(order) is not order
            polled = True
    if not polled:  # nothing asked the exchange, so nothing stored changed
        return Progress.of(orders, filled)
    if not changed:  # every row is the one read (a store handing out fresh rows never is)
        return Progress.of(orders, await ctx.store.filled_by_order(execution.id))
    return await read_progress(ctx, execution)


class BookRefused(Exception):
    """The book is one-sided, crossed or pushed: no order may be priced off it now."""

    def __init__(self, reason: str, book: OrderBook, last: Decimal | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.book = book
        self.last = last

    def fields(self) -> dict[str, str]:
        """Return the reason and the prices it was judged on (for a log line or an event)."""
        book = self.book
        return {
            "reason": self.reason,
            "best_bid": str(book.best_bid),
            "best_ask": str(book.best_ask),
            "last": str(self.last),
        }


async def checked_book(
    exchange: Exchange,
    market_id: str,
    depth: int,
    max_dev_bps: Decimal,
    scoring_price: Decimal | None = None,
) -> OrderBook:
    """Return the book, or raise ``BookRefused`` if ``reference_check`` refuses it (the
    ticker is read only for a two-sided book)."""
    book = await exchange.order_book(market_id, depth)
    last: Decimal | None = None
    reason = book_shape_problem(book)
    if reason is None:
        last = (await exchange.ticker(market_id)).last
        reason = reference_check(book, last, scoring_price, max_dev_bps)
    if reason is not None:
        raise BookRefused(reason, book, last)
    return book


async def order_book(ctx: ExecutionContext, depth: int = 50) -> OrderBook:
    """Return the book to price orders from; ``depth=1`` where only the touch is read
    (resting prices, dust). Raise ``BookRefused`` where no order may be priced off it."""
    return await checked_book(ctx.exchange, ctx.market.id, depth, ctx.guards.max_mid_deviation_bps)


async def sell(
    ctx: ExecutionContext,
    execution: Execution,
    progress: Progress,
    want: Decimal,
    price: Decimal,
) -> list[OrderRecord]:
    """Place sell limits for up to ``want`` at ``price`` (raised to the bound), within room.

    The amount is split by the market's max order size; a part below the minimums is left
    unsent (it is dust, or waits for a later step).
    """
    price = guard_price(price, ctx.bound, ctx.market)
    room = progress.room(execution)
    total = quantize_down(min(want, room), ctx.market.amount_precision)
    cap = ctx.guards.max_order_amounts.get(ctx.market.id)
    placed: list[OrderRecord] = []
    for part in split_amount(total, cap, ctx.market):
        amount = order_amount(min(part, room), ctx.market, price, ctx.guards)
        if amount <= 0:
            break
        record = await ctx.tracker.submit(
            execution.id, ctx.market.id, type=OrderType.LIMIT, amount=amount, price=price
        )
        room -= amount
        placed.append(record)
    return placed


async def settle_open(ctx: ExecutionContext, execution: Execution) -> Progress | StepResult:
    """Refresh progress; let the newest open order rest ``poll_interval_s``, then cancel.

    Returns the progress to go on with, or the ``StepResult`` to return now: the order is
    still resting, or a cancelled order's outcome is still being resolved.
    """
    now = ctx.clock.time()
    rest_s = ctx.guards.poll_interval_s
    progress = await refresh_progress(ctx, execution)
    newest = progress.newest_open_at()
    if newest is None:
        return progress
    if now < newest + rest_s:
        return StepResult(newest + rest_s)
    progress = await cancel_open(ctx, execution)
    if progress.open:  # an unknown outcome is still being resolved
        return StepResult(now + rest_s)
    return progress


async def cancel_open(ctx: ExecutionContext, execution: Execution) -> Progress:
    """Cancel every live order of the execution and return the progress after it."""
    for order in await ctx.store.orders_for(execution.id):
        if not order.state.terminal:
            await ctx.tracker.cancel(order)
    return await read_progress(ctx, execution)


def remaining_is_dust(
    ctx: ExecutionContext, execution: Execution, progress: Progress, price: Decimal
) -> bool:
    """Return whether what is left to place is below the minimums at ``price``."""
    return is_dust(progress.room(execution), ctx.market, max(price, ctx.bound), ctx.guards)


def reference_price(book: OrderBook, ctx: ExecutionContext) -> Decimal:
    """Return the price minimums are judged at: the best bid, or the bound without bids."""
    return max(book.best_bid or ctx.bound, ctx.bound)


async def sweep_at_horizon(
    ctx: ExecutionContext, execution: Execution, progress: Progress
) -> StepResult:
    """At the horizon: cancel resting orders, then leave the rest or cross the spread once."""
    now = ctx.clock.time()
    end = ctx.horizon_end(execution)
    rest_s = ctx.guards.poll_interval_s
    swept = [o for o in progress.orders if o.created_at.timestamp() >= end]
    newest = progress.newest_open_at()
    if swept and newest is not None and now < newest + rest_s:
        return StepResult(newest + rest_s, "sweep_resting")
    if progress.open:
        progress = await cancel_open(ctx, execution)
    if ctx.guards.final_sweep != "cross" or swept:
        return DONE
    book = await order_book(ctx)
    left = progress.room(execution)
    if remaining_is_dust(ctx, execution, progress, reference_price(book, ctx)):
        return DONE
    placed = await sell(
        ctx, execution, progress, left, marketable_price(book, left, ctx.bound, ctx.market)
    )
    if any(not o.state.terminal for o in placed):
        return StepResult(ctx.clock.time() + rest_s, "sweep_placed")
    return DONE
