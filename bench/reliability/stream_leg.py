"""Stream leg of the fault campaign: malformed WebSocket frames while books are read and sales run.

Against a real ``SimServer`` in real time, the stream (``SafeTradeStream`` behind
``StreamingExchange``, as the daemon runs it) reads books while market sells go through
REST. At seeded random moments one malformed book frame (``bad_frames``) is pushed to the
client; the simulator then holds book snapshots back for a random moment, so any book the
stream serves after it has seen the bad frame and before the hold ends is stale by
construction. Every book served, from the stream or REST, is checked for a price that is not
finite and positive.

``python -m bench.reliability.stream_leg --out DIR`` writes ``DIR/stream.json``; progress
(frames injected / total, elapsed, remaining) goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.reliability.meter import Tick, on_stderr, silent
from bench.reliability.report import save
from bot.clock import Clock, SystemClock
from bot.domain.market import OrderBook
from bot.domain.orders import OrderRequest, OrderType, Side
from bot.exchange.errors import ExchangeError
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.stream import SafeTradeStream
from bot.exchange.streaming import StreamingExchange
from bot.logs import configure_logging
from bot.rand import make_rng
from bot.sim.demo import DEMO_KEY, DEMO_SECRET, build_demo_engine
from bot.sim.server import SimServer

MARKET = "btcusdt"
SALE = Decimal("0.0001")
STREAM_COVERS = (
    "real `SafeTradeStream` behind `StreamingExchange` → `SimServer` WebSocket, market sells "
    "over REST; at seeded random moments one malformed book frame (non-numeric, NaN string, "
    "NaN literal, negative price, missing key, truncated JSON, level not a pair), then book "
    "snapshots held back U(0, 0.2 s); every served book checked"
)


def bad_frames(market: str) -> dict[str, str]:
    """Return one malformed book frame per kind, as the raw text sent on the socket."""

    def snap(bids: str, asks: str = '[["70000", "1"]]') -> str:
        return f'{{"{market}.ob-snap": {{"bids": {bids}, "asks": {asks}, "sequence": 1}}}}'

    return {
        "non_numeric_price": snap('[["abc", "1"]]'),
        "nan_price": snap('[["NaN", "1"]]'),
        "nan_literal": snap('[[NaN, "1"]]'),
        "negative_price": snap('[["60000", "1"]]', '[["-5", "1"]]'),
        "missing_key": snap('[{"remaining_volume": "1"}]'),
        "truncated": snap('[["60000", "1"]]')[:25],
        "not_a_pair": snap('[["60000"]]'),
    }


def bad_price(book: OrderBook) -> bool:
    """Return True if any level's price is not a finite positive number."""
    return any(not lv.price.is_finite() or lv.price <= 0 for lv in (*book.bids, *book.asks))


@dataclass
class _Tally:
    frames_injected: int = 0
    bad_prices_served: int = 0
    stale_books_served: int = 0
    books_read: int = 0
    books_from_stream: int = 0
    sales: int = 0
    unnoticed_frames: int = 0
    unrecovered: int = 0
    recoveries_s: list[float] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    stale_window: bool = False  # the client saw a bad frame and no snapshot can have arrived


