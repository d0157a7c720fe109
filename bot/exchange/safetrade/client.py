"""``SafeTradeClient``: the ``Exchange`` port over SafeTrade's REST API.

Requests go through a ``TransportSwitch`` (aiohttp or curl_cffi) to the path of the API family
that serves each capability (``routes.Router``); every private request re-signed with a fresh
nonce corrected to the server clock; a token bucket before every request; idempotent reads
retried with capped, jittered back-off; order writes never retried. An order POST whose
outcome is unknown raises ``OrderOutcomeUnknown`` and is resolved by ``find_order``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from pydantic import SecretStr

from bot.clock import Clock
from bot.domain.balances import Balance
from bot.domain.market import Candle, Market, OrderBook, PublicTrade, Ticker
from bot.domain.orders import Fill, Order, OrderRequest, OrderState
from bot.exchange.errors import (
    AuthError,
    ExchangeBlocked,
    ExchangeUnavailable,
    MalformedResponse,
    NotFound,
    OrderOutcomeUnknown,
    RateLimited,
    TransientError,
)
from bot.exchange.ratelimit import TokenBucket
from bot.exchange.retry import RetryPolicy
from bot.exchange.safetrade import endpoints as ep
from bot.exchange.safetrade import wire, wire_meta
from bot.exchange.safetrade.auth import NonceSource, auth_headers
from bot.exchange.safetrade.errors import blocked_error, error_codes, map_error
from bot.exchange.safetrade.profiles import (
    ORDER_TRADES_ID,
    Capability,
    Family,
    Profile,
)
from bot.exchange.safetrade.routes import Params, Router, Routes
from bot.exchange.safetrade.sent_orders import SentOrders
from bot.exchange.safetrade.transport import Transport, TransportError, TransportSwitch

log = structlog.get_logger()

_MAX_PAGES = 50
NONCE_RETRIES = 3  # re-signed sends after a refused nonce before giving up


class NonceRejected(AuthError):
    """The server refused the nonce (clock drift or reordering); the request did not run."""


def _plain(value: Decimal) -> str:
    """Render a Decimal without exponent notation (``1E-8`` → ``0.00000001``)."""
    return format(value, "f")


def _reveal(value: SecretStr | str | None) -> str | None:
    if value is None:
        return None
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class SafeTradeClient:
    """Speak SafeTrade REST; implements the ``Exchange`` Protocol."""

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | str | None,
        api_secret: SecretStr | str | None,
        *,
        clock: Clock,
        rng: random.Random,
        timeout_s: float = 10.0,
        rate_limit_per_s: float = 8.0,
        rate_burst: float | None = None,
        retry: RetryPolicy | None = None,
        transport: TransportSwitch | None = None,
        http_client: str = "aiohttp",
        time_sync_interval_s: float = 600.0,
        max_body_bytes: int = 8 * 1024 * 1024,
        find_scan_pages: int = 3,
        user_agent: str = ep.USER_AGENT,
        profile: Family | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        key = _reveal(api_key)
        self._api_key = key
        self._api_secret = SecretStr(_reveal(api_secret) or "") if api_secret else None
        self._clock = clock
        self._limiter = TokenBucket(clock, rate_limit_per_s, burst=rate_burst)
        self.retry = retry or RetryPolicy(clock, rng)
        self._owns_transport = transport is None
        # shared with the stream when given (closed by its owner), else the client's own
        self.transport = transport or TransportSwitch(http_client, timeout_s)
        self.rate_limit_headers: dict[str, str] = {}  # last seen, for ``sellbot doctor``
        self.nonces = NonceSource(clock)
        self._sync_interval_s = time_sync_interval_s
        self._synced_at: float | None = None
        self._sync_lock = asyncio.Lock()
        self._max_body = max_body_bytes
        self._scan_pages = find_scan_pages
        self.user_agent = user_agent  # a default client User-Agent invites a challenge
        self.sent = SentOrders()  # what we sent: attributes orders that lack our client id
        self.router = Router(Routes(profile), self._get_for_router)

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def has_credentials(self) -> bool:
        return bool(self._api_key and self._api_secret)

    def _auth(self) -> dict[str, str]:
        if self._api_key is None or self._api_secret is None:
            raise AuthError("no API key configured for a private request")
        nonce = self.nonces.next()
        return auth_headers(self._api_key, self._api_secret.get_secret_value(), nonce)

    async def _send(
        self, method: str, path: str, *, params: Params | None, body: Any, private: bool
    ) -> Any:
        """Send one request and return its decoded JSON body.

        Not retried, except a read answered by a challenge that moved the transport to
        curl_cffi (``auto``): that read is sent once more, on the new transport. A write is
        never sent twice: its caller resolves the outcome by lookup.
        """
        while True:
            transport = self.transport.current()
            try:
                return await self._send_once(transport, method, path, params, body, private)
            except ExchangeBlocked as e:
                if e.reason != ep.REASON_CHALLENGE or not self.transport.on_challenge():
                    raise
                if method != "GET":
                    raise

    async def _send_once(
        self,
        transport: Transport,
        method: str,
        path: str,
        params: Params | None,
        body: Any,
        private: bool,
    ) -> Any:
        await self._limiter.acquire()
        headers = {ep.HEADER_USER_AGENT: self.user_agent, **(self._auth() if private else {})}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        started = self._clock.monotonic()
        try:
            reply = await transport.request(
                method,
                self.base_url + path,
                params=params,
                data=data,
                headers=headers,
                max_body=self._max_body,
            )
        except TransportError as e:
            log.info("exchange_request_failed", method=method, path=path, error=e.error)
            raise ExchangeUnavailable(f"{method} {path}: {e.error}") from e
        status, raw = reply.status, reply.body
        log.debug(
            "exchange_request",
            method=method,
            path=path,
            status=status,
            transport=transport.name,
            elapsed_ms=round((self._clock.monotonic() - started) * 1000, 1),
        )
        self._note_rate_limits(reply.headers)
        if 200 <= status < 300:
            blocked = blocked_error(status, raw, reply.headers)  # a 200 challenge page
            if blocked is not None:
                raise blocked
            return wire.parse_json(raw)
        if status == 401 and ep.NONCE_CODES & set(error_codes(raw)):
            raise NonceRejected(f"HTTP 401: {', '.join(sorted(ep.NONCE_CODES))}")
        raise map_error(status, raw, reply.headers, now=self._clock.now())

    def _note_rate_limits(self, headers: Mapping[str, str]) -> None:
        for name, value in headers.items():
            lowered = name.lower()
            if "ratelimit" in lowered or lowered == "retry-after":
                self.rate_limit_headers[lowered] = value[:64]

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        private: bool = False,
    ) -> Any:
        """Send once; a refused nonce (the request did not run) is re-signed and sent again.

        Concurrent requests can reach the server out of nonce order (one is delayed on the
        way), so a refusal is retried with a fresh nonce up to ``NONCE_RETRIES`` times; the
        first refusal also re-syncs the clock offset. Safe for order writes too: a request
        refused at authentication never ran.
        """
        if private:
            await self._ensure_time_synced()
        refused = 0
        while True:
            try:
                return await self._send(method, path, params=params, body=body, private=private)
            except NonceRejected:
                refused += 1
                if refused > NONCE_RETRIES:
                    raise
                log.warning("exchange_nonce_rejected", path=path, attempt=refused)
                if refused == 1:
                    await self.sync_time()

    async def _get(self, path: str, *, params: Params | None = None, private: bool = False) -> Any:
        return await self.retry.run(
            lambda: self._call("GET", path, params=params, private=private), name=path
        )

    # --- server time ------------------------------------------------------------------------

    async def sync_time(self) -> float:
        """Measure the server clock offset (seconds) and use it for nonces from now on."""
        async with self._sync_lock:
            sent = self._clock.time()
            server = await self.server_time()
            received = self._clock.time()
            offset = server.timestamp() - (sent + received) / 2
            self.nonces.set_offset(offset)
            self._synced_at = self._clock.monotonic()
        log.info("exchange_time_synced", offset_ms=round(offset * 1000, 1))
        return offset

    async def _ensure_time_synced(self) -> None:
        due = self._synced_at is None or (
            self._clock.monotonic() - self._synced_at >= self._sync_interval_s
        )
        if not due:
            return
        try:
            await self.sync_time()
        except (TransientError, MalformedResponse, NotFound) as e:
            # keep the last offset; a refused nonce forces another sync anyway
            self._synced_at = self._clock.monotonic()
            log.warning("exchange_time_sync_failed", error=type(e).__name__)

    # --- routing ----------------------------------------------------------------------------

    @property
    def routes(self) -> Routes:
        """Which API family serves each capability (fixed, or discovered so far)."""
        return self.router.routes

    async def _get_for_router(self, path: str, params: Params | None, private: bool) -> Any:
        return await self._get(path, params=params, private=private)

    async def member(self) -> dict[str, Any]:
        """``members/me``: who the key belongs to (for ``sellbot doctor``)."""
        return await self.router.get(Capability.MEMBER, wire_meta.parse_member)

    async def swagger(self) -> dict[str, Any]:
        """The exchange's own API description, from the first family that serves one."""
        return await self.router.get(Capability.SWAGGER, wire_meta.parse_swagger)

    # --- public market data -----------------------------------------------------------------

    async def server_time(self) -> datetime:
        return await self.router.get(Capability.TIMESTAMP, wire.parse_server_time)

    async def markets(self) -> list[Market]:
        return await self.router.get(Capability.MARKETS, wire.parse_markets)

    async def tickers(self) -> dict[str, Ticker]:
        now = self._clock.now()
        return await self.router.get(Capability.TICKERS, lambda raw: wire.parse_tickers(raw, now))

    async def ticker(self, market: str) -> Ticker:
        now = self._clock.now()
        return await self.router.get(
            Capability.TICKER, lambda raw: wire.parse_ticker(raw, market, now), market=market
        )

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        return await self.router.get(
            Capability.BOOK,
            lambda raw: wire.parse_order_book(raw, market, depth),
            market=market,
            params=lambda p: dict.fromkeys(p.book_limit_params, depth),
        )

    async def public_trades(self, market: str, limit: int = 100) -> list[PublicTrade]:
        return await self.router.get(
            Capability.PUBLIC_TRADES,
            lambda raw: wire.parse_public_trades(raw, market),
            market=market,
            params=lambda _: {ep.TRADES_LIMIT: limit},
        )

    async def candles(
        self, market: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]:
        params = {ep.KLINE_PERIOD: period_min, ep.KLINE_FROM: time_from, ep.KLINE_TO: time_to}
        return await self.router.get(
            Capability.K_LINE, wire.parse_candles, market=market, params=lambda _: params
        )

    # --- private reads ----------------------------------------------------------------------

    async def balances(self) -> list[Balance]:
        return await self.router.get(Capability.BALANCES, wire.parse_balances)

    async def get_order(self, order_id: str) -> Order:
        order = await self.router.get(Capability.ORDER, wire.parse_order, order_id=order_id)
        return self.sent.with_client_id(order)

    async def orders(
        self,
        market: str | None = None,
        state: OrderState | None = None,
        *,
        page: int = 1,
        limit: int = 100,
    ) -> list[Order]:
        params: dict[str, str | int] = {ep.LIST_PAGE: page, ep.LIST_LIMIT: limit}
        if market is not None:
            params[ep.LIST_MARKET] = market
        if state is not None and state not in ep.STATE_QUERY:
            raise ValueError(f"the exchange has no orders in local state {state}")

        def query(profile: Profile) -> Params:
            if state is None:
                return params
            states = ep.STATE_QUERY[state]
            return params | {
                ep.LIST_STATE: ",".join(states if profile.comma_states else states[:1])
            }

        raw = await self.router.get(Capability.ORDERS, wire.parse_orders, params=query)
        return [self.sent.with_client_id(o) for o in raw]

    async def open_orders(self, market: str | None = None) -> list[Order]:
        found: list[Order] = []
        for page in range(1, _MAX_PAGES + 1):
            batch = await self.orders(market, OrderState.OPEN, page=page, limit=ep.LIST_MAX_LIMIT)
            found.extend(batch)
            if len(batch) < ep.LIST_MAX_LIMIT:
                break
        return found

    async def order_trades(self, order_id: str) -> list[Fill]:
        def mine(raw: Any) -> list[Fill]:
            # a ``/market/trades?order_id=`` that ignored the filter must not lend us fills
            return [f for f in wire.parse_fills(raw) if f.order_id == order_id]

        return await self.router.get(
            Capability.ORDER_TRADES,
            mine,
            order_id=order_id,
            params=lambda p: {ORDER_TRADES_ID: order_id} if p.order_trades_by_query else {},
        )

    # --- writes -----------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        """Place an order once; never re-sent.

        Raises:
            OrderOutcomeUnknown: timeout, connection failure, 5xx, malformed answer or a block
                page; the order may exist: resolve with ``find_order(market, client_id)``.
            InsufficientBalance, InvalidOrder, AuthError, RateLimited: refused, not placed.
        """
        body = {
            ep.ORDER_MARKET: request.market,
            ep.ORDER_SIDE: request.side.value,
            ep.ORDER_TYPE: request.type.value,
            ep.ORDER_AMOUNT: _plain(request.amount),
            ep.ORDER_CLIENT_ID: request.client_id,
        }
        if request.price is not None:
            body[ep.ORDER_PRICE] = _plain(request.price)
        path = (await self.router.private_profile()).path(
            Capability.ORDERS
        )  # a read: never a probe POST
        self.sent.remember(request, self._clock.now())
        try:
            order = wire.parse_order(await self._call("POST", path, body=body, private=True))
        except RateLimited:
            raise
        except (TransientError, MalformedResponse, ExchangeBlocked) as e:
            log.warning(
                "order_outcome_unknown", client_id=request.client_id, error=type(e).__name__
            )
            raise OrderOutcomeUnknown(str(e), client_id=request.client_id) from e
        order = self.sent.attribute(order, request.client_id)
        log.info("order_placed", client_id=request.client_id, order_id=order.id)
        return order

    async def cancel_order(self, order_id: str) -> Order:
        path = (await self.router.private_profile()).path(Capability.CANCEL, order_id=order_id)
        raw = await self._call("POST", path, private=True)
        return self.sent.with_client_id(wire.parse_order(raw))

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        body = {ep.CANCEL_ALL_MARKET: market} if market is not None else None
        path = (await self.router.private_profile()).path(Capability.CANCEL_ALL)
        raw = await self._call("POST", path, body=body, private=True)
        return [self.sent.with_client_id(o) for o in wire.parse_orders(raw)]

    # --- resolving unknown outcomes ---------------------------------------------------------

    async def find_order(self, market: str, client_id: str) -> Order | None:
        """Return our order with ``client_id`` on ``market``, or None if none exists.

        Asks the exchange to filter by client id, then scans the market's recent orders (an
        exchange may ignore the filter or not store client ids; then an order is matched by
        the side, type, amount and price we sent, close to when we sent it).
        """
        params: dict[str, str | int] = {ep.LIST_MARKET: market, ep.LIST_CLIENT_ID: client_id}
        listed = await self.router.get(
            Capability.ORDERS, wire.parse_orders, params=lambda _: params
        )
        found = next((o for o in listed if o.client_id == client_id), None)
        for page in range(1, self._scan_pages + 1):
            if found is not None:
                break
            batch = await self.orders(market, page=page, limit=ep.LIST_MAX_LIMIT)
            found = next((o for o in batch if o.client_id == client_id), None)
            found = found or self.sent.match_by_shape(client_id, batch)
            if len(batch) < ep.LIST_MAX_LIMIT:
                break
        if found is not None:
            found = self.sent.attribute(found, client_id)
        log.info("order_lookup", client_id=client_id, found=found is not None)
        return found

    # --- lifecycle --------------------------------------------------------------------------

    async def close(self) -> None:
        if self._owns_transport:
            await self.transport.close()

    async def __aenter__(self) -> SafeTradeClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
