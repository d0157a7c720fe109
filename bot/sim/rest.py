"""REST handlers of the simulator: SafeTrade paths under ``/api/v2``, Peatio shapes.

Raw request values are validated here in Peatio's order (market, side, type, volume, price)
and turned into engine calls; refusals travel as ``SimError`` to the error middleware.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.domain.orders import OrderType, Side
from bot.sim import peatio
from bot.sim.engine import NO_MARKET, NOT_FOUND, MatchingEngine
from bot.sim.records import CANCEL, DONE, REJECT, WAIT, SimError

API_KEY = web.RequestKey("sim.api_key", str)
_STATES = {WAIT, DONE, CANCEL, REJECT}


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

    def routes(self) -> list[web.RouteDef]:
        p = "/api/v2"
        return [
            web.get(f"{p}/trade/public/timestamp", self.timestamp),
            web.get(f"{p}/public/timestamp", self.timestamp),
            web.get(f"{p}/public/markets", self.markets),
            web.get(f"{p}/public/markets/tickers", self.tickers),
            web.get(f"{p}/public/markets/{{market}}/tickers", self.ticker),
            web.get(f"{p}/public/markets/{{market}}/order-book", self.order_book),
            web.get(f"{p}/public/markets/{{market}}/trades", self.public_trades),
            web.get(f"{p}/public/markets/{{market}}/k-line", self.k_line),
            web.get(f"{p}/trade/account/balances/spot", self.balances),
            web.get(f"{p}/trade/account/balances", self.balances),
            web.post(f"{p}/trade/market/orders", self.place_order),
            web.get(f"{p}/trade/market/orders", self.list_orders),
            web.post(f"{p}/trade/market/orders/cancel", self.cancel_all),
            web.get(f"{p}/trade/market/orders/{{id}}", self.get_order),
            web.get(f"{p}/trade/market/orders/{{id}}/trades", self.order_trades),
            web.post(f"{p}/trade/market/orders/{{id}}/cancel", self.cancel_order),
        ]

    # public

    async def timestamp(self, request: web.Request) -> web.Response:
        return web.json_response(peatio.iso_micro(self.clock.now()))

    async def markets(self, request: web.Request) -> web.Response:
        return web.json_response([peatio.market_json(m) for m in self.engine.markets()])

    async def tickers(self, request: web.Request) -> web.Response:
        tickers = self.engine.tickers()
        return web.json_response({m: peatio.ticker_json(t) for m, t in tickers.items()})

    async def ticker(self, request: web.Request) -> web.Response:
        return web.json_response(
            peatio.ticker_json(self.engine.ticker(request.match_info["market"]))
        )

    async def order_book(self, request: web.Request) -> web.Response:
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

    async def public_trades(self, request: web.Request) -> web.Response:
        limit = _int_param(request, "limit", 100, low=1, high=1000)
        trades = self.engine.public_trades(request.match_info["market"], limit)
        return web.json_response([peatio.trade_json(t) for t in trades])

    async def k_line(self, request: web.Request) -> web.Response:
        market = request.match_info["market"]
        now = int(self.clock.time())
        period = _int_param(request, "period", 1, low=1, high=10080)
        time_to = _int_param(request, "time_to", now, low=0, high=2**40)
        time_from = _int_param(request, "time_from", time_to - period * 60 * 30, low=0, high=2**40)
        candles = self.engine.candles(market, period, time_from, time_to)
        return web.json_response([peatio.candle_json(c) for c in candles])

    # private

    async def balances(self, request: web.Request) -> web.Response:
        balances = self.engine.balances(request[API_KEY])
        return web.json_response(
            [
                {"currency": b.currency, "balance": str(b.available), "locked": str(b.locked)}
                for b in balances
            ]
        )

    async def place_order(self, request: web.Request) -> web.Response:
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
        q = request.query
        market = q.get("market") or None
        if market is not None and market not in {m.id for m in self.engine.markets()}:
            raise SimError(422, NO_MARKET)
        state = q.get("state") or None
        if state is not None and state not in _STATES:
            raise SimError(422, "market.order.invalid_state")
        page = _int_param(request, "page", 1, low=1, high=2**31)
        limit = _int_param(request, "limit", 100, low=1, high=1000)
        orders = self.engine.list_orders(
            request[API_KEY],
            market=market,
            state=state,
            page=page,
            limit=limit,
            client_id=q.get("client_id") or None,
        )
        return web.json_response([peatio.order_json(o) for o in orders])

    async def get_order(self, request: web.Request) -> web.Response:
        order = self.engine.get_order(request[API_KEY], _order_id(request))
        return web.json_response(peatio.order_json(order))

    async def order_trades(self, request: web.Request) -> web.Response:
        fills = self.engine.order_fills(request[API_KEY], _order_id(request))
        return web.json_response([peatio.fill_json(f) for f in fills])

    async def cancel_order(self, request: web.Request) -> web.Response:
        order = self.engine.cancel_order(request[API_KEY], _order_id(request))
        return web.json_response(peatio.order_json(order), status=201)

    async def cancel_all(self, request: web.Request) -> web.Response:
        body = await _body(request)
        market = body.get("market") or request.query.get("market") or None
        if market is not None and market not in {m.id for m in self.engine.markets()}:
            raise SimError(422, NO_MARKET)
        cancelled = self.engine.cancel_all(request[API_KEY], market)
        return web.json_response([peatio.order_json(o) for o in cancelled], status=201)
