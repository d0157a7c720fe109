"""WebSocket streams (Ranger): local order books, public trades, our order and trade updates.

Order books arrive as ``{market}.ob-snap`` then ``{market}.ob-inc`` messages whose
``sequence`` grows by one; a gap means we missed something, so the book is dropped and the
market resubscribed for a fresh snapshot. A dropped connection is re-opened after a capped,
fully jittered back-off and every stream is subscribed again. Everything is optional: the
executors poll over REST and use ``book()`` only when it is in sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp

from bot.clock import Clock
from bot.domain.market import BookLevel, OrderBook
from bot.domain.orders import Fill, Order
from bot.exchange.errors import ExchangeError
from bot.exchange.safetrade import endpoints
from bot.exchange.safetrade.auth import NonceSource, auth_headers
from bot.exchange.safetrade.wire import parse_fills, parse_order
from bot.logs import get_logger

log = get_logger("sellbot.stream")


class SequenceGap(Exception):
    """An increment did not follow the last sequence number."""


@dataclass
class LocalBook:
    """One market's book kept from a snapshot and its increments."""

    market: str
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    sequence: int | None = None

    def snapshot(self, payload: dict[str, Any]) -> None:
        self.bids = _levels(payload.get("bids", []))
        self.asks = _levels(payload.get("asks", []))
        self.sequence = _sequence(payload)

    def increment(self, payload: dict[str, Any]) -> None:
        """Apply an increment. Raises: SequenceGap."""
        seq = _sequence(payload)
        if self.sequence is None or seq != self.sequence + 1:
            raise SequenceGap(f"{self.market}: expected {self.sequence} + 1, got {seq}")
        for side, changes in (
            (self.bids, payload.get("bids", [])),
            (self.asks, payload.get("asks", [])),
        ):
            for price, amount in _pairs(changes):
                if amount == 0:
                    side.pop(price, None)
                else:
                    side[price] = amount
        self.sequence = seq

    def to_order_book(self, depth: int = 50) -> OrderBook:
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        return OrderBook(
            market=self.market,
            bids=tuple(BookLevel(p, a) for p, a in bids),
            asks=tuple(BookLevel(p, a) for p, a in asks),
            sequence=self.sequence,
        )


def _sequence(payload: dict[str, Any]) -> int:
    for name in endpoints.WS_SEQUENCE_FIELDS:
        if name in payload:
            return int(payload[name])
    raise ValueError("no sequence number")


def _pairs(levels: list[Any]) -> list[tuple[Decimal, Decimal]]:
    out = []
    for level in levels:
        if isinstance(level, dict):
            out.append((Decimal(str(level["price"])), Decimal(str(level["remaining_volume"]))))
        else:
            out.append((Decimal(str(level[0])), Decimal(str(level[1]))))
    return out


def _levels(levels: list[Any]) -> dict[Decimal, Decimal]:
    return {p: a for p, a in _pairs(levels) if a != 0}


OrderListener = Callable[[Order], None]
FillListener = Callable[[Fill], None]


class SafeTradeStream:
    """Public and (with credentials) private streams over one reconnecting WebSocket each."""

    def __init__(
        self,
        base_url: str,
        *,
        clock: Clock,
        rng: random.Random,
        markets: list[str],
        api_key: str | None = None,
        api_secret: str | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
    ) -> None:
        self._base_url = base_url
        self._clock = clock
        self._rng = rng
        self._markets = list(markets)
        self._key, self._secret = api_key, api_secret
        self._nonces = NonceSource(clock)
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.books: dict[str, LocalBook] = {}
        self.order_listeners: list[OrderListener] = []
        self.fill_listeners: list[FillListener] = []
        self.connects = 0
        self.gaps = 0
        self.connected: dict[str, bool] = {"public": False, "private": False}

    def book(self, market: str, depth: int = 50) -> OrderBook | None:
        """Return the streamed book if it is in sync, else None (poll REST instead)."""
        local = self.books.get(market)
        if local is None or local.sequence is None or not self.connected["public"]:
            return None
        return local.to_order_book(depth)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._tasks.append(asyncio.create_task(self._run(private=False), name="ws-public"))
        if self._key and self._secret:
            self._tasks.append(asyncio.create_task(self._run(private=True), name="ws-private"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()

    def _streams(self, private: bool) -> list[str]:
        if private:
            return [endpoints.STREAM_ORDER, endpoints.STREAM_TRADE]
        streams = []
        for market in self._markets:
            streams += [endpoints.stream_ob_inc(market), endpoints.stream_trades(market)]
        return streams

    async def _run(self, *, private: bool) -> None:
        name = "private" if private else "public"
        failures = 0
        while True:
            try:
                await self._connection(private)
                failures = 0
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, OSError, ExchangeError, ValueError) as e:
                log.warning("stream_disconnected", stream=name, error=type(e).__name__)
            self.connected[name] = False
            base, cap = self._backoff
            delay = self._rng.uniform(0, min(cap, base * 2**failures))
            failures += 1
            await self._clock.sleep(delay)

    async def _connection(self, private: bool) -> None:
        assert self._session is not None  # noqa: S101 - start() opened it
        headers = {}
        if private and self._key and self._secret:
            headers = auth_headers(self._key, self._secret, self._nonces.next())
        url = endpoints.ws_url(self._base_url, private)
        async with self._session.ws_connect(url, headers=headers, heartbeat=30) as ws:
            self.connects += 1
            self.connected["private" if private else "public"] = True
            await ws.send_str(json.dumps(self._subscribe(self._streams(private))))
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                for resubscribe in self.handle(json.loads(msg.data, parse_float=Decimal)):
                    await ws.send_str(json.dumps(resubscribe))

    @staticmethod
    def _subscribe(streams: list[str], event: str = endpoints.WS_SUBSCRIBE) -> dict[str, Any]:
        return {endpoints.WS_EVENT: event, endpoints.WS_STREAMS: streams}

    def handle(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """Apply one message; return the messages to send back (resubscriptions after gaps)."""
        replies: list[dict[str, Any]] = []
        for stream, payload in message.items():
            market, _, kind = stream.rpartition(".")
            if kind == "ob-snap":
                self.books.setdefault(market, LocalBook(market)).snapshot(payload)
            elif kind == "ob-inc":
                replies += self._increment(market, payload)
            elif stream == endpoints.STREAM_ORDER:
                order = parse_order(payload)
                for on_order in self.order_listeners:
                    on_order(order)
            elif stream == endpoints.STREAM_TRADE:
                for fill in parse_fills([payload]):
                    for on_fill in self.fill_listeners:
                        on_fill(fill)
        return replies

    def _increment(self, market: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        book = self.books.setdefault(market, LocalBook(market))
        try:
            book.increment(payload)
        except SequenceGap as e:
            self.gaps += 1
            log.info("stream_sequence_gap", market=market, detail=str(e))
            book.sequence = None
            streams = [endpoints.stream_ob_inc(market)]
            return [
                self._subscribe(streams, endpoints.WS_UNSUBSCRIBE),
                self._subscribe(streams),
            ]
        return []
