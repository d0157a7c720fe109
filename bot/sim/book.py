"""Price-time-priority order book of explicit (account) orders for one market.

Each side keeps its levels (a FIFO queue, its total remaining and its count of live orders)
by price, and in a list sorted like a parallel list of keys (bids by price, asks by negated
price) so the best level is always the last: adding a level is a bisect insert, taking the
best level is O(1). A cancel is O(1) too: the cancelled order (no longer in state ``wait``)
stays queued until it reaches the front, where it is skipped and dropped. The background
liquidity of the market model is not here; the engine merges the two when a taker walks
the book.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from decimal import Decimal

from bot.domain.money import ZERO
from bot.domain.orders import Side
from bot.sim.records import CANCEL, WAIT, SimOrder


class Level:
    """The orders resting at one price, oldest first, with their total and live count."""

    __slots__ = ("live", "orders", "price", "volume")

    def __init__(self, price: Decimal) -> None:
        self.price = price
        self.orders: deque[SimOrder] = deque()
        self.volume = ZERO
        self.live = 0


class BookSide:
    """One side of the book: levels of resting orders, best level last in ``_sorted``."""

    __slots__ = ("_keys", "_levels", "_sorted", "is_bid")

    def __init__(self, *, is_bid: bool) -> None:
        self.is_bid = is_bid
        self._keys: list[Decimal] = []
        self._sorted: list[Level] = []  # in the order of ``_keys``
        self._levels: dict[Decimal, Level] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def best_price(self) -> Decimal | None:
        return self._sorted[-1].price if self._sorted else None

    def add(self, order: SimOrder) -> None:
        price = order.price
        if price is None:
            raise ValueError("a market order never rests")
        level = self._levels.get(price)
        if level is None:
            level = self._levels[price] = self._new_level(price)
        level.orders.append(order)
        level.volume += order.remaining
        level.live += 1

    def _new_level(self, price: Decimal) -> Level:
        key = price if self.is_bid else -price
        level = Level(price if self.is_bid else -key)  # the price as the keys give it back
        index = bisect_left(self._keys, key)
        self._keys.insert(index, key)
        self._sorted.insert(index, level)
        return level

    def remove(self, order: SimOrder) -> None:
        """Take a resting order out of the book: it is cancelled (skipped when it reaches the
        front of its queue); the engine then releases its funds."""
        price = order.price
        if price is None:
            raise ValueError("a market order never rests")
        level = self._levels.get(price)
        if order.state != WAIT or level is None:
            raise ValueError(f"order {order.id} is not in the book")
        order.state = CANCEL
        level.volume -= order.remaining
        level.live -= 1
        if not level.live:
            self._drop_level(price)

    def _drop_level(self, price: Decimal) -> None:
        del self._levels[price]
        key = price if self.is_bid else -price
        keys = self._keys
        if keys[-1] == key:
            keys.pop()
            self._sorted.pop()
        else:
            index = bisect_left(keys, key)
            del keys[index]
            del self._sorted[index]

    def best_level(self) -> Level | None:
        """Return the best level, with a live order first in its queue."""
        if not self._sorted:
            return None
        level = self._sorted[-1]
        orders = level.orders
        while orders[0].state != WAIT:  # cancelled, still queued: drop it now
            orders.popleft()
        return level

    def front(self) -> SimOrder | None:
        """Return the first order at the best level."""
        level = self.best_level()
        return level.orders[0] if level is not None else None

    def best(self) -> tuple[Decimal, SimOrder] | None:
        """Return the best price and the first order there."""
        level = self.best_level()
        return (level.price, level.orders[0]) if level is not None else None

    def fill_front(self, amount: Decimal) -> None:
        """Record that the first order at the best level traded ``amount`` (already applied)."""
        level = self._sorted[-1]
        level.volume -= amount
        orders = level.orders
        if not orders[0].remaining:  # filled (a trade takes at most what remains)
            orders.popleft()
            level.live -= 1
            if not level.live:
                del self._levels[level.price]
                self._keys.pop()
                self._sorted.pop()

    def levels(self, depth: int) -> list[tuple[Decimal, Decimal]]:
        """Return up to ``depth`` (price, total remaining) levels, best first."""
        chosen = self._sorted[-depth:] if depth > 0 else []
        return [(level.price, level.volume) for level in reversed(chosen)]

    def volume_at(self, price: Decimal) -> Decimal:
        level = self._levels.get(price)
        return level.volume if level is not None else ZERO

    def orders(self) -> list[SimOrder]:
        return [o for level in self._levels.values() for o in level.orders if o.state == WAIT]


class Book:
    """Both sides of one market's explicit book."""

    __slots__ = ("asks", "bids", "market")

    def __init__(self, market: str) -> None:
        self.market = market
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)

    def side(self, side: Side) -> BookSide:
        """Return the side where orders of ``side`` rest."""
        return self.bids if side is Side.BUY else self.asks

    def opposite(self, side: Side) -> BookSide:
        """Return the side an order of ``side`` takes from."""
        return self.asks if side is Side.BUY else self.bids

    def crosses(self, side: Side, price: Decimal | None, best: Decimal) -> bool:
        """Return whether a ``side`` order limited at ``price`` may trade at ``best``."""
        if price is None:
            return True
        return best <= price if side is Side.BUY else best >= price
