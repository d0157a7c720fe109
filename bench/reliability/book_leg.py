"""Book leg of the fault campaign: sales while the book the bot reads is one-sided, crossed or
pushed, at random (seeded) moments.

The simulator's own book stays sane; ``DistortingExchange`` serves the bot a distorted view
of it during an *episode*, as a stale snapshot, a quote pulled on one side or a book pushed
down without trades would look: ``one_sided`` (no asks), ``crossed`` (the asks moved below
the best bid) or ``pushed`` (every level ``PUSH_FRAC`` lower, the last trade unchanged).
Sales run one after another through the daemon's ``ExecutionRunner`` in virtual time, every
strategy in turn. Counted: ``orders_on_bad_books`` (orders sent while the last book served was
distorted: must be 0), ``fills_below_reference_bound`` and ``orders_below_reference_bound``
(fills, and orders' prices, below the bound computed from the true mid when the sale
started: must be 0). The simulator's real book is not pushed, so a low order still fills at
the real bids here; the orders' prices show what a real push would have filled.

``python -m bench.reliability.book_leg --out DIR`` writes ``DIR/books.json``; progress (sales
done / total, elapsed, remaining in wall-clock seconds) goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Literal

import structlog

from bench.reliability.campaign import _market as campaign_market
from bench.reliability.meter import Tick, on_stderr, silent
from bench.reliability.report import save
from bot.clock import VirtualClock
from bot.domain.decisions import Decision, StrategyName
from bot.domain.executions import Execution, ExecutionState
from bot.domain.market import BookLevel, Market, OrderBook
from bot.domain.money import quantize_down
from bot.domain.orders import Order, OrderRequest
from bot.execution.guards import ExecutionGuards, price_bound
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.runner import ExecutionRunner
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange
from bot.sim.market_params import MarketParams

Distortion = Literal["one_sided", "crossed", "pushed"]
DISTORTIONS: tuple[Distortion, ...] = ("one_sided", "crossed", "pushed")
PUSH_FRAC = Decimal("0.2")  # a pushed book sits 20% under the real one
KEY = "books"
HORIZON_S = 120
BOOKS_COVERS = (
    "sales through `ExecutionRunner` (every strategy in turn, final sweep `cross`) while the "
    "book the bot reads is one-sided, crossed, or pushed 20% down at random moments"
)


def distort(book: OrderBook, kind: Distortion, market: Market) -> OrderBook:
    """Return ``book`` as the ``kind`` episode shows it."""
    if kind == "one_sided":
        return OrderBook(book.market, book.bids, (), book.at, book.sequence)
    bid, ask = book.best_bid, book.best_ask
    if kind == "crossed" and bid is not None and ask is not None:
        shift = ask - bid + 2 * market.tick
        asks = tuple(BookLevel(p - shift, a) for p, a in book.asks)
        return OrderBook(book.market, book.bids, asks, book.at, book.sequence)

    def down(levels: tuple[BookLevel, ...]) -> tuple[BookLevel, ...]:
        frac = 1 - PUSH_FRAC
        return tuple(
            BookLevel(quantize_down(p * frac, market.price_precision), a) for p, a in levels
        )

    return OrderBook(book.market, down(book.bids), down(book.asks), book.at, book.sequence)


class DistortingExchange(SimExchange):
    """The simulator, serving a distorted book while ``distortion`` is set; counts the orders
    sent while the last book it served was distorted."""

    def __init__(self, engine: MatchingEngine, api_key: str, *, clock: VirtualClock) -> None:
        super().__init__(engine, api_key, clock=clock)
        self.distortion: Distortion | None = None
        self.served_bad = False
        self.orders_on_bad_books = 0
        self.true_mids: dict[float, Decimal] = {}  # the engine's mid at each book read

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        book = await super().order_book(market, depth)
        mid = book.mid
        if mid is not None:
            self.true_mids[self._clock.time()] = mid
        kind = self.distortion
        self.served_bad = kind is not None
        if kind is None:
            return book
        return distort(book, kind, self.engine.market(market))

    async def place_order(self, request: OrderRequest) -> Order:
        if self.served_bad:
            self.orders_on_bad_books += 1
        return await super().place_order(request)


def _market() -> tuple[Market, MarketParams]:
    """Return the fault campaign's market, with takers often enough to keep a fresh last trade."""
    market, params = campaign_market(0)
    return market, replace(params, taker_rate_per_s=0.2)


