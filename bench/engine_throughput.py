"""Benchmark the simulator's matching engine (CPU time, ``time.process_time``).

1. Throughput: random limit orders from two accounts around one price on one market
   (about half cross and fill, partially or fully; one in ten resting orders is cancelled).
2. Scale: 200 living markets with 5,000 resting orders, then the per-request cost of what
   the bot calls (place + cancel, order book, ticker, all tickers, open orders, balances).

Run:

    .venv/bin/python bench/engine_throughput.py [--orders 200000] [--seed 1] [--repeat 5]

CPU time on this project's shared 2-core VM varies by up to ±20% from run to run, hence
the median of several fresh engines.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.market import Market
from bot.domain.orders import OrderType, Side
from bot.sim.engine import MatchingEngine
from bot.sim.market_params import MarketParams
from bot.sim.records import WAIT

TARGET_ORDERS_PER_S = 50_000


def _market(market_id: str) -> Market:
    return Market(
        id=market_id,
        base=market_id[:-4],
        quote="usdt",
        amount_precision=2,
        price_precision=2,
        min_amount=Decimal("0.01"),
    )


def throughput(orders: int, seed: int) -> float:
    """Return limit orders matched per CPU second."""
    rng = random.Random(seed)
    engine = MatchingEngine(VirtualClock(), random.Random(seed))
    engine.add_market(_market("abcusdt"))
    keys = ("maker", "taker")
    for key in keys:
        engine.deposit(key, "abc", Decimal(10**12))
        engine.deposit(key, "usdt", Decimal(10**15))
    prices = [Decimal(9950 + i).scaleb(-2) for i in range(101)]
    amounts = [Decimal(i).scaleb(-2) for i in range(1, 501)]
    plan = [
        (
            keys[rng.getrandbits(1)],
            Side.BUY if rng.getrandbits(1) else Side.SELL,
            rng.choice(amounts),
            rng.choice(prices),
            rng.random() < 0.1,
        )
        for _ in range(orders)
    ]
    place, cancel = engine.place_order, engine.cancel_order
    start = time.process_time()
    for key, side, amount, price, then_cancel in plan:
        order = place(key, "abcusdt", side, OrderType.LIMIT, amount, price)
        if then_cancel and order.state == WAIT:
            cancel(key, order.id)
    elapsed = time.process_time() - start
    return orders / elapsed


def _per_call_ms(fn: Callable[[], object], repeat: int) -> float:
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) / repeat * 1000


def build_scale(markets: int, resting: int, seed: int) -> tuple[MatchingEngine, VirtualClock]:
    """Return an engine with ``markets`` living markets and ``resting`` orders of one key."""
    rng = random.Random(seed)
    clock = VirtualClock()
    engine = MatchingEngine(clock, random.Random(seed))
    for i in range(markets):
        market = _market(f"m{i:03d}usdt")
        params = MarketParams(
            mid0=Decimal(100),
            price_precision=2,
            amount_precision=2,
            sigma_per_s=0.0002,
            d0=Decimal(2),
            alpha=0.5,
            level_ticks=5,
            rho=0.02,
            taker_rate_per_s=0.05,
            taker_size_scale=Decimal(1),
            step_s=5.0,
        )
        engine.add_market(market, params, seed=seed)
        engine.deposit("bot", market.base, Decimal(10**9))
    for n in range(resting):
        market_id = f"m{n % markets:03d}usdt"
        price = Decimal(10_200 + rng.randrange(800)).scaleb(-2)
        engine.place_order("bot", market_id, Side.SELL, OrderType.LIMIT, Decimal(1), price)
    return engine, clock


def scale_report(seed: int) -> dict[str, float]:
    """Return milliseconds per request with 200 markets and 5,000 resting orders."""
    engine, clock = build_scale(200, 5000, seed)
    clock._now += 30.0
    catch_up = _per_call_ms(engine.sync, 1)

    def place_and_cancel() -> None:
        order = engine.place_order(
            "bot", "m007usdt", Side.SELL, OrderType.LIMIT, Decimal(1), Decimal("150.00")
        )
        engine.cancel_order("bot", order.id)

    return {
        "catch_up_30s_all_markets": catch_up,
        "place_and_cancel": _per_call_ms(place_and_cancel, 500),
        "order_book_50": _per_call_ms(lambda: engine.order_book("m042usdt", 50), 500),
        "ticker": _per_call_ms(lambda: engine.ticker("m042usdt"), 500),
        "tickers_200": _per_call_ms(engine.tickers, 20),
        "open_orders_market": _per_call_ms(lambda: engine.open_orders("bot", "m042usdt"), 200),
        "open_orders_all": _per_call_ms(lambda: engine.open_orders("bot"), 20),
        "balances": _per_call_ms(lambda: engine.balances("bot"), 200),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="fresh engines; median reported")
    args = parser.parse_args()
    rates = sorted(throughput(args.orders, args.seed) for _ in range(args.repeat))
    rate = statistics.median(rates)
    verdict = "ok" if rate >= TARGET_ORDERS_PER_S else "BELOW TARGET"
    print(
        f"engine_throughput orders_per_cpu_s={rate:,.0f} (median of {args.repeat}; "
        f"min {rates[0]:,.0f}, max {rates[-1]:,.0f}) target={TARGET_ORDERS_PER_S:,} {verdict}"
    )
    for name, ms in scale_report(args.seed).items():
        print(f"scale_200_markets_5000_orders {name}_ms={ms:.3f}")


if __name__ == "__main__":
    main()
