"""Every family's wire shapes parse, from fixtures written from the evidence (see fixtures/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.domain.market import MarketState
from bot.domain.orders import OrderState
from bot.exchange.errors import MalformedResponse, NotFound
from bot.exchange.safetrade import wire, wire_meta
from bot.exchange.safetrade.errors import map_error
from bot.exchange.safetrade.profiles import PROFILES, Capability, Family, parse_choice

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 12, 3, tzinfo=UTC)


def fixture(name: str) -> Any:
    recorded = json.loads((FIXTURES / name).read_text())
    assert recorded["_assumed"], "every fixture says what it assumes"
    return wire.parse_json(json.dumps(recorded["body"]))


def test_trade_markets_ignore_unknown_fields_and_only_enabled_is_tradable() -> None:
    btc, xmr, sfi = wire.parse_markets(fixture("trade_markets.json"))

    assert (btc.id, btc.min_amount, btc.amount_precision) == ("btcusdt", Decimal("0.0001"), 6)
    assert btc.enabled
    assert xmr.state is MarketState.DISABLED
    assert not xmr.enabled
    assert not sfi.enabled


def test_trade_flat_ticker_parses_like_the_wrapped_peatio_one() -> None:
    flat = wire.parse_ticker(fixture("trade_ticker.json"), "btcusdt", NOW)
    wrapped = wire.parse_ticker(fixture("peatio_ticker.json"), "btcusdt", NOW)

    assert flat.last == wrapped.last == Decimal("43010.5")
    assert flat.volume == wrapped.volume == Decimal("12.5")
    assert flat.quote_volume == Decimal("536126.5")
    assert flat.best_bid == Decimal("43000.1")  # ``bid`` (one client reads it)
    assert flat.at == wrapped.at == datetime(2026, 1, 1, tzinfo=UTC)


def test_trade_tickers_map_of_flat_bodies() -> None:
    tickers = wire.parse_tickers(fixture("trade_tickers.json"), NOW)

    assert tickers["ethusdt"].last == Decimal("2301.25")
    assert tickers["ethusdt"].at == NOW  # no ``at``: read now
    assert tickers["btcusdt"].high == Decimal("43010.5")  # missing high: the last price


def test_depth_pairs_are_sorted_best_first() -> None:
    book = wire.parse_order_book(fixture("trade_depth.json"), "btcusdt", depth=2)

    assert [lv.price for lv in book.asks] == [Decimal("43010.6"), Decimal("43011.0")]
    assert [lv.price for lv in book.bids] == [Decimal("43005.0"), Decimal("43000.1")]
    assert book.at == datetime(2026, 1, 1, tzinfo=UTC)


def test_available_wins_over_balance_when_both_are_sent() -> None:
    btc, usdt = wire.parse_balances(fixture("balances_spot.json"))

    assert (btc.available, btc.locked) == (Decimal("0.5"), Decimal("0.25"))
    assert (usdt.currency, usdt.available) == ("usdt", Decimal("10.5"))


def test_active_state_is_an_open_order() -> None:
    active, done = wire.parse_orders(fixture("orders_active.json"))

    assert active.state is OrderState.OPEN
    assert wire.parse_order_state("active") is OrderState.OPEN
    assert done.state is OrderState.FILLED
    assert done.filled == Decimal("0.1")


def test_member_and_swagger_shapes() -> None:
    assert wire_meta.parse_member(fixture("member.json"))["uid"] == "ID1234567890"
    with pytest.raises(MalformedResponse):
        wire_meta.parse_member(["not", "an", "object"])
    spec = {"basePath": "/api/v2", "paths": {"/trade/public/markets": {"get": {}}}}
    assert wire_meta.spec_paths(wire_meta.parse_swagger(spec)) == {"GET /trade/public/markets"}
    nested = {"basePath": "/api/v2/trade", "paths": {"/public/markets": {"get": {}}}}
    assert wire_meta.spec_paths(nested) == {"GET /trade/public/markets"}
    with pytest.raises(MalformedResponse):
        wire_meta.parse_swagger({"swagger": "2.0"})


@pytest.mark.parametrize(
    ("family", "book", "ticker", "trades"),
    [
        (
            Family.TRADE,
            "/trade/public/markets/btcusdt/depth",
            "/trade/public/tickers/btcusdt",
            "/trade/market/trades",
        ),
        (
            Family.PEATIO,
            "/peatio/public/markets/btcusdt/depth",
            "/peatio/public/markets/btcusdt/tickers",
            "/peatio/market/trades",
        ),
        (
            Family.SEED,
            "/public/markets/btcusdt/order-book",
            "/public/markets/btcusdt/tickers",
            "/trade/market/orders/7/trades",
        ),
    ],
)
def test_each_family_routes_its_capabilities(
    family: Family, book: str, ticker: str, trades: str
) -> None:
    profile = PROFILES[family]

    assert profile.path(Capability.BOOK, market="btcusdt") == book
    assert profile.path(Capability.TICKER, market="btcusdt") == ticker
    assert profile.path(Capability.ORDER_TRADES, order_id="7") == trades


def test_profile_choice_parses_names_and_refuses_typos() -> None:
    assert parse_choice("auto") is None
    assert parse_choice(" Trade ") is Family.TRADE
    with pytest.raises(ValueError, match="unknown API profile 'trdae'"):
        parse_choice("trdae")
    with pytest.raises(KeyError):
        PROFILES[Family.SEED].path(Capability.MEMBER)


def test_an_html_404_is_a_missing_route_not_an_outage() -> None:
    page = b"<html><head><title>404 Not Found</title></head><body>nginx</body></html>"

    error = map_error(404, page, {"Content-Type": "text/html"})

    assert isinstance(error, NotFound)
