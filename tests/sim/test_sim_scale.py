"""Scale: 200 living markets and 5,000 resting orders keep every request fast."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.orders import OrderType, Side
from bot.sim.engine import MatchingEngine
from bot.sim.market_params import MarketParams
from tests.sim.sim_helpers import make_market


def _ms(fn: Callable[[], object], repeat: int) -> float:
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) / repeat * 1000


async def test_two_hundred_markets_and_five_thousand_orders_stay_fast() -> None:
    clock = VirtualClock()
    rng = random.Random(3)
    engine = MatchingEngine(clock, random.Random(3))
    params = MarketParams(
        mid0=Decimal(100), price_precision=2, amount_precision=2, sigma_per_s=0.0002,
        d0=Decimal(2), alpha=0.5, level_ticks=5, taker_rate_per_s=0.05,
        taker_size_scale=Decimal(1), step_s=5.0,
    )  # fmt: skip
    for i in range(200):
        market = make_market(f"m{i:03d}usdt", min_value=Decimal(0), min_amount=Decimal("0.01"))
        engine.add_market(market, params, seed=3)
        engine.deposit("bot", market.base, Decimal(10**6))
    for n in range(5000):
        price = Decimal(10_200 + rng.randrange(800)).scaleb(-2)
        engine.place_order(
            "bot", f"m{n % 200:03d}usdt", Side.SELL, OrderType.LIMIT, Decimal(1), price
        )
    await clock.advance(60)

    catch_up = _ms(engine.sync, 1)
    place_cancel = _ms(
        lambda: engine.cancel_order(
            "bot",
            engine.place_order(
                "bot", "m007usdt", Side.SELL, OrderType.LIMIT, Decimal(1), Decimal("150.00")
            ).id,
        ),
        200,
    )
    book = _ms(lambda: engine.order_book("m042usdt", 50), 100)
    tickers = _ms(engine.tickers, 5)
    open_in_market = _ms(lambda: engine.open_orders("bot", "m042usdt"), 50)

    assert len(engine.open_orders("bot")) == 5000
    assert catch_up < 1000
    assert place_cancel < 2
    assert book < 10
    assert tickers < 200
    assert open_in_market < 10
