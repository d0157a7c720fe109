from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.domain.market import MarketState
from bot.domain.orders import OrderState, OrderType, Side
from bot.exchange.errors import MalformedResponse
from bot.exchange.safetrade import wire

NOW = datetime(2026, 1, 1, tzinfo=UTC)

PEATIO_ORDER: dict[str, Any] = {
    "id": 123,
    "uuid": "5766053e-9a9a-4f5a-a5d1-4d0f1bfb0f2c",
    "market": "btcusdt",
    "side": "sell",
    "ord_type": "limit",
    "price": "43000.5",
    "avg_price": "43000.5",
    "state": "wait",
    "origin_volume": "0.5",
    "remaining_volume": "0.3",
    "executed_volume": "0.2",
    "trades_count": 1,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:05+00:00",
    "client_id": "sb-abc-1",
}


def test_markets_parse_peatio_shape_to_domain() -> None:
    body = wire.parse_json(
        b'[{"id":"btcusdt","name":"BTC/USDT","base_unit":"btc","quote_unit":"usdt",'
        b'"min_price":"0.01","max_price":"0","min_amount":"0.0001","amount_precision":4,'
        b'"price_precision":2,"state":"enabled"},'
        b'{"id":"xusdt","base_unit":"X","quote_unit":"USDT","amount_precision":0,'
        b'"price_precision":8,"state":"mystery"}]'
    )

    btc, x = wire.parse_markets(body)

    assert btc.id == "btcusdt"
    assert btc.base == "btc"
    assert btc.quote == "usdt"
    assert btc.min_amount == Decimal("0.0001")
    assert btc.tick == Decimal("0.01")
    assert btc.state is MarketState.ENABLED
    assert x.base == "x"
    assert x.state is MarketState.DISABLED


def test_json_numbers_with_fractions_become_decimals_never_floats() -> None:
    raw = wire.parse_json('{"at": 1767225600, "ticker": {"last": 0.1, "volume": 12.5}}')

    ticker = wire.parse_ticker(raw, "btcusdt", NOW)

    assert ticker.last == Decimal("0.1")
    assert isinstance(ticker.last, Decimal)
    assert ticker.volume == Decimal("12.5")
    assert ticker.at == datetime(2026, 1, 1, tzinfo=UTC)


def test_ticker_fields_and_fallbacks() -> None:
    raw = {
        "at": "1767225600",
        "ticker": {
            "amount": "1000",
            "avg_price": "10",
            "high": "11",
            "last": "10.5",
            "low": "9",
            "open": "9.5",
            "price_change_percent": "+1.23%",
            "vol": "95",
            "buy": "10.4",
            "sell": "10.6",
        },
    }

    ticker = wire.parse_ticker(raw, "xusdt", NOW)

    assert (ticker.high, ticker.low, ticker.open) == (Decimal(11), Decimal(9), Decimal("9.5"))
    assert ticker.volume == Decimal(95)
    assert ticker.quote_volume == Decimal(1000)
    assert (ticker.best_bid, ticker.best_ask) == (Decimal("10.4"), Decimal("10.6"))


def test_tickers_map_and_missing_fields_default_sensibly() -> None:
    raw = {"btcusdt": {"ticker": {"last": "5"}}, "ethusdt": {"at": 1, "ticker": {"last": "2"}}}

    tickers = wire.parse_tickers(raw, NOW)

    assert tickers["btcusdt"].high == Decimal(5)
    assert tickers["btcusdt"].at == NOW
    assert tickers["btcusdt"].volume == 0
    assert tickers["btcusdt"].best_bid is None
    assert tickers["ethusdt"].at == datetime.fromtimestamp(1, UTC)


def test_order_book_accepts_peatio_objects_and_finex_pairs_and_sorts() -> None:
    raw = {
        "asks": [
            {"price": "10.2", "remaining_volume": "1"},
            ["10.1", "2", "extra"],
            {"price": "10.3", "volume": "0"},
        ],
        "bids": [["9.8", "1"], {"price": "9.9", "amount": "3"}],
    }

    book = wire.parse_order_book(raw, "xusdt", depth=1)

    assert [lv.price for lv in book.asks] == [Decimal("10.1")]
    assert [lv.price for lv in book.bids] == [Decimal("9.9")]
    assert book.bids[0].amount == Decimal(3)
    full = wire.parse_order_book(raw, "xusdt")
    assert [lv.price for lv in full.asks] == [Decimal("10.1"), Decimal("10.2")]  # zero dropped


