"""WebSocket streams (Ranger): local order books, public trades, our order and trade updates.

Each market's book is subscribed in two kinds: ``ob`` (``{market}.ob-inc``: an ``ob-snap``
then ``ob-inc`` increments whose ``sequence`` grows by one) and ``depth`` (``{market}.depth``,
the example client's stream). The ``.depth`` payload is assumed, as nowhere documented:
``{"asks": [[price, amount], ...], "bids": [...], "sequence": N}`` with the sequence optional,
each frame a whole snapshot; capturing the first 20 live frames and comparing them with REST
depth confirms or refutes it (docs/websocket.md). The first kind to deliver a snapshot on a
connection serves that market; the other is unsubscribed, and its frames still in flight are
validated and dropped. A market with no book ``book_timeout_s`` after subscribing is logged
once (``stream_books_missing``) and listed in ``health().books_via_rest``: its book comes
from REST polling.

An ``ob-inc`` gap means we missed something, so the book is dropped and the market
resubscribed for a fresh snapshot. A dropped connection is re-opened after a capped, fully
jittered back-off and every stream is subscribed again. A message that does not parse
(levels are validated as REST levels are) ends the connection the same way: the books are
dropped, so ``book()`` answers None until a fresh snapshot. Everything is optional: the
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

from bot.clock import Clock
from bot.domain.market import BookLevel, OrderBook
from bot.domain.orders import Fill, Order
from bot.exchange.errors import ExchangeError
from bot.exchange.safetrade import endpoints
from bot.exchange.safetrade.auth import NonceSource, auth_headers
from bot.exchange.safetrade.blocks import USER_AGENT_HEADERS, BlockNotice
from bot.exchange.safetrade.transport import TransportError, TransportSwitch
from bot.exchange.safetrade.wire import parse_book_levels, parse_fills, parse_order
from bot.logs import get_logger

log = get_logger("sellbot.stream")


class SequenceGap(Exception):
    """An increment did not follow the last sequence number."""


class BadMessage(Exception):
    """A message could not be applied: the connection is dropped and opened again."""


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """The public stream as ``/readyz`` and the metrics see it."""

    connected: bool
    down_for_s: float | None  # None while connected
    last_message_age_s: float | None  # None before the first message
    reconnects: int
    bad_messages: int
    books_via_rest: tuple[str, ...] = ()  # no streamed book by the timeout: REST serves them


@dataclass
class LocalBook:
    """One market's book kept from a snapshot and its increments."""

    market: str
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    sequence: int | None = None
    synced: bool = False  # a snapshot applied and no gap since

    def snapshot(self, payload: dict[str, Any], *, sequenced: bool = True) -> None:
        """Replace the book; unless ``sequenced`` (``ob-snap``) the sequence is optional.

        Raises: MalformedResponse, ValueError (nothing is changed then).
        """
        bids, asks = _sides(payload)
        has_sequence = any(name in payload for name in endpoints.WS_SEQUENCE_FIELDS)
        seq = _sequence(payload) if sequenced or has_sequence else None
        self.bids = {p: a for p, a in bids if a != 0}
        self.asks = {p: a for p, a in asks if a != 0}
        self.sequence = seq
        self.synced = True

    def increment(self, payload: dict[str, Any]) -> None:
        """Apply an increment. Raises: SequenceGap, MalformedResponse, ValueError."""
        seq = _sequence(payload)
        if not self.synced or self.sequence is None or seq != self.sequence + 1:
            raise SequenceGap(f"{self.market}: expected {self.sequence} + 1, got {seq}")
        bids, asks = _sides(payload)
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for price, amount in changes:
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
            value = payload[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("sequence is not a non-negative integer")
            return value
    raise ValueError("no sequence number")


Levels = list[tuple[Decimal, Decimal]]


def _sides(payload: dict[str, Any]) -> tuple[Levels, Levels]:
    return parse_book_levels(payload.get("bids", [])), parse_book_levels(payload.get("asks", []))


# Book stream suffix -> the kind it belongs to; the kinds' streams are ``_book_streams``
_BOOK_KINDS = {"ob-snap": "ob", "ob-inc": "ob", "depth": "depth"}


def _book_streams(market: str) -> dict[str, list[str]]:
    """Return each book kind's subscription for ``market`` (``ob-inc`` brings an ``ob-snap``)."""
    return {"ob": [endpoints.stream_ob_inc(market)], "depth": [endpoints.stream_depth(market)]}


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
        book_timeout_s: float = 10.0,
        transport: TransportSwitch | None = None,
    ) -> None:
        self._base_url = base_url
        self._clock = clock
        self._rng = rng
        self._markets = list(markets)
        self._key, self._secret = api_key, api_secret
        self._nonces = NonceSource(clock)
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._book_timeout_s = book_timeout_s
        self._owns_transport = transport is None
        self.transport = transport or TransportSwitch("aiohttp", timeout_s=10.0)
        self._blocks = BlockNotice()  # a refused handshake's block is logged once
        self._tasks: list[asyncio.Task[None]] = []
        self.books: dict[str, LocalBook] = {}
        self.book_kinds: dict[str, str] = {}  # market -> the kind serving it on this connection
        self._books_missing: set[str] = set()  # no book by the timeout on this connection
        self.order_listeners: list[OrderListener] = []
        self.fill_listeners: list[FillListener] = []
        self.connects = 0
        self.gaps = 0
        self.snapshots = 0
        self.bad_messages = 0
        self.connected: dict[str, bool] = {"public": False, "private": False}
        self._public_connects = 0
        self._down_since: float | None = clock.monotonic()
        self._last_message_at: float | None = None

    def book(self, market: str, depth: int = 50) -> OrderBook | None:
        """Return the streamed book if it is in sync, else None (poll REST instead)."""
        local = self.books.get(market)
        if local is None or not local.synced or not self.connected["public"]:
            return None
        return local.to_order_book(depth)

    def health(self) -> StreamHealth:
        """Return the public stream's state: up or down since when, messages, reconnects."""
        now = self._clock.monotonic()
        last = self._last_message_at
        return StreamHealth(
            connected=self.connected["public"],
            down_for_s=None if self._down_since is None else now - self._down_since,
            last_message_age_s=None if last is None else now - last,
            reconnects=max(0, self._public_connects - 1),
            bad_messages=self.bad_messages,
            books_via_rest=self.books_via_rest(),
        )

    def books_via_rest(self) -> tuple[str, ...]:
        """Return the markets that got no streamed book by the timeout (REST serves them)."""
        return tuple(sorted(m for m in self._books_missing if m not in self.book_kinds))

    async def start(self) -> None:
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
        if self._owns_transport:
            await self.transport.close()

    def _streams(self, private: bool) -> list[str]:
        if private:
            return [endpoints.STREAM_ORDER, endpoints.STREAM_TRADE]
        streams = []
        for market in self._markets:
            kinds = _book_streams(market)
            streams += [*kinds["ob"], *kinds["depth"], endpoints.stream_trades(market)]
        return streams

    async def _run(self, *, private: bool) -> None:
        name = "private" if private else "public"
        failures = 0
        base, cap = self._backoff
        while True:
            opened, healthy = self._clock.monotonic(), False
            try:
                healthy = await self._connection(private) > 0
                self._blocks.note(name, None)
            except asyncio.CancelledError:
                raise
            except (BadMessage, TransportError, OSError, ExchangeError, ValueError) as e:
                log.warning("stream_disconnected", stream=name, error=type(e).__name__)
                block = self._blocks.note(name, e)
                if block is not None and block.reason == endpoints.REASON_CHALLENGE:
                    self.transport.on_challenge()  # ``auto``: the next attempt is on curl_cffi
                healthy = isinstance(e, BadMessage) and self._clock.monotonic() - opened >= cap
            self._disconnected(private)
            failures = 0 if healthy else failures + 1  # bad frames in a row back off further
            delay = self._rng.uniform(0, min(cap, base * 2**failures))
            await self._clock.sleep(delay)

    def _disconnected(self, private: bool) -> None:
        if private:
            self.connected["private"] = False
            return
        self.connected["public"] = False
        self._forget_books()  # stale from here on: a fresh snapshot follows the next subscription
        if self._down_since is None:
            self._down_since = self._clock.monotonic()

    async def _connection(self, private: bool) -> int:
        """Subscribe and apply messages until the socket ends; return how many were applied.

        Raises:
            BadMessage: a message did not parse or could not be applied.
        """
        headers = dict(USER_AGENT_HEADERS)
        if private and self._key and self._secret:
            headers |= auth_headers(self._key, self._secret, self._nonces.next())
        url = endpoints.ws_url(self._base_url, private)
        handled = 0
        async with self.transport.current().ws_connect(url, headers) as ws:
            self._connected(private)
            await ws.send_text(json.dumps(self._subscribe(self._streams(private))))
            watch = None if private else asyncio.create_task(self._watch_books())
            try:
                while (text := await ws.receive_text()) is not None:
                    for resubscribe in self._apply(text, private):
                        await ws.send_text(json.dumps(resubscribe))
                    handled += 1
            finally:
                if watch is not None:
                    watch.cancel()
        return handled

    async def _watch_books(self) -> None:
        """After the timeout, log and remember the markets the stream sent no book for."""
        await self._clock.sleep(self._book_timeout_s)
        missing = {m for m in self._markets if m not in self.book_kinds}
        self._books_missing = missing
        if missing:
            log.warning(
                "stream_books_missing",
                markets=sorted(missing),
                fallback="rest",
                timeout_s=self._book_timeout_s,
            )

    def _forget_books(self) -> None:
        self.books.clear()
        self.book_kinds.clear()
        self._books_missing = set()

    def _connected(self, private: bool) -> None:
        self.connects += 1
        if private:
            self.connected["private"] = True
            return
        self._public_connects += 1
        self._forget_books()
        self.connected["public"] = True
        self._down_since = None

    def _apply(self, data: str, private: bool) -> list[dict[str, Any]]:
        """Parse and apply one frame. Raises: BadMessage (anything wrong with it)."""
        if not private:
            self._last_message_at = self._clock.monotonic()
        try:
            message = json.loads(data, parse_float=Decimal)
            if not isinstance(message, dict):
                raise ValueError("message is not an object")
            return self.handle(message)
        except Exception as e:  # a bad frame must not kill the stream task: reconnect instead
            self.bad_messages += 1
            self._disconnected(private)  # before the close handshake: nothing stale meanwhile
            log.warning("stream_bad_message", error=type(e).__name__, detail=str(e)[:200])
            raise BadMessage(type(e).__name__) from e

    @staticmethod
    def _subscribe(streams: list[str], event: str = endpoints.WS_SUBSCRIBE) -> dict[str, Any]:
        return {endpoints.WS_EVENT: event, endpoints.WS_STREAMS: streams}

    def handle(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """Apply one message; return the messages to send back (resubscriptions after gaps)."""
        replies: list[dict[str, Any]] = []
        for stream, payload in message.items():
            market, _, kind = stream.rpartition(".")
            if kind in _BOOK_KINDS:
                replies += self._book_message(market, kind, payload)
            elif stream == endpoints.STREAM_ORDER:
                order = parse_order(payload)
                for on_order in self.order_listeners:
                    on_order(order)
            elif stream == endpoints.STREAM_TRADE:
                for fill in parse_fills([payload]):
                    for on_fill in self.fill_listeners:
                        on_fill(fill)
        return replies

    def _book_message(self, market: str, kind: str, payload: Any) -> list[dict[str, Any]]:
        """Apply a book frame of the kind serving ``market``; the first snapshot picks the kind.

        A frame of the other kind is validated (a bad one drops the connection as any bad
        frame does) and dropped; picking a kind unsubscribes the other.
        """
        chosen = self.book_kinds.get(market)
        if chosen is not None and chosen != _BOOK_KINDS[kind]:
            _sides(payload)
            return []
        if kind == "ob-inc":
            return self._increment(market, payload)
        self.books.setdefault(market, LocalBook(market)).snapshot(
            payload, sequenced=kind == "ob-snap"
        )
        self.snapshots += 1
        if chosen is not None:
            return []
        chosen = self.book_kinds[market] = _BOOK_KINDS[kind]
        log.info("stream_book_kind", market=market, kind=chosen)
        others = [s for k, ss in _book_streams(market).items() if k != chosen for s in ss]
        return [self._subscribe(others, endpoints.WS_UNSUBSCRIBE)]

    def _increment(self, market: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        book = self.books.setdefault(market, LocalBook(market))
        try:
            book.increment(payload)
        except SequenceGap as e:
            self.gaps += 1
            log.info("stream_sequence_gap", market=market, detail=str(e))
            book.sequence, book.synced = None, False
            streams = _book_streams(market)["ob"]
            return [
                self._subscribe(streams, endpoints.WS_UNSUBSCRIBE),
                self._subscribe(streams),
            ]
        return []