async def _until(clock: Clock, predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = clock.monotonic() + timeout_s
    while not predicate():
        if clock.monotonic() > deadline:
            return False
        await clock.sleep(0.005)
    return True


async def _read_books(exchange: StreamingExchange, clock: Clock, tally: _Tally) -> None:
    while True:
        before = exchange.served_from_stream
        try:
            book = await exchange.order_book(MARKET, 20)
        except ExchangeError:
            await clock.sleep(0.01)
            continue
        tally.books_read += 1
        tally.bad_prices_served += bad_price(book)
        if exchange.served_from_stream > before:
            tally.books_from_stream += 1
            tally.stale_books_served += tally.stale_window
        await clock.sleep(0.005)


async def _sell(server: SimServer, clock: Clock, rng: random.Random, tally: _Tally) -> None:
    client = SafeTradeClient(
        server.base_url, DEMO_KEY, DEMO_SECRET, clock=clock, rng=rng, rate_limit_per_s=50
    )
    try:
        while True:
            await clock.sleep(rng.uniform(0.05, 0.2))
            server.engine.deposit(DEMO_KEY, "btc", SALE)
            request = OrderRequest(f"sl-{tally.sales}", MARKET, Side.SELL, OrderType.MARKET, SALE)
            try:
                await client.place_order(request)
                tally.sales += 1
            except ExchangeError:
                pass  # a sale that fails is not this leg's subject
    finally:
        await client.close()


async def _inject_one(
    server: SimServer, stream: SafeTradeStream, clock: Clock, rng: random.Random, tally: _Tally
) -> None:
    """Push one bad frame, hold snapshots back a moment, and time the way back to a good book."""
    frames = bad_frames(MARKET)
    kind = rng.choice(sorted(frames))
    seen = stream.bad_messages
    server.hub.hold_books = True
    started = clock.monotonic()
    if not server.hub.inject_raw(frames[kind]):
        server.hub.release_books()
        return
    tally.frames_injected += 1
    tally.kinds[kind] = tally.kinds.get(kind, 0) + 1
    if await _until(clock, lambda: stream.bad_messages > seen, 5.0):
        tally.stale_window = True
        await clock.sleep(rng.uniform(0, 0.2))
    else:
        tally.unnoticed_frames += 1
    tally.stale_window = False
    server.hub.release_books()
    if await _until(clock, lambda: stream.book(MARKET) is not None, 10.0):
        tally.recoveries_s.append(clock.monotonic() - started)
    else:
        tally.unrecovered += 1


async def run_stream_leg(
    frames: int, *, seed: int = 1, progress: Tick = silent
) -> dict[str, object]:
    """Inject ``frames`` malformed frames; return the figures (bad and stale books must be 0).

    ``progress`` is told how many frames are done (injected and recovered from) after each."""
    clock = SystemClock()
    rng = make_rng(seed, "stream_leg")
    engine, credentials = build_demo_engine(clock, seed)
    tally = _Tally()
    async with SimServer(
        engine, credentials=credentials, clock=clock, port=0, ws_interval_s=0.05
    ) as server:
        stream = SafeTradeStream(
            server.base_url, clock=clock, rng=make_rng(seed, "stream"), markets=[MARKET],
            backoff_base_s=0.05, backoff_cap_s=0.5,
        )  # fmt: skip
        rest = SafeTradeClient(
            server.base_url, None, None, clock=clock, rng=rng, rate_limit_per_s=1000
        )
        exchange = StreamingExchange(rest, stream)
        await stream.start()
        workers = [
            asyncio.create_task(_read_books(exchange, clock, tally)),
            asyncio.create_task(_sell(server, clock, make_rng(seed, "stream_leg.sell"), tally)),
        ]
        try:
            await _until(clock, lambda: stream.book(MARKET) is not None, 10.0)
            for i in range(frames):
                await clock.sleep(rng.uniform(0, 0.3))
                await _inject_one(server, stream, clock, rng, tally)
                progress(i + 1)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await exchange.close()
    return _figures(tally, stream)


def _figures(tally: _Tally, stream: SafeTradeStream) -> dict[str, object]:
    health = stream.health()
    return {
        "frames_injected": tally.frames_injected,
        "bad_prices_served": tally.bad_prices_served,
        "stale_books_served": tally.stale_books_served,
        "reconnects": health.reconnects,
        "max_recovery_s": round(max(tally.recoveries_s, default=0.0), 3),
        "bad_messages_seen": health.bad_messages,
        "unnoticed_frames": tally.unnoticed_frames,
        "unrecovered": tally.unrecovered,
        "books_read": tally.books_read,
        "books_from_stream": tally.books_from_stream,
        "sales": tally.sales,
        "kinds": dict(sorted(tally.kinds.items())),
    }


def passed(figures: dict[str, object]) -> bool:
    """Return True when no bad or stale book was served and every frame was seen and recovered."""
    zero = ("bad_prices_served", "stale_books_served", "unnoticed_frames", "unrecovered")
    return (
        all(figures[k] == 0 for k in zero)
        and figures["frames_injected"] == figures["bad_messages_seen"]
    )


def save_leg(directory: Path, figures: dict[str, object]) -> Path:
    """Write ``directory/stream.json`` in the campaign report's format."""
    extra: dict[str, object] = {
        "malformed WebSocket frames injected|": figures["frames_injected"],
        "bad prices served (NaN, ≤ 0)|0": figures["bad_prices_served"],
        "stale streamed books served|0": figures["stale_books_served"],
        "stream reconnects|": figures["reconnects"],
        "max recovery to an in-sync book (s)|": figures["max_recovery_s"],
        "verdict": "PASS" if passed(figures) else "FAIL",
    }
    return save(directory, "stream", title="WebSocket frames", covers=STREAM_COVERS, extra=extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability.stream_leg")
    parser.add_argument("--out", type=Path, default=Path("build/reliability"))
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    configure_logging(level="ERROR")  # each bad frame logs a warning by design
    with on_stderr(args.frames) as progress:
        figures = asyncio.run(run_stream_leg(args.frames, seed=args.seed, progress=progress))
    path = save_leg(args.out, figures)
    sys.stdout.write(json.dumps(figures, indent=2) + f"\nwritten {path}\n")
    return 0 if passed(figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
