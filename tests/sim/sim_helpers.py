"""Helpers for tests over the simulator: a market factory and a two-account desk."""

from __future__ import annotations

from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.market import Market
from bot.domain.orders import OrderType, Side
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine
from bot.sim.records import SimOrder

ALICE = "alice"
BOB = "bob"


def make_market(market_id: str = "abcusdt", **changes: object) -> Market:
    fields: dict[str, object] = {
        "id": market_id,
        "base": market_id[:-4],
        "quote": "usdt",
        "amount_precision": 2,
        "price_precision": 2,
        "min_amount": Decimal("0.1"),
        "min_value": Decimal(1),
    }
    fields.update(changes)
    return Market(**fields)  # type: ignore[arg-type]


class Desk:
    """An engine with market ``abcusdt`` (no background) and accounts alice and bob."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.engine = MatchingEngine(clock, make_rng(1, "sim.desk"), fee_rate=Decimal("0.002"))
        self.engine.add_market(make_market())
        for key in (ALICE, BOB):
            self.engine.deposit(key, "abc", Decimal(1000))
            self.engine.deposit(key, "usdt", Decimal(100_000))

    def limit(
        self, key: str, side: Side, amount: str, price: str, client_id: str | None = None
    ) -> SimOrder:
        return self.engine.place_order(
            key, "abcusdt", side, OrderType.LIMIT, Decimal(amount), Decimal(price), client_id
        )

    def market(self, key: str, side: Side, amount: str) -> SimOrder:
        return self.engine.place_order(key, "abcusdt", side, OrderType.MARKET, Decimal(amount))
