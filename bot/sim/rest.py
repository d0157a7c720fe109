"""REST handlers of the simulator, shared by the three path families (see ``routes.py``).

Raw request values are validated here in Peatio's order (market, side, type, volume, price)
and turned into engine calls; refusals travel as ``SimError`` to the error middleware. A
handler's docstring is its summary in ``swagger.json``.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.domain.orders import OrderType, Side
from bot.sim import peatio
from bot.sim.engine import NO_MARKET, NOT_FOUND, MatchingEngine
from bot.sim.records import CANCEL, DONE, REJECT, WAIT, SimError

API_KEY = web.RequestKey("sim.api_key", str)
# ``pending`` is a Peatio state the engine never holds (orders rest at once): it matches nothing
_STATES = frozenset({"pending", WAIT, DONE, CANCEL, REJECT})


def _decimal(raw: Any, code: str) -> Decimal:
    if isinstance(raw, bool) or raw is None or isinstance(raw, dict | list):
        raise SimError(422, code)
    try:
        value = Decimal(str(raw))
    except InvalidOperation as e:
        raise SimError(422, code) from e
    if not value.is_finite():
        raise SimError(422, code)
    return value


def _int_param(request: web.Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise SimError(422, f"market.order.invalid_{name}")
    return max(low, min(high, int(raw)))


def _order_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise SimError(404, NOT_FOUND)
    return int(raw)


def _states(raw: str | None) -> frozenset[str] | None:
    """Parse ``state=`` as one state or a comma list (any of them)."""
    if not raw:
        return None
    states = frozenset(s.strip() for s in raw.split(","))
    if not states <= _STATES:
        raise SimError(422, "market.order.invalid_state")
    return states


def member_uid(api_key: str) -> str:
    """Return a stable Barong-style uid for ``api_key``, from which the key cannot be read."""
    digest = hashlib.sha256(f"sim-member:{api_key}".encode()).hexdigest()
    return f"ID{digest[:10].upper()}"


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return dict(request.query)
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError as e:
            raise SimError(400, "server.method.invalid_message_body") from e
        if not isinstance(data, dict):
            raise SimError(400, "server.method.invalid_message_body")
        return data
    return dict(await request.post())


class RestApi:
    """Handlers bound to one engine."""

    def __init__(self, engine: MatchingEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def _market_id(self, raw: object) -> str | None:
        """Return the ``market`` filter (None when absent), refusing an unknown one."""
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str) or raw not in {m.id for m in self.engine.markets()}:
            raise SimError(422, NO_MARKET)
        return raw

    # public

    async def timestamp(self, request: web.Request) -> web.Response:
        """Server time, ISO-8601."""
        return web.json_response(peatio.iso_micro(self.clock.now()))

    async def markets(self, request: web.Request) -> web.Response:
        """All markets."""
        return web.json_response([peatio.market_json(m) for m in self.engine.markets()])

    async def market(self, request: web.Request) -> web.Response:
        """One market."""
        return web.json_response(
            peatio.market_json(self.engine.market(request.match_info["market"]))
        )

    async def tickers(self, request: web.Request) -> web.Response:
        """All tickers, each wrapped: ``{market: {"at", "ticker"}}``."""
        tickers = self.engine.tickers()
        return web.json_response({m: peatio.ticker_json(t) for m, t in tickers.items()})

    async def ticker(self, request: web.Request) -> web.Response:
        """One ticker, wrapped: ``{"at", "ticker"}``."""
        ticker = self.engine.ticker(request.match_info["market"])
        return web.json_response(peatio.ticker_json(ticker))

    async def flat_tickers(self, request: web.Request) -> web.Response:
        """All tickers, flat: ``{market: ticker}``."""
        tickers = self.engine.tickers()
        return web.json_response({m: peatio.ticker_fields(t) for m, t in tickers.items()})

    async def flat_ticker(self, request: web.Request) -> web.Response:
        """One ticker, flat."""
        ticker = self.engine.ticker(request.match_info["market"])
        return web.json_response(peatio.ticker_fields(ticker))

    async def order_book(self, request: web.Request) -> web.Response:
        """Order book as Peatio order objects (``limit``, ``asks_limit``, ``bids_limit``)."""
        market = request.match_info["market"]
        depth = _int_param(request, "limit", 50, low=1, high=1000)
        asks_limit = _int_param(request, "asks_limit", depth, low=1, high=1000)
        bids_limit = _int_param(request, "bids_limit", depth, low=1, high=1000)
        book = self.engine.order_book(market, max(asks_limit, bids_limit))
        at = self.clock.time()
        return web.json_response(
            {
                "asks": [
                    peatio.level_json(market, "sell", lv.price, lv.amount, at)
                    for lv in book.asks[:asks_limit]
                ],
                "bids": [
                    peatio.level_json(market, "buy", lv.price, lv.amount, at)
                    for lv in book.bids[:bids_limit]
                ],
            }
        )

    async def depth(self, request: web.Request) -> web.Response:
        """Order book as ``["price", "amount"]`` pairs (``limit`` per side, default 50)."""
        limit = _int_param(request, "limit", 50, low=1, high=1000)
        book = self.engine.order_book(request.match_info["market"], limit)
        return web.json_response(peatio.depth_json(book, limit, self.clock.time()))

    async def public_trades(self, request: web.Request) -> web.Response:
        """Recent public trades, newest first (``limit``)."""
        limit = _int_param(request, "limit", 100, low=1, high=1000)
        trades = self.engine.public_trades(request.match_info["market"], limit)
        return web.json_response([peatio.trade_json(t) for t in trades])

    async def k_line(self, request: web.Request) -> web.Response:
        """Candles ``[ts, open, high, low, close, volume]`` (``period`` in minutes)."""
        market = request.match_info["market"]
        now = int(self.clock.time())
        period = _int_param(request, "period", 1, low=1, high=10080)
        time_to = _int_param(request, "time_to", now, low=0, high=2**40)
        time_from = _int_param(request, "time_from", time_to - period * 60 * 30, low=0, high=2**40)
        limit = _int_param(request, "limit", 0, low=1, high=10_000)
        candles = self.engine.candles(market, period, time_from, time_to)
        if limit:
            candles = candles[-limit:]
        return web.json_response([peatio.candle_json(c) for c in candles])

    def _currencies(self) -> list[str]:
        markets = self.engine.markets()
        return sorted({m.base for m in markets} | {m.quote for m in markets})

    async def currencies(self, request: web.Request) -> web.Response:
        """Every currency of the markets (shape assumed)."""
        return web.json_response([peatio.currency_json(c) for c in self._currencies()])

    async def currency(self, request: web.Request) -> web.Response:
        """One currency with ``price``: its last price in usdt, null without a usdt market."""
        currency = request.match_info["id"]
        if currency not in self._currencies():
            raise SimError(404, NOT_FOUND)
        usdt_market = f"{currency}usdt"
        known = {m.id for m in self.engine.markets()}
        price = str(self.engine.ticker(usdt_market).last) if usdt_market in known else None
        return web.json_response(peatio.currency_json(currency) | {"price": price})

    async def trading_fees(self, request: web.Request) -> web.Response:
        """The fee schedule: maker and taker rates of every market."""
        return web.json_response(peatio.fees_json(*self.engine.fee_rates()))

    # private

    async def member(self, request: web.Request) -> web.Response:
        """The account's profile (shape assumed)."""
        return web.json_response(peatio.member_json(member_uid(request[API_KEY])))

    async def balances(self, request: web.Request) -> web.Response:
        """The account's balances."""
        balances = self.engine.balances(request[API_KEY])
        return web.json_response(
            [
                {
                    "currency": b.currency,
                    "balance": str(b.available),
                    "locked": str(b.locked),
                    "available": str(b.available),
                }
                for b in balances
            ]
        )

    async def place_order(self, request: web.Request) -> web.Response:
        """Place an order (``market``, ``side``, ``type``, ``amount``, ``price``)."""
        body = await _body(request)
        market = body.get("market")
        if not isinstance(market, str) or market not in {m.id for m in self.engine.markets()}:
            raise SimError(422, NO_MARKET)
        side = body.get("side")
        if side not in ("buy", "sell"):
            raise SimError(422, "market.order.invalid_side")
        kind = body.get("type", body.get("ord_type", "limit"))
        if kind not in ("limit", "market"):
            raise SimError(422, "market.order.invalid_type")
        amount = _decimal(body.get("amount", body.get("volume")), "market.order.non_decimal_volume")
        raw_price = body.get("price")
        price: Decimal | None = None
        if kind == "limit":
            price = _decimal(raw_price, "market.order.non_decimal_price")
        elif raw_price not in (None, ""):
            raise SimError(422, "market.order.market_order_price")
        client_id = body.get("client_id")
        if client_id is not None and (
            not isinstance(client_id, str) or not 0 < len(client_id) <= 36
        ):
            raise SimError(422, "market.order.invalid_client_id")
        order = self.engine.place_order(
            request[API_KEY], market, Side(side), OrderType(kind), amount, price, client_id
        )
        return web.json_response(peatio.order_json(order), status=201)

    async def list_orders(self, request: web.Request) -> web.Response:
        """The account's orders, newest first (``market``, ``state`` comma list, paged)."""
        q = request.query
        market = self._market_id(q.get("market"))
        states = _states(q.get("state"))
        page = _int_param(request, "page", 1, low=1, high=2**31)
        limit = _int_param(request, "limit", 100, low=1, high=1000)
        orders = self.engine.list_orders(
            request[API_KEY],
            market=market,
            state=states,
            page=page,
            limit=limit,
            client_id=q.get("client_id") or None,
        )
        return web.json_response([peatio.order_json(o) for o in orders])

    async def get_order(self, request: web.Request) -> web.Response:
        """One of the account's orders."""
        order = self.engine.get_order(request[API_KEY], _order_id(request))
        return web.json_response(peatio.order_json(order))

    async def order_trades(self, request: web.Request) -> web.Response:
        """The fills of one order, oldest first."""
        fills = self.engine.order_fills(request[API_KEY], _order_id(request))
        return web.json_response([peatio.fill_json(f) for f in fills])

    async def account_trades(self, request: web.Request) -> web.Response:
        """The account's fills, newest first (``market``, ``order_id``, paged)."""
        market = self._market_id(request.query.get("market"))
        order_id = _int_param(request, "order_id", 0, low=1, high=2**63)
        page = _int_param(request, "page", 1, low=1, high=2**31)
        limit = _int_param(request, "limit", 100, low=1, high=1000)
        fills = self.engine.account_fills(
            request[API_KEY], market=market, order_id=order_id or None, page=page, limit=limit
        )
        return web.json_response([peatio.fill_json(f) for f in fills])

    async def cancel_order(self, request: web.Request) -> web.Response:
        """Cancel one order."""
        order = self.engine.cancel_order(request[API_KEY], _order_id(request))
        return web.json_response(peatio.order_json(order), status=201)

    async def cancel_all(self, request: web.Request) -> web.Response:
        """Cancel every open order (of ``market`` if given)."""
        body = await _body(request)
        market = self._market_id(body.get("market") or request.query.get("market"))
        cancelled = self.engine.cancel_all(request[API_KEY], market)
        return web.json_response([peatio.order_json(o) for o in cancelled], status=201)