@dataclass
class _Episodes:
    """Distort the book at random moments: gaps and lengths exponential-ish, kinds uniform."""

    exchange: DistortingExchange
    clock: VirtualClock
    seed: int
    mean_gap_s: float = 40.0
    count: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    async def run(self) -> None:
        rng = make_rng(self.seed, "book_leg.episodes")
        while True:
            await self.clock.sleep(rng.expovariate(1 / self.mean_gap_s))
            kind = rng.choice(DISTORTIONS)
            self.exchange.distortion = kind
            self.count += 1
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            await self.clock.sleep(rng.uniform(2.0, 60.0))
            self.exchange.distortion = None


async def run_book_leg(sales: int, *, seed: int = 1, progress: Tick = silent) -> dict[str, int]:
    """Run ``sales`` sales under book episodes; return the leg's counters.

    ``progress`` is told how many sales are done after each."""
    clock = VirtualClock()
    market, params = _market()
    engine = MatchingEngine(clock, make_rng(seed, "book_leg.engine"))
    engine.add_market(market, params, seed=f"books/{seed}")
    exchange = DistortingExchange(engine, KEY, clock=clock)
    guards = ExecutionGuards(min_order_value=Decimal(1), final_sweep="cross", unknown_grace_s=30)
    store = MemoryExecutionStore()
    runner = ExecutionRunner(exchange=exchange, store=store, clock=clock, guards=guards, seed=seed)
    episodes = _Episodes(exchange, clock, seed)
    rng = make_rng(seed, "book_leg.sales")
    strategies = tuple(StrategyName)
    below = [0, 0]  # fills, orders
    states: dict[str, int] = {}

    async def sell_all() -> None:
        for i in range(sales):
            amount = Decimal(rng.randint(20, 80))
            engine.deposit(KEY, market.base, amount)
            decision = Decision(
                strategy=strategies[i % len(strategies)], horizon_s=HORIZON_S, slices=4
            )
            execution = Execution(
                id=f"bk{i}",
                market=market.id,
                currency=market.base,
                allocated=amount,
                decision=decision,
                state=ExecutionState.QUEUED,
                created_at=clock.now(),
            )
            done = await runner.run(execution)
            states[str(done.state)] = states.get(str(done.state), 0) + 1
            fills, orders = await _below_bound(exchange, store, done, market, guards)
            below[0] += fills
            below[1] += orders
            progress(i + 1)

    task = asyncio.ensure_future(episodes.run())
    try:
        await clock.run(sell_all())
    finally:
        task.cancel()
    return {
        "sales": sales,
        "episodes": episodes.count,
        "orders_on_bad_books": exchange.orders_on_bad_books,
        "fills_below_reference_bound": below[0],
        "orders_below_reference_bound": below[1],
        **{f"episodes_{k}": v for k, v in sorted(episodes.kinds.items())},
        **{f"executions_{k}": v for k, v in sorted(states.items())},
    }


async def _below_bound(
    exchange: DistortingExchange,
    store: MemoryExecutionStore,
    done: Execution,
    market: Market,
    guards: ExecutionGuards,
) -> tuple[int, int]:
    """Return how many fills and orders of ``done`` are priced below the bound from the true
    mid at its start."""
    if done.started_at is None:
        return 0, 0
    true_mid = exchange.true_mids.get(done.started_at.timestamp())
    if true_mid is None:
        return 0, 0
    bound = price_bound(market, true_mid, guards, done.decision.max_slippage_bps)
    fills = await store.fills_for(done.id)
    orders = await store.orders_for(done.id)
    low_orders = sum(1 for o in orders if o.price is not None and o.price < bound)
    return sum(1 for f in fills if f.price < bound), low_orders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability.book_leg")
    parser.add_argument("--out", default="build/reliability")
    parser.add_argument("--sales", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    with on_stderr(args.sales) as progress:
        counters = asyncio.run(run_book_leg(args.sales, seed=args.seed, progress=progress))
    bad = ("orders_on_bad_books", "fills_below_reference_bound", "orders_below_reference_bound")
    ok = all(counters[k] == 0 for k in bad)
    extra: dict[str, object] = {
        "sales|": counters["sales"],
        "book episodes (one-sided, crossed, pushed)|": counters["episodes"],
        "orders placed on a bad book|0": counters["orders_on_bad_books"],
        "fills below the true-mid bound|0": counters["fills_below_reference_bound"],
        "orders priced below the true-mid bound|0": counters["orders_below_reference_bound"],
        "verdict": "PASS" if ok else "FAIL",
    }
    path = save(Path(args.out), "books", title="books", covers=BOOKS_COVERS, extra=extra)
    sys.stdout.write(f"{counters}\nwrote {path}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