def test_order_maps_peatio_fields_and_states() -> None:
    order = wire.parse_order(PEATIO_ORDER)

    assert order.id == "123"
    assert order.client_id == "sb-abc-1"
    assert order.side is Side.SELL
    assert order.type is OrderType.LIMIT
    assert order.amount == Decimal("0.5")
    assert order.filled == Decimal("0.2")
    assert order.remaining == Decimal("0.3")
    assert order.state is OrderState.OPEN
    assert order.created_at == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("pending", OrderState.OPEN),
        ("wait", OrderState.OPEN),
        ("done", OrderState.FILLED),
        ("cancel", OrderState.CANCELLED),
        ("reject", OrderState.REJECTED),
    ],
)
def test_peatio_order_states_map_to_ours(state: str, expected: OrderState) -> None:
    assert wire.parse_order({**PEATIO_ORDER, "state": state}).state is expected
    assert wire.parse_order_state(state) is expected


def test_order_accepts_type_spelling_and_derives_filled_from_remaining() -> None:
    raw = {k: v for k, v in PEATIO_ORDER.items() if k not in ("ord_type", "executed_volume")}
    raw.update(type="market", price=None, remaining_volume="0", state="done")

    order = wire.parse_order(raw)

    assert order.type is OrderType.MARKET
    assert order.price is None
    assert order.filled == Decimal("0.5")
    assert order.state is OrderState.FILLED


def test_order_without_fills_has_no_average_price() -> None:
    raw = {**PEATIO_ORDER, "executed_volume": "0", "avg_price": "0", "client_id": None}

    order = wire.parse_order(raw)

    assert order.avg_price is None
    assert order.client_id is None


@pytest.mark.parametrize(
    "patch",
    [
        {"state": "exploded"},
        {"side": "sideways"},
        {"origin_volume": "abc"},
        {"origin_volume": "-1"},
        {"origin_volume": "NaN"},
        {"origin_volume": "1e99999"},
        {"origin_volume": True},
        {"executed_volume": "9"},  # more filled than ordered
        {"created_at": "yesterday"},
        {"id": None},
        {"id": 1.5},
    ],
)
def test_bad_order_fields_are_malformed(patch: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponse):
        wire.parse_order({**PEATIO_ORDER, **patch})


def test_balances_fills_trades_candles_and_time() -> None:
    balances = wire.parse_balances([{"currency": "BTC", "balance": "1.5", "locked": "0.5"}])
    fills = wire.parse_fills(
        [
            {
                "id": 9,
                "price": "10",
                "amount": "2",
                "total": "20",
                "market": "xusdt",
                "side": "sell",
                "order_id": 123,
                "fee": "0.02",
                "fee_currency": "USDT",
                "created_at": "2026-01-01T00:00:01Z",
                "taker_type": "sell",
            }
        ]
    )
    trades = wire.parse_public_trades(
        [{"id": 1, "price": "10", "amount": "1", "taker_type": "buy", "created_at": 1767225600}],
        "xusdt",
    )
    candles = wire.parse_candles(wire.parse_json("[[1767225600, 1, 2.5, 0.5, 2, 100]]"))
    server_time = wire.parse_server_time(wire.parse_json('"2024-05-01T12:00:00.123456Z"'))

    assert balances[0].currency == "btc"
    assert balances[0].total == Decimal(2)
    assert fills[0].order_id == "123"
    assert fills[0].total == Decimal(20)
    assert fills[0].fee == Decimal("0.02")
    assert fills[0].fee_currency == "usdt"
    assert trades[0].market == "xusdt"
    assert trades[0].taker_side == "buy"
    assert candles[0].high == Decimal("2.5")
    assert candles[0].close == Decimal(2)
    assert server_time == datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("parse", "raw"),
    [
        (wire.parse_markets, {"not": "a list"}),
        (wire.parse_markets, [{"id": "x"}]),
        (wire.parse_order_book, {"asks": []}),
        (wire.parse_order_book, {"asks": [["1"]], "bids": []}),
        (wire.parse_order_book, {"asks": "none", "bids": []}),
        (wire.parse_balances, [{"currency": "btc"}]),
        (wire.parse_orders, [PEATIO_ORDER, "junk"]),
        (wire.parse_fills, [{}]),
        (wire.parse_candles, [[1, 2, 3]]),
        (wire.parse_server_time, {"timestamp": 1}),
    ],
)
def test_unexpected_shapes_raise_malformed_response(parse: Any, raw: Any) -> None:
    args = (raw, "xusdt") if parse is wire.parse_order_book else (raw,)

    with pytest.raises(MalformedResponse):
        parse(*args)


@pytest.mark.parametrize(
    "body", [b"<html>502</html>", b"", b'{"a":', b"\xff\xfe", b"[" * 100_000, b"1" * 5000]
)
def test_non_json_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        wire.parse_json(body)
