"""Pure guards every executor obeys: price floor, max slippage, minimums, dust.

The lowest price any sell may carry is the *bound*::

    bound = ceil_to_tick(max(floor[market], market.min_price, arrival_mid * (1 - slippage)))

where ``slippage`` is the smaller of the settings' and the decision's max slippage. An order
priced at or above the bound can never fill below it, so no fill crosses either guard.

The bound is only as good as the arrival mid it starts from, so ``reference_check`` refuses
a book whose mid may be pushed: one-sided, crossed, or more than ``max_mid_deviation_bps``
*below* a reference (the ticker's last trade, and at arrival the scoring-time price). Only a
mid below its reference is refused: a higher mid raises the bound, which never sells lower.
A real fall moves the last trade with the book, so it passes the last-trade check; a book
pushed down without trades does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from bot.domain.market import Market, OrderBook
from bot.domain.money import BPS, MONEY_CONTEXT, ZERO, quantize_down, quantize_price_up

SweepPolicy = Literal["leave", "cross"]


@dataclass(frozen=True, slots=True)
class ExecutionGuards:
    """Execution limits from settings.

    ``reprice_interval_s`` is how long a passive limit rests before it is re-priced;
    ``final_sweep`` says what happens to an unsold remainder when the horizon ends
    (``leave`` it unsold, or ``cross`` the spread down to the bound).
    """

    max_slippage_bps: Decimal = Decimal(150)
    price_floors: Mapping[str, Decimal] = field(default_factory=dict)
    max_order_amounts: Mapping[str, Decimal] = field(default_factory=dict)
    min_order_value: Decimal = ZERO
    reprice_interval_s: float = 30.0
    final_sweep: SweepPolicy = "leave"
    poll_interval_s: float = 2.0
    unknown_grace_s: float = 60.0
    max_rejects: int = 3
    max_mid_deviation_bps: Decimal = Decimal(500)


def price_bound(
    market: Market,
    arrival_mid: Decimal,
    guards: ExecutionGuards,
    decision_slippage_bps: Decimal | None = None,
) -> Decimal:
    """Return the lowest price a sell on ``market`` may carry (on the tick grid)."""
    slippage = guards.max_slippage_bps
    if decision_slippage_bps is not None:
        slippage = min(slippage, decision_slippage_bps)
    slippage = max(ZERO, slippage)
    by_slippage = arrival_mid * (1 - slippage / BPS)
    floor = guards.price_floors.get(market.id, ZERO)
    bound = max(by_slippage, floor, market.min_price, market.tick)
    return quantize_price_up(bound, market.price_precision)


def guard_price(price: Decimal, bound: Decimal, market: Market) -> Decimal:
    """Return ``price`` on the tick grid, raised to the bound if below it."""
    return max(quantize_price_up(price, market.price_precision), bound)


def min_sellable(market: Market, price: Decimal, guards: ExecutionGuards) -> Decimal:
    """Return the smallest amount an order at ``price`` may have (min amount and min value)."""
    by_value = ZERO
    if guards.min_order_value > 0 and price > 0:
        by_value = (guards.min_order_value / price).quantize(
            market.lot, rounding=ROUND_CEILING, context=MONEY_CONTEXT
        )
    return max(market.min_amount, by_value, market.lot)


def order_amount(want: Decimal, market: Market, price: Decimal, guards: ExecutionGuards) -> Decimal:
    """Return ``want`` quantised down and capped by the max order size, or 0 if below minimums."""
    amount = quantize_down(max(ZERO, want), market.amount_precision)
    cap = guards.max_order_amounts.get(market.id)
    if cap is not None and cap > 0:
        amount = min(amount, quantize_down(cap, market.amount_precision))
    if amount < min_sellable(market, price, guards):
        return ZERO
    return amount


def is_dust(remaining: Decimal, market: Market, price: Decimal, guards: ExecutionGuards) -> bool:
    """Return whether ``remaining`` is too small to sell at ``price`` (or is nothing at all)."""
    amount = quantize_down(max(ZERO, remaining), market.amount_precision)
    return amount < min_sellable(market, price, guards)


def split_amount(amount: Decimal, max_amount: Decimal | None, market: Market) -> list[Decimal]:
    """Split ``amount`` into orders no larger than ``max_amount`` (on the lot grid)."""
    amount = quantize_down(amount, market.amount_precision)
    if amount <= 0:
        return []
    if max_amount is None or max_amount <= 0:
        return [amount]
    cap = quantize_down(max_amount, market.amount_precision)
    if cap <= 0:
        return [amount]
    parts: list[Decimal] = []
    left = amount
    while left > 0:
        part = min(cap, left)
        parts.append(part)
        left -= part
    return parts


def within_guard(price: Decimal, bound: Decimal) -> bool:
    """Return whether a fill at ``price`` respects the bound."""
    return price >= bound


def book_shape_problem(book: OrderBook) -> str | None:
    """Return why no mid can be taken from ``book`` (empty, one-sided, crossed), or None."""
    bid, ask = book.best_bid, book.best_ask
    if bid is None and ask is None:
        return "empty_book"
    if bid is None or ask is None:
        return "one_sided_book"
    if bid >= ask:
        return "crossed_book"
    return None


def reference_check(
    book: OrderBook,
    ticker_last: Decimal | None,
    scoring_price: Decimal | None,
    max_dev_bps: Decimal,
) -> str | None:
    """Return why no sell may be priced off ``book``, or None when its mid is sane.

    A reference that is missing or not positive is not checked against.
    """
    problem = book_shape_problem(book)
    mid = book.mid
    if problem is not None or mid is None:
        return problem or "empty_book"
    for name, ref in (("last_trade", ticker_last), ("scoring_price", scoring_price)):
        if ref is not None and ref > 0 and (ref - mid) / ref * BPS > max_dev_bps:
            return f"mid_below_{name}"
    return None
