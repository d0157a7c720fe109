"""The simulator over real HTTP: Peatio shapes, auth, validation errors and injected faults."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bot.clock import VirtualClock
from bot.domain.orders import Side
from bot.sim.faults import FaultPlan
from bot.sim.server import SimServer
from tests.sim.sim_helpers import ALICE, BOB, Desk

SECRETS = {ALICE: "alice-secret", BOB: "bob-secret"}


class Signer:
    """A tiny signer written for these tests: HMAC-SHA256(secret, nonce + key), hex."""

    def __init__(self, clock: VirtualClock, key: str, secret: str) -> None:
        self.clock, self.key, self.secret = clock, key, secret
        self.last = 0

    def headers(self, nonce: int | None = None) -> dict[str, str]:
        if nonce is None:
            nonce = max(self.last + 1, int(self.clock.time() * 1000))
        self.last = nonce
        text = str(nonce)
        digest = hmac.new(self.secret.encode(), (text + self.key).encode(), hashlib.sha256)
        return {
            "X-Auth-Apikey": self.key,
            "X-Auth-Nonce": text,
            "X-Auth-Signature": digest.hexdigest(),
        }


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str, signer: Signer) -> None:
        self.session, self.base, self.signer = session, base, signer

    async def call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, **params: str
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, self.base + path, json=body, params=params, headers=self.signer.headers()
        ) as r:
            return r.status, await r.json(content_type=None)


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan(seed=3)


@pytest.fixture
async def api(desk: Desk, plan: FaultPlan) -> AsyncIterator[Api]:
    async with (
        SimServer(desk.engine, credentials=SECRETS, clock=desk.clock, faults=plan) as srv,
        aiohttp.ClientSession() as session,
    ):
        assert srv.base_url.startswith("http://127.0.0.1:")
        assert srv.base_url.endswith("/api/v2")
        yield Api(session, srv.base_url, Signer(desk.clock, ALICE, SECRETS[ALICE]))


async def test_public_endpoints_speak_peatio(desk: Desk, api: Api) -> None:
    desk.limit(BOB, Side.BUY, "2", "10.00")
    desk.limit(BOB, Side.SELL, "1", "11.00")
    desk.limit(ALICE, Side.SELL, "0.5", "10.00")

    _, ts = await api.call("GET", "/trade/public/timestamp")
    _, markets = await api.call("GET", "/public/markets")
    _, tickers = await api.call("GET", "/public/markets/tickers")
    _, ticker = await api.call("GET", "/public/markets/abcusdt/tickers")
    _, book = await api.call("GET", "/public/markets/abcusdt/order-book")
    _, trades = await api.call("GET", "/public/markets/abcusdt/trades")
    _, kline = await api.call("GET", "/public/markets/abcusdt/k-line", period="1")
    status, missing = await api.call("GET", "/public/markets/nopeusdt/order-book")

    assert ts.startswith("2026-01-01T00:00:00")
    assert markets[0]["id"] == "abcusdt"
    assert markets[0]["amount_precision"] == 2
    assert markets[0]["min_amount"] == "0.1"
    assert set(tickers) == {"abcusdt"}
    assert ticker["ticker"]["last"] == "10.00"
    assert book["bids"][0] == book["bids"][0] | {"price": "10.00", "remaining_volume": "1.5"}
    assert book["asks"][0]["price"] == "11.00"
    assert trades[0]["price"] == "10.00"
    assert trades[0]["taker_type"] == "sell"
    assert kline[0][1:] == ["10.00", "10.00", "10.00", "10.00", "0.5"]
    assert (status, missing) == (404, {"errors": ["record.not_found"]})


async def test_order_lifecycle_over_http(desk: Desk, api: Api) -> None:
    desk.limit(BOB, Side.BUY, "1", "10.00")
    body = {"market": "abcusdt", "side": "sell", "type": "limit", "amount": "3", "price": "10.00"}

    status, placed = await api.call("POST", "/trade/market/orders", body=body | {"client_id": "c1"})
    _, got = await api.call("GET", f"/trade/market/orders/{placed['id']}")
    _, fills = await api.call("GET", f"/trade/market/orders/{placed['id']}/trades")
    _, by_client = await api.call("GET", "/trade/market/orders", market="abcusdt", client_id="c1")
    _, waiting = await api.call("GET", "/trade/market/orders", market="abcusdt", state="wait")
    _, cancelled = await api.call("POST", f"/trade/market/orders/{placed['id']}/cancel")
    _, balances = await api.call("GET", "/trade/account/balances/spot")

    assert status == 201
    assert placed["state"] == "wait"
    assert placed["executed_volume"] == "1"
    assert placed["remaining_volume"] == "2"
    assert placed["client_id"] == "c1"
    assert got["id"] == placed["id"]
    assert got["created_at"].endswith("Z")
    assert [f["amount"] for f in fills] == ["1"]
    assert fills[0]["fee_currency"] == "usdt"
    assert [o["id"] for o in by_client] == [placed["id"]]
    assert [o["id"] for o in waiting] == [placed["id"]]
    assert cancelled["state"] == "cancel"
    abc = next(b for b in balances if b["currency"] == "abc")
    assert abc == {"currency": "abc", "balance": "999", "locked": "0", "available": "999"}


async def test_cancel_all_and_legacy_field_names(api: Api) -> None:
    body = {"market": "abcusdt", "side": "sell", "ord_type": "limit", "volume": "1"}
    await api.call("POST", "/trade/market/orders", body=body | {"price": "20.00"})
    await api.call("POST", "/trade/market/orders", body=body | {"price": "21.00"})

    status, cancelled = await api.call("POST", "/trade/market/orders/cancel", body={})
    _, left = await api.call("GET", "/trade/market/orders", state="wait")

    assert status == 201
    assert sorted(o["price"] for o in cancelled) == ["20.00", "21.00"]
    assert left == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"market": "nopeusdt"}, "market.market.doesnt_exist"),
        ({"side": "hold"}, "market.order.invalid_side"),
        ({"type": "stop"}, "market.order.invalid_type"),
        ({"amount": "-1"}, "market.order.non_positive_volume"),
        ({"amount": "lots"}, "market.order.non_decimal_volume"),
        ({"amount": "0.001"}, "market.order.invalid_volume_or_price"),
        ({"price": "10.001"}, "market.order.invalid_volume_or_price"),
        ({"amount": "99999"}, "market.account.insufficient_balance"),
        ({"type": "market"}, "market.order.market_order_price"),
    ],
)
async def test_bad_orders_get_peatio_error_bodies(
    api: Api, changes: dict[str, str], code: str
) -> None:
    body = {"market": "abcusdt", "side": "sell", "type": "limit", "amount": "1", "price": "10.00"}

    status, answer = await api.call("POST", "/trade/market/orders", body=body | changes)

    assert status == 422
    assert answer == {"errors": [code]}


async def test_unknown_order_is_404(api: Api) -> None:
    status, answer = await api.call("GET", "/trade/market/orders/424242")

    assert (status, answer) == (404, {"errors": ["record.not_found"]})


async def _raw(api: Api, headers: dict[str, str]) -> tuple[int, Any]:
    async with api.session.get(api.base + "/trade/account/balances/spot", headers=headers) as r:
        return r.status, await r.json()


async def test_bad_signature_unknown_key_and_stale_nonce_are_401(desk: Desk, api: Api) -> None:
    forged = Signer(desk.clock, ALICE, "wrong-secret").headers()
    stranger = Signer(desk.clock, "mallory", "x").headers()
    now_ms = int(desk.clock.time() * 1000)
    old = Signer(desk.clock, ALICE, SECRETS[ALICE]).headers(nonce=now_ms - 60_000)

    assert await _raw(api, forged) == (401, {"errors": ["authz.invalid_signature"]})
    assert await _raw(api, stranger) == (401, {"errors": ["authz.apikey_not_active"]})
    assert await _raw(api, old) == (401, {"errors": ["authz.nonce_not_valid_timestamp"]})
    assert await _raw(api, {}) == (401, {"errors": ["authz.invalid_session"]})


async def test_a_replayed_nonce_is_refused(desk: Desk, api: Api) -> None:
    headers = api.signer.headers()

    first = await _raw(api, headers)
    replay = await _raw(api, headers)

    assert first[0] == 200
    assert replay == (401, {"errors": ["authz.nonce_not_valid_timestamp"]})


async def test_injected_5xx_and_429_are_visible(api: Api, plan: FaultPlan) -> None:
    plan.force("status_5xx")
    plan.force("rate_limited")

    status_5xx, body_5xx = await api.call("GET", "/public/markets")
    async with api.session.get(api.base + "/public/markets") as r:
        status_429, retry_after = r.status, r.headers.get("Retry-After")
    status_ok, _ = await api.call("GET", "/public/markets")

    assert (status_5xx, body_5xx) == (500, {"errors": ["server.internal_error"]})
    assert (status_429, retry_after) == (429, "1")
    assert status_ok == 200
    assert plan.counters["status_5xx"] == 1
    assert plan.counters["rate_limited"] == 1


async def test_lost_response_still_places_the_order(desk: Desk, api: Api, plan: FaultPlan) -> None:
    plan.force("lost_response")
    body = {"market": "abcusdt", "side": "sell", "type": "limit", "amount": "1", "price": "30.00"}

    status, _ = await api.call("POST", "/trade/market/orders", body=body | {"client_id": "lost-1"})
    _, found = await api.call("GET", "/trade/market/orders", client_id="lost-1")

    assert status == 500
    assert len(found) == 1
    assert found[0]["state"] == "wait"
    assert desk.engine.find_order(ALICE, "lost-1") is not None


async def test_connection_reset_and_lost_response_reset(
    desk: Desk, api: Api, plan: FaultPlan
) -> None:
    plan.force("reset")
    plan.force("reset")  # aiohttp retries an idempotent request once on a reset connection
    plan.lost_mode = "reset"
    body = {"market": "abcusdt", "side": "sell", "type": "limit", "amount": "1", "price": "31.00"}

    with pytest.raises(aiohttp.ClientConnectionError):
        await api.call("GET", "/public/markets")
    plan.force("lost_response")
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.call("POST", "/trade/market/orders", body=body)

    assert [o.price for o in desk.engine.open_orders(ALICE)] == [Decimal("31.00")]


async def test_maintenance_disables_the_market(api: Api, plan: FaultPlan) -> None:
    plan.maintenance.add("abcusdt")
    body = {"market": "abcusdt", "side": "sell", "type": "limit", "amount": "1", "price": "10.00"}

    _, markets = await api.call("GET", "/public/markets")
    status, answer = await api.call("POST", "/trade/market/orders", body=body)
    plan.maintenance.clear()
    _, after = await api.call("GET", "/public/markets")

    assert markets[0]["state"] == "disabled"
    assert (status, answer) == (422, {"errors": ["market.market.doesnt_exist"]})
    assert after[0]["state"] == "enabled"
