"""The three families of SafeTrade REST paths the simulator serves, all from one engine.

- ``trade`` (what most public clients of the live exchange call): ``/trade/public/...``,
  flat tickers, depth as pairs, ``members/me``, ``/trade/market/trades?order_id=``.
- ``peatio`` (legacy, still cited): ``/peatio/public/...`` with wrapped tickers and private
  paths under ``/peatio/account`` and ``/peatio/market``.
- ``seed`` (the seed document's): ``/public/markets...`` and the order-book route; its private
  paths are the ``trade`` family's plus ``/orders/{id}/trades``.

A path that two selected families share is registered once. Paths are relative to
``API_PREFIX``; each family's table below is the one source of the router and of
``swagger.json``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

from aiohttp import web

from bot.sim import swagger
from bot.sim.rest import RestApi

API_PREFIX = "/api/v2"
FAMILIES = ("trade", "peatio", "seed")  # in the order their routes are registered
PRIVATE_PREFIXES = ("/trade/account/", "/trade/market/", "/peatio/account/", "/peatio/market/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RouteRow = tuple[str, str, Handler]


@dataclass(frozen=True, slots=True)
class Route:
    """One served route: method, path template under ``API_PREFIX``, the families serving it."""

    method: str
    path: str
    handler: Handler
    families: frozenset[str]

    @property
    def private(self) -> bool:
        return self.path.startswith(PRIVATE_PREFIXES)


SERVED = web.AppKey("sim.routes", tuple[Route, ...])


async def swagger_json(request: web.Request) -> web.Response:
    """This document: every route the simulator serves, Swagger 2.0."""
    served: tuple[Route, ...] = request.app[SERVED]
    return web.json_response(swagger.document(served, API_PREFIX))


def _trade(api: RestApi) -> list[RouteRow]:
    pub, m, orders = "/trade/public", "/trade/public/markets/{market}", "/trade/market/orders"
    return [
        ("GET", f"{pub}/timestamp", api.timestamp),
        ("GET", f"{pub}/markets", api.markets),
        ("GET", m, api.market),
        ("GET", f"{pub}/tickers", api.flat_tickers),
        ("GET", f"{pub}/tickers/{{market}}", api.flat_ticker),
        ("GET", f"{m}/depth", api.depth),
        ("GET", f"{m}/trades", api.public_trades),
        ("GET", f"{m}/k-line", api.k_line),
        ("GET", f"{pub}/currencies", api.currencies),
        ("GET", f"{pub}/currencies/{{id}}", api.currency),
        ("GET", f"{pub}/trading_fees", api.trading_fees),
        ("GET", f"{pub}/swagger.json", swagger_json),
        ("GET", "/trade/account/members/me", api.member),
        ("GET", "/trade/account/balances/spot", api.balances),
        ("POST", orders, api.place_order),
        ("GET", orders, api.list_orders),
        ("POST", f"{orders}/cancel", api.cancel_all),
        ("GET", f"{orders}/{{id}}", api.get_order),
        ("POST", f"{orders}/{{id}}/cancel", api.cancel_order),
        ("GET", "/trade/market/trades", api.account_trades),
    ]


def _peatio(api: RestApi) -> list[RouteRow]:
    pub, m, orders = "/peatio/public", "/peatio/public/markets/{market}", "/peatio/market/orders"
    return [
        ("GET", f"{pub}/timestamp", api.timestamp),
        ("GET", f"{pub}/markets", api.markets),
        ("GET", f"{pub}/markets/tickers", api.tickers),  # before {market}, which would match it
        ("GET", m, api.market),
        ("GET", f"{m}/tickers", api.ticker),
        ("GET", f"{pub}/tickers/{{market}}", api.ticker),
        ("GET", f"{m}/depth", api.depth),
        ("GET", f"{m}/trades", api.public_trades),
        ("GET", f"{m}/k-line", api.k_line),
        ("GET", f"{pub}/swagger.json", swagger_json),
        ("GET", "/peatio/account/members/me", api.member),
        ("GET", "/peatio/account/balances", api.balances),
        ("POST", orders, api.place_order),
        ("GET", orders, api.list_orders),
        ("POST", f"{orders}/cancel", api.cancel_all),
        ("GET", f"{orders}/{{id}}", api.get_order),
        ("POST", f"{orders}/{{id}}/cancel", api.cancel_order),
        ("GET", "/peatio/market/trades", api.account_trades),
    ]


def _seed(api: RestApi) -> list[RouteRow]:
    pub, m, orders = "/public", "/public/markets/{market}", "/trade/market/orders"
    return [
        ("GET", f"{pub}/timestamp", api.timestamp),
        ("GET", f"{pub}/markets", api.markets),
        ("GET", f"{pub}/markets/tickers", api.tickers),
        ("GET", f"{m}/tickers", api.ticker),
        ("GET", f"{m}/order-book", api.order_book),
        ("GET", f"{m}/trades", api.public_trades),
        ("GET", f"{m}/k-line", api.k_line),
        ("GET", f"{pub}/swagger.json", swagger_json),
        ("GET", "/trade/account/balances/spot", api.balances),
        ("GET", "/trade/account/balances", api.balances),
        ("POST", orders, api.place_order),
        ("GET", orders, api.list_orders),
        ("POST", f"{orders}/cancel", api.cancel_all),
        ("GET", f"{orders}/{{id}}", api.get_order),
        ("GET", f"{orders}/{{id}}/trades", api.order_trades),
        ("POST", f"{orders}/{{id}}/cancel", api.cancel_order),
    ]


def family_tables(api: RestApi) -> dict[str, list[RouteRow]]:
    """Return each family's routes as ``(method, path, handler)``, bound to ``api``."""
    return {"trade": _trade(api), "peatio": _peatio(api), "seed": _seed(api)}


def parse_families(text: str) -> frozenset[str]:
    """Return the families in a comma list (``"trade,peatio,seed"``).

    Raises:
        ValueError: an unknown family, or none at all.
    """
    return check_families({f.strip() for f in text.split(",")} - {""})


def check_families(families: Iterable[str]) -> frozenset[str]:
    """Return ``families`` as a set after checking it.

    Raises:
        ValueError: an unknown family, or none at all.
    """
    chosen = frozenset(families)
    unknown = chosen - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown API families {sorted(unknown)}; use {', '.join(FAMILIES)}")
    if not chosen:
        raise ValueError(f"no API family chosen; use one or more of {', '.join(FAMILIES)}")
    return chosen


def select(api: RestApi, families: Iterable[str] | None = None) -> tuple[Route, ...]:
    """Return the routes of ``families`` (None: all), a path shared by two of them once.

    Raises:
        ValueError: an unknown family, or none at all.
    """
    chosen = frozenset(FAMILIES) if families is None else check_families(families)
    merged: dict[tuple[str, str], Route] = {}
    for family, rows in family_tables(api).items():
        if family not in chosen:
            continue
        for method, path, handler in rows:
            seen = merged.get((method, path))
            if seen is None:
                merged[method, path] = Route(method, path, handler, frozenset({family}))
            elif seen.handler != handler:
                raise ValueError(f"{method} {path}: two families give it different handlers")
            else:
                merged[method, path] = replace(seen, families=seen.families | {family})
    return tuple(merged.values())


def route_defs(routes: Iterable[Route]) -> list[web.RouteDef]:
    """Return the aiohttp route definitions of ``routes`` under ``API_PREFIX`` (GET allows HEAD)."""
    return [
        web.get(API_PREFIX + r.path, r.handler)
        if r.method == "GET"
        else web.route(r.method, API_PREFIX + r.path, r.handler)
        for r in routes
    ]
