"""Ranger-style WebSocket streams over the engine.

Public: ``global.tickers``, ``{market}.trades``, ``{market}.ob-snap`` / ``{market}.ob-inc``
(a snapshot first, then increments with a ``sequence`` one higher each message; a level
whose amount is ``"0"`` is gone) and ``{market}.depth`` (the example client's stream: a whole
``{"asks": [[price, amount], ...], "bids": [...]}`` snapshot on subscribing and whenever the
book changed, without a sequence). ``book_streams`` picks which book kinds are published
(``"ob"``, ``"depth"``); subscriptions to the others are accepted and never answered.
Private (auth headers on the handshake):
``order`` and ``trade`` for the key's own orders and fills. Subscribe with
``{"event": "subscribe", "streams": [...]}``. Trades, orders and fills are pushed as the
engine reports them; books and tickers are published every ``interval_s`` on the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from bot.clock import Clock
from bot.sim import peatio
from bot.sim.engine import MatchingEngine
from bot.sim.matching import SimEvent
from bot.sim.records import SimError, SimOrder, SimTrade
from bot.sim.rest import API_KEY

_DEPTH = 50
Levels = dict[str, str]
BOOK_STREAM_KINDS = frozenset({"ob", "depth"})


def parse_book_streams(text: str) -> frozenset[str]:
    """Return the book kinds in a comma list (``"depth,ob"``; ``"none"`` for none).

    Raises:
        ValueError: an unknown kind.
    """
    kinds = {k.strip() for k in text.split(",")} - {"", "none"}
    unknown = kinds - BOOK_STREAM_KINDS
    if unknown:
        raise ValueError(f"unknown book stream kinds {sorted(unknown)}; use ob, depth or none")
    return frozenset(kinds)


class _Conn:
    def __init__(self, ws: web.WebSocketResponse, key: str | None) -> None:
        self.ws = ws
        self.key = key
        self.streams: set[str] = set()
        self.queue: asyncio.Queue[dict[str, Any] | str] = asyncio.Queue()  # str: sent raw
        self.sequence: dict[str, int] = {}
        self.sent: dict[str, tuple[Levels, Levels]] = {}
        self.depth_sent: dict[str, tuple[Levels, Levels]] = {}


def _pairs(levels: Levels) -> list[list[str]]:
    return [[p, a] for p, a in levels.items()]


def _levels(levels: tuple[Any, ...]) -> Levels:
    return {str(lv.price): str(lv.amount) for lv in levels}


def _diff(old: Levels, new: Levels) -> list[list[str]]:
    changed = [[p, a] for p, a in new.items() if old.get(p) != a]
    changed += [[p, "0"] for p in old if p not in new]
    return sorted(changed, key=lambda pa: Decimal(pa[0]))


class WebSocketHub:
    """Connections, their subscriptions, and the publisher task."""

    def __init__(
        self,
        engine: MatchingEngine,
        clock: Clock,
        *,
        interval_s: float,
        book_streams: frozenset[str] = BOOK_STREAM_KINDS,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.interval_s = interval_s
        self._conns: set[_Conn] = set()
        self._publisher: asyncio.Task[None] | None = None
        self.hold_books = False  # fault hook: no book snapshot goes out while set
        self.book_streams = book_streams  # the book kinds published: "ob", "depth"
        engine.listeners.append(self._on_event)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v2/websocket/public", self.handle),
            web.get("/api/v2/websocket/private", self.handle),
        ]

    async def shutdown(self, app: web.Application) -> None:
        if self.engine.listeners.count(self._on_event):
            self.engine.listeners.remove(self._on_event)
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        for conn in list(self._conns):
            await conn.ws.close()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = _Conn(ws, request.get(API_KEY))
        self._conns.add(conn)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_loop())
        sender = asyncio.create_task(self._send_loop(conn))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_message(conn, msg.data)
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._conns.discard(conn)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        return ws

    async def _send_loop(self, conn: _Conn) -> None:
        while True:
            message = await conn.queue.get()
            if conn.ws.closed:
                return
            try:
                await conn.ws.send_str(message if isinstance(message, str) else json.dumps(message))
            except ConnectionResetError:  # the client vanished (e.g. SIGKILLed) mid-stream
                return

    async def _on_message(self, conn: _Conn, data: str) -> None:
        try:
            msg = json.loads(data)
            event, streams = msg["event"], msg["streams"]
            if event not in ("subscribe", "unsubscribe") or not isinstance(streams, list):
                raise ValueError(event)
        except (ValueError, KeyError, TypeError):
            conn.queue.put_nowait({"error": {"message": "could not parse message"}})
            return
        allowed = [s for s in streams if isinstance(s, str) and self._allowed(conn, s)]
        if event == "unsubscribe":
            conn.streams -= set(allowed)
            conn.queue.put_nowait({"success": {"message": "unsubscribed", "streams": allowed}})
            return
        conn.streams |= set(allowed)
        conn.queue.put_nowait({"success": {"message": "subscribed", "streams": allowed}})
        for stream in allowed:
            market, _, kind = stream.rpartition(".")
            if kind in ("ob-snap", "ob-inc"):
                self._snapshot(conn, market)
            elif kind == "depth":
                conn.depth_sent.pop(market, None)  # a new subscriber gets a snapshot at once
                self._depth(conn, market)

    def _allowed(self, conn: _Conn, stream: str) -> bool:
        if stream in ("order", "trade", "balance"):
            return conn.key is not None
        if stream == "global.tickers":
            return True
        market, _, kind = stream.rpartition(".")
        known = {m.id for m in self.engine.markets()}
        return market in known and kind in ("trades", "ob-snap", "ob-inc", "depth")

    def inject_raw(self, frame: str) -> int:
        """Fault hook: queue ``frame`` as it is to every connection; return how many got it."""
        for conn in self._conns:
            conn.queue.put_nowait(frame)
        return len(self._conns)

    def release_books(self) -> None:
        """End ``hold_books``: send the snapshots held back to every book subscriber."""
        self.hold_books = False
        for conn in list(self._conns):
            for stream in sorted(conn.streams):
                market, _, kind = stream.rpartition(".")
                if kind in ("ob-snap", "ob-inc") and market not in conn.sent:
                    self._snapshot(conn, market)
                elif kind == "depth":
                    self._depth(conn, market)

    def _levels_of(self, market: str, kind: str) -> tuple[Levels, Levels] | None:
        """Return ``market``'s book to publish as ``kind``, or None (held, off, unknown)."""
        if self.hold_books or kind not in self.book_streams:
            return None
        try:
            book = self.engine.order_book(market, _DEPTH)
        except SimError:
            return None
        return _levels(book.bids), _levels(book.asks)

    def _depth(self, conn: _Conn, market: str) -> None:
        """Send a ``.depth`` snapshot unless the subscriber already has this book."""
        levels = self._levels_of(market, "depth")
        if levels is None or conn.depth_sent.get(market) == levels:
            return
        conn.depth_sent[market] = levels
        bids, asks = levels
        conn.queue.put_nowait({f"{market}.depth": {"asks": _pairs(asks), "bids": _pairs(bids)}})

    def _snapshot(self, conn: _Conn, market: str) -> None:
        levels = self._levels_of(market, "ob")
        if levels is None:
            return
        bids, asks = levels
        seq = conn.sequence.get(market, 0) + 1
        conn.sequence[market] = seq
        conn.sent[market] = (bids, asks)
        conn.queue.put_nowait(
            {
                f"{market}.ob-snap": {
                    "bids": _pairs(bids),
                    "asks": _pairs(asks),
                    "sequence": seq,
                }
            }
        )

    def _increment(self, conn: _Conn, market: str) -> None:
        book = self.engine.order_book(market, _DEPTH)
        bids, asks = _levels(book.bids), _levels(book.asks)
        old_bids, old_asks = conn.sent[market]
        bid_changes, ask_changes = _diff(old_bids, bids), _diff(old_asks, asks)
        if not bid_changes and not ask_changes:
            return
        seq = conn.sequence[market] + 1
        conn.sequence[market] = seq
        conn.sent[market] = (bids, asks)
        conn.queue.put_nowait(
            {f"{market}.ob-inc": {"bids": bid_changes, "asks": ask_changes, "sequence": seq}}
        )

    async def _publish_loop(self) -> None:
        while self._conns:
            await self.clock.sleep(self.interval_s)
            self.publish()

    def publish(self) -> None:
        """Push book increments, changed depth snapshots and tickers (the periodic step)."""
        tickers: dict[str, Any] | None = None
        for conn in list(self._conns):
            if "global.tickers" in conn.streams:
                if tickers is None:
                    tickers = {
                        m: peatio.ticker_json(t)["ticker"] for m, t in self.engine.tickers().items()
                    }
                conn.queue.put_nowait({"global.tickers": tickers})
            for market in list(conn.sent):
                if f"{market}.ob-inc" in conn.streams or f"{market}.ob-snap" in conn.streams:
                    self._increment(conn, market)
            for stream in sorted(conn.streams):
                market, _, kind = stream.rpartition(".")
                if kind == "depth":
                    self._depth(conn, market)

    def _on_event(self, key: str, event: SimEvent) -> None:
        if not self._conns:
            return
        if isinstance(event, SimTrade):
            stream = f"{event.market}.trades"
            message: dict[str, Any] = {stream: {"trades": [peatio.trade_json(event)]}}
            for conn in self._conns:
                if stream in conn.streams:
                    conn.queue.put_nowait(message)
            return
        if isinstance(event, SimOrder):
            stream, payload = "order", peatio.order_json(event)
        else:
            stream, payload = "trade", peatio.fill_json(event)
        for conn in self._conns:
            if conn.key == key and stream in conn.streams:
                conn.queue.put_nowait({stream: payload})
