"""The explicit order book: price-time priority survives cancels anywhere in a queue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.orders import OrderType, Side
from bot.sim.book import BookSide
from bot.sim.records import SimOrder


def _ask(order_id: int, price: str, amount: str) -> SimOrder:
    return SimOrder(
        order_id, "acct", "abcusdt", Side.SELL, OrderType.LIMIT, Decimal(price), Decimal(amount),
        None, 0.0,
    )  # fmt: skip


def test_cancel_in_the_middle_keeps_time_priority_and_volume() -> None:
    side = BookSide(is_bid=False)
    first, middle, last = _ask(1, "10", "1"), _ask(2, "10", "2"), _ask(3, "10", "3")
    for order in (first, middle, last):
        side.add(order)

    side.remove(middle)

    assert side.levels(5) == [(Decimal(10), Decimal(4))]
    assert [o.id for o in side.orders()] == [1, 3]
    first.remaining = Decimal(0)
    side.fill_front(Decimal(1))
    assert side.best() == (Decimal(10), last)  # the cancelled order is skipped, not traded
    assert side.levels(5) == [(Decimal(10), Decimal(3))]


def test_cancelling_every_order_of_a_level_removes_the_level() -> None:
    side = BookSide(is_bid=False)
    orders = [_ask(1, "10", "1"), _ask(2, "10", "1"), _ask(3, "11", "1")]
    for order in orders:
        side.add(order)

    side.remove(orders[1])
    side.remove(orders[0])

    assert side.best() == (Decimal(11), orders[2])
    assert side.levels(5) == [(Decimal(11), Decimal(1))]
    assert len(side) == 1
    with pytest.raises(ValueError, match="not in the book"):
        side.remove(orders[0])


def test_a_level_gives_its_price_back_as_its_sort_key_holds_it() -> None:
    long = Decimal("10." + "0" * 30)  # more digits than the decimal context keeps
    asks, bids = BookSide(is_bid=False), BookSide(is_bid=True)
    asks.add(_ask(1, str(long), "1"))
    bids.add(_ask(2, "9.50", "1"))
    asks.add(_ask(3, "10.0", "2"))  # the same price, another exponent: the same level
    key = -long  # an ask's sort key: the negation rounds to the context's 28 digits

    assert str(asks.best_price()) == str(-key) == "10." + "0" * 26
    assert [tuple(map(str, lv)) for lv in asks.levels(5)] == [(str(-key), "3")]
    assert str(bids.best_price()) == "9.50"
