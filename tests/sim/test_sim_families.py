"""The simulator's three REST path families over real HTTP, from one engine: their shapes,
which families a server serves, the comma state filter, account trades, members/me,
swagger.json and the ``sim serve --families`` flag."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli import main
from bot.clock import VirtualClock
from bot.domain.orders import Side
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine
from bot.sim.rest import RestApi
from bot.sim.routes import select
from bot.sim.server import SimServer
from bot.sim.standalone import serve_forever
from tests.sim.sim_helpers import ALICE, BOB, Desk, make_market
from tests.sim.test_sim_server import SECRETS, Api, Signer

MARKETS_PATH = {"trade": "/trade/public/markets", "peatio": "/peatio/public/markets"}
MARKETS_PATH["seed"] = "/public/markets"
FLAT_TICKER_FIELDS = {
    "at", "amount", "avg_price", "high", "last", "low", "open", "price_change_percent",
    "volume", "vol", "buy", "sell",
}  # fmt: skip


@contextlib.asynccontextmanager
async def _serve(
    engine: MatchingEngine, clock: VirtualClock, families: Iterable[str] | None = None
) -> AsyncIterator[tuple[SimServer, Api]]:
    async with (
        SimServer(engine, credentials=SECRETS, clock=clock, families=families) as srv,
        aiohttp.ClientSession() as session,
    ):
        yield srv, Api(session, srv.base_url, Signer(clock, ALICE, SECRETS[ALICE]))


@pytest.fixture
async def api(desk: Desk) -> AsyncIterator[Api]:
    async with _serve(desk.engine, desk.clock) as (_, client):
        yield client


def _traded_book(desk: Desk) -> None:
    """Bids 10.00 (1.5 left) and 9.00, asks 11.00 and 12.00, one trade of 0.5 at 10.00."""
    desk.limit(BOB, Side.BUY, "2", "10.00")
    desk.limit(BOB, Side.BUY, "1", "9.00")
    desk.limit(BOB, Side.SELL, "1", "12.00")
    desk.limit(BOB, Side.SELL, "1", "11.00")
    desk.limit(ALICE, Side.SELL, "0.5", "10.00")


async def _get(api: Api, path: str, **params: str) -> Any:
    headers = api.signer.headers()
    async with api.session.get(api.base + path, params=params, headers=headers) as r:
        body = await r.json(content_type=None)
        assert r.status == 200, (path, r.status, body)
        return body


async def test_trade_public_routes_answer_flat_shapes(desk: Desk, api: Api) -> None:
    _traded_book(desk)
    at = int(desk.clock.time())

    timestamp = await _get(api, "/trade/public/timestamp")
    markets = await _get(api, "/trade/public/markets")
    market = await _get(api, "/trade/public/markets/abcusdt")
    missing = await api.call("GET", "/trade/public/markets/nopeusdt")
    tickers = await _get(api, "/trade/public/tickers")
    ticker = await _get(api, "/trade/public/tickers/abcusdt")
    depth = await _get(api, "/trade/public/markets/abcusdt/depth")
    top = await _get(api, "/trade/public/markets/abcusdt/depth", limit="0")
    trades = await _get(api, "/trade/public/markets/abcusdt/trades", limit="5")

    assert timestamp.startswith("2026-01-01T00:00:00")
    assert market == markets[0]
    assert market["id"] == "abcusdt"
    assert missing == (404, {"errors": ["record.not_found"]})
    assert set(ticker) == FLAT_TICKER_FIELDS
    assert ticker["last"] == "10.00"
    assert (ticker["buy"], ticker["sell"]) == ("10.00", "11.00")
    assert tickers == {"abcusdt": ticker}
    assert depth == {
        "timestamp": at,
        "asks": [["11.00", "1"], ["12.00", "1"]],
        "bids": [["10.00", "1.5"], ["9.00", "1"]],
    }
    assert top == {"timestamp": at, "asks": [["11.00", "1"]], "bids": [["10.00", "1.5"]]}
    assert [(t["price"], t["amount"]) for t in trades] == [("10.00", "0.5")]


async def test_trade_k_line_keeps_the_last_limit_rows(desk: Desk, api: Api) -> None:
    desk.limit(BOB, Side.BUY, "5", "10.00")
    desk.limit(ALICE, Side.SELL, "1", "10.00")
    await desk.clock.advance(180)
    desk.limit(ALICE, Side.SELL, "1", "10.00")
    path = "/trade/public/markets/abcusdt/k-line"

    rows = await _get(api, path, period="1", time_from=str(int(desk.clock.time()) - 600))
    last = await _get(api, path, period="1", time_from=str(int(desk.clock.time()) - 600), limit="1")

    assert len(rows) >= 2
    assert last == rows[-1:]


async def test_trade_currencies_and_their_usdt_price(desk: Desk, api: Api) -> None:
    _traded_book(desk)

    currencies = await _get(api, "/trade/public/currencies")
    abc = await _get(api, "/trade/public/currencies/abc")
    usdt = await _get(api, "/trade/public/currencies/usdt")
    missing = await api.call("GET", "/trade/public/currencies/xyz")

    assert currencies == [
        {"id": "abc", "name": "ABC", "precision": 8, "type": "coin"},
        {"id": "usdt", "name": "USDT", "precision": 8, "type": "coin"},
    ]
    assert abc == currencies[0] | {"price": "10.00"}
    assert usdt == currencies[1] | {"price": None}
    assert missing == (404, {"errors": ["record.not_found"]})


async def test_trading_fees_are_the_engine_rates() -> None:
    clock = VirtualClock()
    engine = MatchingEngine(
        clock, make_rng(1, "fees"), fee_rate=Decimal("0.003"), maker_fee_rate=Decimal("0.001")
    )
    engine.add_market(make_market())

    async with _serve(engine, clock, {"trade"}) as (_, api):
        fees = await _get(api, "/trade/public/trading_fees")

    assert fees == [{"market_id": "any", "maker": "0.001", "taker": "0.003", "group": "any"}]


async def test_peatio_public_routes_wrap_tickers_and_give_depth_pairs(desk: Desk, api: Api) -> None:
    _traded_book(desk)

    flat = await _get(api, "/trade/public/tickers/abcusdt")
    all_wrapped = await _get(api, "/peatio/public/markets/tickers")
    by_market = await _get(api, "/peatio/public/markets/abcusdt/tickers")
    by_ticker = await _get(api, "/peatio/public/tickers/abcusdt")
    market = await _get(api, "/peatio/public/markets/abcusdt")
    depth = await _get(api, "/peatio/public/markets/abcusdt/depth", limit="1")
    trades = await _get(api, "/peatio/public/markets/abcusdt/trades")
    k_line = await _get(api, "/peatio/public/markets/abcusdt/k-line", period="1")
    timestamp = await _get(api, "/peatio/public/timestamp")

    assert by_market == {"at": flat["at"], "ticker": flat}
    assert by_ticker == by_market
    assert all_wrapped == {"abcusdt": by_market}
    assert market["id"] == "abcusdt"
    assert (depth["asks"], depth["bids"]) == ([["11.00", "1"]], [["10.00", "1.5"]])
    assert trades[0]["price"] == "10.00"
    assert k_line[0][1:] == ["10.00", "10.00", "10.00", "10.00", "0.5"]
    assert timestamp.startswith("2026-01-01T00:00:00")


async def test_seed_public_routes_keep_the_seed_shapes(desk: Desk, api: Api) -> None:
    _traded_book(desk)

    ticker = await _get(api, "/public/markets/abcusdt/tickers")
    book = await _get(api, "/public/markets/abcusdt/order-book", asks_limit="1", bids_limit="2")
    timestamp = await _get(api, "/public/timestamp")

    assert ticker["ticker"]["last"] == "10.00"
    assert [lv["price"] for lv in book["asks"]] == ["11.00"]
    assert [lv["remaining_volume"] for lv in book["bids"]] == ["1.5", "1"]
    assert timestamp.startswith("2026-01-01T00:00:00")


@pytest.mark.parametrize("family", ["trade", "peatio", "seed"])
async def test_a_server_serves_only_its_families(desk: Desk, family: str) -> None:
    async with _serve(desk.engine, desk.clock, frozenset({family})) as (_, api):
        answers = {f: await api.call("GET", path) for f, path in MARKETS_PATH.items()}
        timestamp, _ = await api.call("GET", "/trade/public/timestamp")

    assert answers[family][0] == 200
    assert answers[family][1][0]["id"] == "abcusdt"
    others = {f: a for f, a in answers.items() if f != family}
    assert others == {f: (404, {"errors": ["record.not_found"]}) for f in others}
    assert timestamp == (200 if family == "trade" else 404)


@pytest.mark.parametrize("families", [frozenset({"trade", "bogus"}), frozenset()])
def test_an_unknown_or_empty_family_choice_is_refused(desk: Desk, families: frozenset[str]) -> None:
    with pytest.raises(ValueError, match="famil"):
        SimServer(desk.engine, credentials=SECRETS, clock=desk.clock, families=families)


async def test_order_state_filter_takes_a_comma_list(desk: Desk, api: Api) -> None:
    desk.limit(BOB, Side.BUY, "0.5", "10.00")
    waiting = desk.limit(ALICE, Side.SELL, "1", "20.00")
    cancelled = desk.limit(ALICE, Side.SELL, "1", "21.00")
    desk.engine.cancel_order(ALICE, cancelled.id)
    done = desk.limit(ALICE, Side.SELL, "0.5", "10.00")
    newest = desk.limit(ALICE, Side.SELL, "1", "22.00")
    orders = "/trade/market/orders"

    wait_or_done = await _get(api, orders, market="abcusdt", state="wait,done")
    second_page = await _get(api, orders, state="wait, done", limit="1", page="2")
    only_cancel = await _get(api, orders, state="cancel")
    peatio_wait = await _get(api, "/peatio/market/orders", state="wait")
    bad = await api.call("GET", orders, state="wait,bogus")

    assert [o["id"] for o in wait_or_done] == [newest.id, done.id, waiting.id]
    assert [o["id"] for o in second_page] == [done.id]
    assert [o["id"] for o in only_cancel] == [cancelled.id]
    assert [o["id"] for o in peatio_wait] == [newest.id, waiting.id]
    assert bad == (422, {"errors": ["market.order.invalid_state"]})


async def test_account_trades_filter_by_order_newest_first(desk: Desk, api: Api) -> None:
    desk.limit(BOB, Side.BUY, "0.5", "10.00")
    desk.limit(BOB, Side.BUY, "0.5", "10.00")
    desk.limit(BOB, Side.BUY, "1", "9.00")
    first = desk.limit(ALICE, Side.SELL, "1", "10.00")
    second = desk.limit(ALICE, Side.SELL, "0.5", "9.00")

    everything = await _get(api, "/trade/market/trades", market="abcusdt")
    of_first = await _get(api, "/trade/market/trades", order_id=str(first.id))
    page_two = await _get(api, "/trade/market/trades", limit="1", page="2")
    peatio = await _get(api, "/peatio/market/trades", order_id=str(second.id))
    foreign = await _get(api, "/trade/market/trades", order_id="1")  # bob's order
    bad_market = await api.call("GET", "/trade/market/trades", market="nopeusdt")

    ids = [t["id"] for t in everything]
    assert ids == sorted(ids, reverse=True)
    assert [t["order_id"] for t in everything] == [second.id, first.id, first.id]
    assert [t["order_id"] for t in of_first] == [first.id, first.id]
    assert sorted(of_first, key=lambda t: t["id"]) == await _get(
        api, f"/trade/market/orders/{first.id}/trades"
    )
    assert page_two == everything[1:2]
    assert [(t["order_id"], t["price"]) for t in peatio] == [(second.id, "9.00")]
    assert foreign == []
    assert bad_market == (422, {"errors": ["market.market.doesnt_exist"]})


async def test_members_me_gives_a_stable_uid_never_the_key(desk: Desk, api: Api) -> None:
    status, raw = await api.call("GET", "/trade/account/members/me")
    again = await _get(api, "/peatio/account/members/me")
    bob = Api(api.session, api.base, Signer(desk.clock, BOB, SECRETS[BOB]))
    bobs = await _get(bob, "/trade/account/members/me")

    assert status == 200
    assert raw == {"uid": raw["uid"], "email": None, "level": 3, "state": "active"}
    assert ALICE not in str(raw).lower()
    assert again == raw
    assert bobs["uid"] != raw["uid"]


async def test_balances_of_every_family_carry_available(api: Api) -> None:
    spot = await _get(api, "/trade/account/balances/spot")
    peatio = await _get(api, "/peatio/account/balances")
    seed = await _get(api, "/trade/account/balances")

    assert spot == peatio == seed
    assert {"currency": "abc", "balance": "1000", "locked": "0", "available": "1000"} in spot


def _concrete(path: str) -> str:
    concrete = path.replace("{market}", "abcusdt")
    return concrete.replace("currencies/{id}", "currencies/abc").replace("{id}", "1")


async def test_every_private_route_of_every_family_needs_a_signature(desk: Desk, api: Api) -> None:
    routes = select(RestApi(desk.engine, desk.clock))
    answers: dict[tuple[str, str], tuple[bool, int]] = {}
    for route in routes:
        url = api.base + _concrete(route.path)
        async with api.session.request(route.method, url) as r:
            answers[route.method, route.path] = (route.private, r.status)

    private = {k: status for k, (is_private, status) in answers.items() if is_private}
    public = {k: status for k, (is_private, status) in answers.items() if not is_private}
    assert set(private.values()) == {401}
    assert 401 not in public.values()
    assert {
        ("GET", "/trade/account/members/me"),
        ("GET", "/trade/market/trades"),
        ("GET", "/peatio/account/balances"),
        ("POST", "/peatio/market/orders/{id}/cancel"),
        ("GET", "/trade/market/orders/{id}/trades"),
    } <= private.keys()


def _router_routes(srv: SimServer) -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    for route in srv.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method == "HEAD" or not path.startswith("/api/v2/"):
            continue
        if not path.startswith("/api/v2/websocket/"):
            served.add((route.method, path.removeprefix("/api/v2")))
    return served


@pytest.mark.parametrize(
    "families", [None, frozenset({"trade"}), frozenset({"peatio"}), frozenset({"peatio", "seed"})]
)
async def test_swagger_lists_exactly_the_served_routes(
    desk: Desk, families: frozenset[str] | None
) -> None:
    chosen = families or {"trade", "peatio", "seed"}
    prefixes = {"trade": "/trade", "peatio": "/peatio", "seed": ""}
    async with _serve(desk.engine, desk.clock, families) as (srv, api):
        docs = {f: await api.call("GET", f"{p}/public/swagger.json") for f, p in prefixes.items()}
        router = _router_routes(srv)

    served_docs = [doc for f, (status, doc) in docs.items() if f in chosen and status == 200]
    assert len(served_docs) == len(chosen)
    assert all(doc == served_docs[0] for doc in served_docs)
    assert all(docs[f][0] == 404 for f in prefixes.keys() - chosen)
    doc = served_docs[0]
    assert (doc["swagger"], doc["basePath"]) == ("2.0", "/api/v2")
    listed = {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops}
    assert listed == router
    orders = doc["paths"].get("/trade/market/orders/{id}", {}).get("get")
    if orders is not None:
        assert orders["security"]
        assert orders["parameters"] == [
            {"name": "id", "in": "path", "required": True, "type": "integer"}
        ]


def test_sim_serve_refuses_an_unknown_family_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env

    code = main(["sim", "serve", "--port", "0", "--families", "trade,bogus"])

    out, err = capsys.readouterr()
    lines = (out + err).strip().splitlines()
    assert code == 2
    assert len(lines) == 1
    assert "--families" in lines[0]
    assert "bogus" in lines[0]


async def test_serve_forever_serves_the_chosen_families(
    capsys: pytest.CaptureFixture[str],
) -> None:
    task = asyncio.create_task(
        serve_forever(
            "127.0.0.1", 0, 9, None, None, clock=VirtualClock(), families=frozenset({"peatio"})
        )
    )
    url = ""
    for _ in range(500):
        await asyncio.sleep(0.01)  # noqa: TID251 (real I/O: wait for the server to listen)
        out = capsys.readouterr().out
        if "http://" in out:
            url = out.split(" on ", 1)[1].split(" ", 1)[0]
            break

    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/peatio/public/markets") as r:
            peatio = r.status
        async with session.get(url + "/trade/public/markets") as r:
            trade = r.status
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    assert (peatio, trade) == (200, 404)
