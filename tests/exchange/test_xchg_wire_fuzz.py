"""Feed the wire parsers hostile bodies: they return domain objects or raise MalformedResponse."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.exchange.errors import ExchangeError, MalformedResponse
from bot.exchange.safetrade import wire
from bot.exchange.safetrade.errors import map_error

NOW = datetime(2026, 1, 1, tzinfo=UTC)

PARSERS: list[Callable[[Any], object]] = [
    wire.parse_markets,
    lambda raw: wire.parse_ticker(raw, "xusdt", NOW),
    lambda raw: wire.parse_tickers(raw, NOW),
    lambda raw: wire.parse_order_book(raw, "xusdt", 10),
    wire.parse_balances,
    wire.parse_order,
    wire.parse_orders,
    wire.parse_fills,
    lambda raw: wire.parse_public_trades(raw, "xusdt"),
    wire.parse_candles,
    wire.parse_server_time,
    wire.parse_order_state,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        ["0", "-1", "1e400", "NaN", "wait", "done", "sell", "limit", "2026-01-01T00:00:00Z", ""]
    ),
    st.integers(min_value=65, max_value=5000).map(lambda n: "9" * n),  # huge numbers as text
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6), st.dictionaries(st.text(max_size=20), children, max_size=6)
    ),
    max_leaves=30,
)

GOOD_ORDER: dict[str, Any] = {
    "id": 1,
    "market": "xusdt",
    "side": "sell",
    "ord_type": "limit",
    "price": "1",
    "state": "wait",
    "origin_volume": "2",
    "remaining_volume": "2",
    "executed_volume": "0",
    "created_at": "2026-01-01T00:00:00Z",
}
GOOD_BODIES: list[Any] = [
    [GOOD_ORDER],
    GOOD_ORDER,
    {"asks": [["1", "2"]], "bids": [{"price": "1", "remaining_volume": "1"}]},
    [{"currency": "btc", "balance": "1", "locked": "0"}],
    {"xusdt": {"at": 1, "ticker": {"last": "1", "vol": "2"}}},
    [
        {
            "id": "m",
            "base_unit": "x",
            "quote_unit": "usdt",
            "amount_precision": 2,
            "price_precision": 2,
        }
    ],
]


def _check_all(raw: Any) -> None:
    for parse in PARSERS:
        with contextlib.suppress(MalformedResponse):
            parse(raw)


def _mutate(value: Any, draw: st.DrawFn) -> Any:
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        action = draw(st.sampled_from(["drop", "replace", "recurse"]))
        copy = dict(value)
        if action == "drop":
            del copy[key]
        elif action == "replace":
            copy[key] = draw(json_values)
        else:
            copy[key] = _mutate(copy[key], draw)
        return copy
    if isinstance(value, list) and value:
        index = draw(st.integers(0, len(value) - 1))
        items = list(value)
        items[index] = _mutate(items[index], draw) if draw(st.booleans()) else draw(json_values)
        return items
    return draw(json_values)


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    return _mutate(draw(st.sampled_from(GOOD_BODIES)), draw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_values_only_ever_raise_malformed(raw: Any) -> None:
    _check_all(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_bodies())
def test_mutated_valid_bodies_only_ever_raise_malformed(raw: Any) -> None:
    _check_all(raw)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(GOOD_BODIES), st.integers(min_value=0, max_value=400))
def test_truncated_bodies_are_malformed_or_parse(raw: Any, cut: int) -> None:
    text = json.dumps(raw)[:cut]

    with contextlib.suppress(MalformedResponse):
        _check_all(wire.parse_json(text))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=100, max_value=599))
def test_map_error_never_raises_on_any_body(body: bytes, status: int) -> None:
    error = map_error(status, body, {"Retry-After": "x"})

    assert isinstance(error, ExchangeError)


def test_huge_bodies_are_handled() -> None:
    many = [GOOD_ORDER] * 20_000
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]

    orders = wire.parse_orders(many)
    _check_all(deep)
    _check_all({"asks": [["1", "1" * 10_000]], "bids": []})

    assert len(orders) == 20_000
    assert orders[0].amount == Decimal(2)
