"""find_market: one market among those an exchange lists, from the caller's cache if known."""

from __future__ import annotations

import random
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.market import Market
from bot.exchange.forwarding import ForwardingExchange
from bot.exchange.markets import find_market
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange


class MarketsCounted(ForwardingExchange):
    """The simulator's exchange, counting ``markets()`` requests."""

    def __init__(self, *markets: Market) -> None:
        clock = VirtualClock()
        self.engine = MatchingEngine(clock, random.Random(1))
        for market in markets:
            self.engine.add_market(market)
        super().__init__(SimExchange(self.engine, "key", clock=clock))
        self.requests = 0

    async def markets(self) -> list[Market]:
        self.requests += 1
        return await super().markets()


def _market(market_id: str) -> Market:
    return Market(market_id, market_id[:-4], "usdt", 4, 4, Decimal("0.01"))


async def test_a_listed_market_is_found_and_an_unlisted_one_is_none() -> None:
    exchange = MarketsCounted(_market("abcusdt"), _market("xyzusdt"))

    found = await find_market(exchange, "xyzusdt")
    missing = await find_market(exchange, "nopeusdt")

    assert found is not None
    assert found.id == "xyzusdt"
    assert missing is None
    assert exchange.requests == 2  # without a cache, every lookup asks


async def test_with_a_cache_known_markets_are_not_asked_for_again() -> None:
    exchange = MarketsCounted(_market("abcusdt"), _market("xyzusdt"))
    known: dict[str, Market] = {}

    first = await find_market(exchange, "abcusdt", known)
    other = await find_market(exchange, "xyzusdt", known)  # listed with the first answer
    missing = await find_market(exchange, "nopeusdt", known)

    assert (first, other) == (known["abcusdt"], known["xyzusdt"])
    assert missing is None
    assert sorted(known) == ["abcusdt", "xyzusdt"]
    assert exchange.requests == 2  # the first lookup, then the unknown one
