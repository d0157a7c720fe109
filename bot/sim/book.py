"""Price-time-priority order book of explicit (account) orders for one market.

Each side keeps a dict price → FIFO queue and a sorted list of keys (bids by price, asks by
negated price) so the best level is always the last key: adding a level is a bisect insert,
taking the best level is O(1). A cancel is O(1) too: the cancelled order (no longer in state
``wait``) stays queued until it reaches the front, where it is skipped and dropped; each
level counts its live orders. The background
liquidity of the market model is not here; the engine merges the two when a taker walks
the book.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from decimal import Decimal

from bot.domain.money import ZERO
from bot.domain.orders import Side
from bot.sim.records import CANCEL, WAIT, SimOrder


class BookSide:
    """One side of the book: levels of resting orders, best level last in ``_keys``."""

    __slots__ = ("_keys", "_levels", "_live", "_volume", "is_bid")

    def __init__(self, *, is_bid: bool) -> None:
        self.is_bid = is_bid
        self._keys: list[Decimal] = []
        self._levels: dict[Decimal, deque[SimOrder]] = {}
        self._volume: dict[Decimal, Decimal] = {}
        self._live: dict[Decimal, int] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def best_price(self) -> Decimal | None:
        if not self._keys:
            return None
        key = self._keys[-1]
        return key if self.is_bid else -key

    def add(self, order: SimOrder) -> None:
        price = order.price
        if price is None:
            raise ValueError("a market order never rests")
        level = self._levels.get(price)
        if level is None:
            level = self._levels[price] = deque()
            self._volume[price] = ZERO
            self._live[price] = 0
            insort(self._keys, price if self.is_bid else -price)
        level.append(order)
        self._volume[price] += order.remaining
        self._live[price] += 1

    def remove(self, order: SimOrder) -> None:
        """Take a resting order out of the book: it is cancelled (skipped when it reaches the
        front of its queue); the engine then releases its funds."""
        price = order.price
        if price is None:
            raise ValueError("a market order never rests")
        if order.state != WAIT or price not in self._levels:
            raise ValueError(f"order {order.id} is not in the book")
        order.state = CANCEL
        self._volume[price] -= order.remaining
        self._live[price] -= 1
        if not self._live[price]:
            self._drop_level(price)

    def _drop_level(self, price: Decimal) -> None:
        del self._levels[price]
        del self._volume[price]
        del self._live[price]
        key = price if self.is_bid else -price
        keys = self._keys
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    def front(self) -> SimOrder | None:
        """Return the first order at the best level."""
        if not self._keys:
            return None
        key = self._keys[-1]
        level = self._levels[key if self.is_bid else -key]
        while level[0].state != WAIT:  # cancelled, still queued: drop it now
            level.popleft()
        return level[0]

    def best(self) -> tuple[Decimal, SimOrder] | None:
        """Return the best price and the first order there."""
        if not self._keys:
            return None
        key = self._keys[-1]
        price = key if self.is_bid else -key
        level = self._levels[price]
        while level[0].state != WAIT:  # cancelled, still queued: drop it now
            level.popleft()
        return price, level[0]

    def fill_front(self, amount: Decimal) -> None:
        """Record that the first order at the best level traded ``amount`` (already applied)."""
        key = self._keys[-1]
        price = key if self.is_bid else -key
        self._volume[price] -= amount
        level = self._levels[price]
        if level[0].remaining <= ZERO:
            level.popleft()
            self._live[price] -= 1
            if not self._live[price]:
                self._drop_level(price)

    def levels(self, depth: int) -> list[tuple[Decimal, Decimal]]:
        """Return up to ``depth`` (price, total remaining) levels, best first."""
        out: list[tuple[Decimal, Decimal]] = []
        for key in reversed(self._keys[-depth:] if depth > 0 else []):
            price = key if self.is_bid else -key
            out.append((price, self._volume[price]))
        return out

    def volume_at(self, price: Decimal) -> Decimal:
        return self._volume.get(price, ZERO)

    def orders(self) -> list[SimOrder]:
        return [o for level in self._levels.values() for o in level if o.state == WAIT]


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
