"""Benchmark one prioritisation pass over 1,000 balances (CPU time, ``time.process_time``).

Every balance has its own enabled market with a 50-level book on each side, a ticker and a
volatility figure, so each one is fully scored (the worst case). Run:

    .venv/bin/python bench/prioritisation.py [--balances 1000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from bot.domain.balances import Balance, Classification
from bot.domain.market import BookLevel, Market, OrderBook, Ticker
from bot.prioritisation.scoring import MarketSnapshot, ScoreWeights, prioritise, with_market_facts

AT = datetime(2026, 1, 1, tzinfo=UTC)


def build_snapshot(n: int, seed: int = 7, levels: int = 50) -> MarketSnapshot:
    """Return a snapshot of ``n`` balances, each with its own market, book and ticker."""
    rng = random.Random(seed)
    balances, markets, tickers, books, vols = [], {}, {}, {}, {}
    for i in range(n):
        base = f"c{i:04d}"
        mid = Decimal(rng.randint(10, 100_000)) / 1000
        tick = (mid / 2000).quantize(Decimal("0.000001")) or Decimal("0.000001")
        market = Market(
            id=f"{base}usdt",
            base=base,
            quote="usdt",
            amount_precision=4,
            price_precision=6,
            min_amount=Decimal("0.01"),
            min_value=Decimal(1),
        )
        bids = tuple(
            BookLevel(mid - tick * (k + 1), Decimal(rng.randint(1, 500))) for k in range(levels)
        )
        asks = tuple(
            BookLevel(mid + tick * (k + 1), Decimal(rng.randint(1, 500))) for k in range(levels)
        )
        markets[market.id] = market
        books[market.id] = OrderBook(market.id, bids, asks, AT)
        tickers[market.id] = Ticker(
            market.id, mid, mid, mid, mid, Decimal(1000), Decimal(rng.randint(100, 1_000_000)), AT
        )
        vols[market.id] = Decimal(rng.randint(5, 400))
        balances.append(Balance(base, Decimal(rng.randint(1, 5000)), Decimal(0)))
    return with_market_facts(
        MarketSnapshot(
            quote="usdt",
            balances=tuple(balances),
            markets=markets,
            tickers=tickers,
            books=books,
            volatility_bps_per_hour=vols,
        )
    )


def cpu_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    """Return the CPU milliseconds of each of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        samples.append((time.process_time() - start) * 1000)
    return samples


def show(label: str, samples: list[float]) -> None:
    print(
        f"{label}: median={statistics.median(samples):.2f} ms "
        f"min={min(samples):.2f} max={max(samples):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="prioritisation benchmark")
    parser.add_argument("--balances", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    snapshot = build_snapshot(args.balances)
    raw = replace(snapshot, facts={})
    weights, min_value = ScoreWeights(), Decimal(1)
    scores = prioritise(snapshot, weights=weights, min_value=min_value)  # warm up
    sells = sum(1 for s in scores if s.classification is Classification.SELL)
    print(f"balances={args.balances} scored_sell={sells} repeat={args.repeat} book_levels=50x2")
    show(
        "prioritise pass (market facts precomputed), budget 20 ms",
        cpu_ms(lambda: prioritise(snapshot, weights=weights, min_value=min_value), args.repeat),
    )
    show(
        f"market facts for {args.balances} books (once per snapshot, in build_snapshot)",
        cpu_ms(lambda: with_market_facts(raw), args.repeat),
    )
    show(
        "prioritise pass from raw books (facts computed inside the pass)",
        cpu_ms(lambda: prioritise(raw, weights=weights, min_value=min_value), args.repeat),
    )


if __name__ == "__main__":
    main()
