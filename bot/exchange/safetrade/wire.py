"""Wire models for SafeTrade responses (pydantic) and their mapping to domain types.

Bodies are parsed with ``parse_float=Decimal`` so no float ever exists, and every amount is a
``Decimal``. Peatio and Finex spellings are both accepted (field alternatives live in
``endpoints``). Every ``parse_*`` function raises ``MalformedResponse`` and nothing else on a
body that is not what the API promises.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain.balances import Balance
from bot.domain.market import BookLevel, Candle, Market, MarketState, OrderBook, PublicTrade, Ticker
from bot.domain.money import ZERO
from bot.domain.orders import Fill, Order, OrderState, OrderType, Side
from bot.exchange.errors import MalformedResponse
from bot.exchange.safetrade import endpoints as ep
from bot.exchange.safetrade.wire_types import (
    ShortText,
    Text,
    WireDecimal,
    WireId,
    WireModel,
    WireTime,
    alias,
    alias_default,
)

T = TypeVar("T")
R = TypeVar("R")


class MarketWire(WireModel):
    id: Text
    base_unit: Text
    quote_unit: Text
    amount_precision: Annotated[int, Field(ge=0, le=30, strict=True)]
    price_precision: Annotated[int, Field(ge=0, le=30, strict=True)]
    min_amount: WireDecimal = ZERO
    min_price: WireDecimal = ZERO
    max_price: WireDecimal = ZERO
    state: Text = "enabled"

    def to_domain(self) -> Market:
        try:
            state = MarketState(self.state)
        except ValueError:
            state = MarketState.DISABLED  # an unknown state is not tradable
        return Market(
            id=self.id,
            base=self.base_unit.lower(),
            quote=self.quote_unit.lower(),
            amount_precision=self.amount_precision,
            price_precision=self.price_precision,
            min_amount=self.min_amount,
            min_price=self.min_price,
            max_price=self.max_price,
            state=state,
        )


class TickerBodyWire(WireModel):
    last: WireDecimal
    high: WireDecimal | None = None
    low: WireDecimal | None = None
    open: WireDecimal | None = None
    base_volume: WireDecimal = alias_default(ep.TICKER_BASE_VOLUME_FIELDS, ZERO)
    quote_volume: WireDecimal = alias_default(ep.TICKER_QUOTE_VOLUME_FIELDS, ZERO)
    best_bid: WireDecimal | None = alias_default(ep.TICKER_BID_FIELDS, None)
    best_ask: WireDecimal | None = alias_default(ep.TICKER_ASK_FIELDS, None)
    at: WireTime | None = None


class TickerWire(WireModel):
    """``{"at": ts, "ticker": {...}}`` (peatio, seed) or the flat body (``trade``)."""

    at: WireTime | None = None
    ticker: TickerBodyWire

    @model_validator(mode="before")
    @classmethod
    def _from_flat(cls, value: Any) -> Any:
        if isinstance(value, dict) and "ticker" not in value and "last" in value:
            return {"at": value.get("at"), "ticker": value}
        return value

    def to_domain(self, market: str, now: datetime) -> Ticker:
        body = self.ticker
        return Ticker(
            market=market,
            last=body.last,
            high=body.high if body.high is not None else body.last,
            low=body.low if body.low is not None else body.last,
            open=body.open if body.open is not None else body.last,
            volume=body.base_volume,
            quote_volume=body.quote_volume,
            at=self.at or body.at or now,
            best_bid=body.best_bid or None,
            best_ask=body.best_ask or None,
        )


class BookLevelWire(WireModel):
    """An order object (``price``, ``remaining_volume``) or a ``["price", "amount"]`` pair."""

    price: WireDecimal
    amount: WireDecimal = alias(ep.BOOK_AMOUNT_FIELDS)

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) < 2:
                raise ValueError("book entry pair too short")
            return {"price": value[0], ep.BOOK_AMOUNT_FIELDS[0]: value[1]}
        return value


class OrderBookWire(WireModel):
    asks: list[BookLevelWire]
    bids: list[BookLevelWire]
    sequence: Annotated[int, Field(ge=0, strict=True)] | None = None
    timestamp: WireTime | None = None

    def to_domain(self, market: str, depth: int | None = None) -> OrderBook:
        def levels(side: list[BookLevelWire], descending: bool) -> tuple[BookLevel, ...]:
            out = [BookLevel(lv.price, lv.amount) for lv in side if lv.amount > 0 and lv.price > 0]
            out.sort(key=lambda lv: lv.price, reverse=descending)
            return tuple(out[:depth] if depth is not None else out)

        return OrderBook(
            market=market,
            bids=levels(self.bids, descending=True),
            asks=levels(self.asks, descending=False),
            at=self.timestamp,
            sequence=self.sequence,
        )


class BalanceWire(WireModel):
    currency: Text
    available: WireDecimal = alias(ep.BALANCE_AVAILABLE_FIELDS)
    locked: WireDecimal = ZERO

    def to_domain(self) -> Balance:
        return Balance(currency=self.currency.lower(), available=self.available, locked=self.locked)


class OrderWire(WireModel):
    id: WireId
    market: Text
    side: Side
    ord_type: OrderType = alias(ep.ORDER_TYPE_FIELDS)
    state: Text
    amount: WireDecimal = alias(ep.ORDER_AMOUNT_FIELDS)
    price: WireDecimal | None = None
    avg_price: WireDecimal | None = None
    remaining_volume: WireDecimal | None = None
    filled: WireDecimal | None = alias_default(ep.ORDER_FILLED_FIELDS, None)
    client_id: ShortText | None = alias_default(ep.ORDER_CLIENT_ID_FIELDS, None)
    created_at: WireTime
    updated_at: WireTime | None = None

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        if value not in ep.ORDER_STATES:
            raise ValueError(f"unknown order state {value!r}")
        return value

    def to_domain(self) -> Order:
        filled = self.filled
        if filled is None:
            filled = (
                self.amount - self.remaining_volume if self.remaining_volume is not None else ZERO
            )
        if filled > self.amount:
            raise ValueError("filled exceeds amount")
        return Order(
            id=self.id,
            client_id=self.client_id or None,
            market=self.market,
            side=self.side,
            type=self.ord_type,
            price=self.price or None,
            amount=self.amount,
            filled=filled,
            avg_price=self.avg_price if (self.avg_price and filled) else None,
            state=ep.ORDER_STATES[self.state],
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class FillWire(WireModel):
    id: WireId
    order_id: WireId
    market: Text
    side: Side
    price: WireDecimal
    amount: WireDecimal
    fee: WireDecimal = alias_default(ep.FILL_FEE_FIELDS, ZERO)
    fee_currency: ShortText = ""
    at: WireTime = alias(ep.FILL_AT_FIELDS)

    def to_domain(self) -> Fill:
        return Fill(
            trade_id=self.id,
            order_id=self.order_id,
            market=self.market,
            side=self.side,
            price=self.price,
            amount=self.amount,
            fee=self.fee,
            fee_currency=self.fee_currency.lower(),
            at=self.at,
        )


class PublicTradeWire(WireModel):
    id: WireId
    price: WireDecimal
    amount: WireDecimal
    taker_side: Side = alias(("taker_type", "side"))
    at: WireTime = alias(ep.FILL_AT_FIELDS)
    market: Text | None = None

    def to_domain(self, market: str) -> PublicTrade:
        return PublicTrade(
            id=self.id,
            market=self.market or market,
            price=self.price,
            amount=self.amount,
            taker_side=self.taker_side.value,
            at=self.at,
        )


class CandleWire(WireModel):
    """``[ts, open, high, low, close, volume]``."""

    at: WireTime
    open: WireDecimal
    high: WireDecimal
    low: WireDecimal
    close: WireDecimal
    volume: WireDecimal

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or len(value) < 6:
            raise ValueError("k-line row must be [ts, open, high, low, close, volume]")
        return dict(zip(("at", "open", "high", "low", "close", "volume"), value, strict=False))

    def to_domain(self) -> Candle:
        return Candle(self.at, self.open, self.high, self.low, self.close, self.volume)


# --- parsing entry points ---------------------------------------------------------------


def parse_json(body: bytes | str) -> Any:
    """Decode a JSON body, numbers with fractions as ``Decimal``.

    Raises:
        MalformedResponse: not JSON (HTML page, truncated body, wrong encoding, too deep).
    """
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        raise MalformedResponse(f"body is not JSON: {type(e).__name__}") from e


_CONVERT_ERRORS = (ValidationError, ValueError, TypeError, ArithmeticError, OverflowError)


def _parse(adapter: TypeAdapter[T], raw: Any, what: str, convert: Callable[[T], R]) -> R:
    try:
        return convert(adapter.validate_python(raw))
    except _CONVERT_ERRORS as e:
        raise MalformedResponse(f"unexpected {what} body: {_summary(e)}") from e


def _summary(e: Exception) -> str:
    if isinstance(e, ValidationError):
        first = e.errors(include_url=False, include_input=False)[:1]
        where = ".".join(str(p) for p in first[0]["loc"]) if first else ""
        return f"{e.error_count()} error(s), first at {where!r}: {first[0]['msg'] if first else ''}"
    return f"{type(e).__name__}: {e}"[:200]


_MARKETS = TypeAdapter(list[MarketWire])
_TICKER = TypeAdapter(TickerWire)
_TICKERS = TypeAdapter(dict[Text, TickerWire])
_BOOK = TypeAdapter(OrderBookWire)
_BALANCES = TypeAdapter(list[BalanceWire])
_ORDER = TypeAdapter(OrderWire)
_ORDERS = TypeAdapter(list[OrderWire])
_FILLS = TypeAdapter(list[FillWire])
_PUBLIC_TRADES = TypeAdapter(list[PublicTradeWire])
_CANDLES = TypeAdapter(list[CandleWire])
_LEVELS = TypeAdapter(list[BookLevelWire])
_TIME = TypeAdapter(WireTime)


def parse_server_time(raw: Any) -> datetime:
    return _parse(_TIME, raw, "timestamp", lambda t: t)


def parse_markets(raw: Any) -> list[Market]:
    return _parse(_MARKETS, raw, "markets", lambda ms: [m.to_domain() for m in ms])


def parse_ticker(raw: Any, market: str, now: datetime) -> Ticker:
    return _parse(_TICKER, raw, "ticker", lambda t: t.to_domain(market, now))


def parse_tickers(raw: Any, now: datetime) -> dict[str, Ticker]:
    return _parse(
        _TICKERS, raw, "tickers", lambda ts: {m: t.to_domain(m, now) for m, t in ts.items()}
    )


def parse_order_book(raw: Any, market: str, depth: int | None = None) -> OrderBook:
    return _parse(_BOOK, raw, "order book", lambda b: b.to_domain(market, depth))


def parse_book_levels(raw: Any) -> list[tuple[Decimal, Decimal]]:
    """Validate one side of a streamed book as REST levels are; a zero amount removes a level.

    Raises:
        MalformedResponse: not a list of levels, or a price that is not finite and positive.
    """
    return _parse(_LEVELS, raw, "book levels", _priced_levels)


def _priced_levels(levels: list[BookLevelWire]) -> list[tuple[Decimal, Decimal]]:
    if any(lv.price <= 0 for lv in levels):
        raise ValueError("book price not positive")
    return [(lv.price, lv.amount) for lv in levels]


def parse_balances(raw: Any) -> list[Balance]:
    return _parse(_BALANCES, raw, "balances", lambda bs: [b.to_domain() for b in bs])


def parse_order(raw: Any) -> Order:
    return _parse(_ORDER, raw, "order", lambda o: o.to_domain())


def parse_orders(raw: Any) -> list[Order]:
    return _parse(_ORDERS, raw, "orders", lambda os_: [o.to_domain() for o in os_])


def parse_fills(raw: Any) -> list[Fill]:
    return _parse(_FILLS, raw, "trades", lambda fs: [f.to_domain() for f in fs])


def parse_public_trades(raw: Any, market: str) -> list[PublicTrade]:
    return _parse(
        _PUBLIC_TRADES, raw, "public trades", lambda ts: [t.to_domain(market) for t in ts]
    )


def parse_candles(raw: Any) -> list[Candle]:
    return _parse(_CANDLES, raw, "k-line", lambda cs: [c.to_domain() for c in cs])


def parse_order_state(raw: Any) -> OrderState:
    """Map a Peatio order state string to ours."""
    if not isinstance(raw, str) or raw not in ep.ORDER_STATES:
        shown = raw[:32] if isinstance(raw, str) else type(raw).__name__
        raise MalformedResponse(f"unknown order state {shown!r}")
    return ep.ORDER_STATES[raw]
