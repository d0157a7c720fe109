"""Peatio wire shapes of the simulator's records: strings for money, ISO-8601 for times.

This is the simulator's own rendering, written from the API reference; it deliberately
shares nothing with the client's parser, so a format bug cannot hide on both sides.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain.market import Candle, Market, OrderBook, Ticker
from bot.domain.money import ZERO
from bot.sim.records import SimFill, SimOrder, SimTrade, to_datetime

Json = dict[str, Any]


def iso(at: float | datetime) -> str:
    """Render a time as ISO-8601 UTC with milliseconds and a ``Z``."""
    dt = to_datetime(at) if isinstance(at, float | int) else at
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_micro(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def market_json(m: Market) -> Json:
    return {
        "id": m.id,
        "name": f"{m.base.upper()}/{m.quote.upper()}",
        "base_unit": m.base,
        "quote_unit": m.quote,
        "min_price": str(m.min_price),
        "max_price": str(m.max_price),
        "min_amount": str(m.min_amount),
        "amount_precision": m.amount_precision,
        "price_precision": m.price_precision,
        "state": str(m.state),
    }


def _change_percent(t: Ticker) -> str:
    if not t.open:
        return "+0.00%"
    pct = (t.last - t.open) / t.open * 100
    return f"{'+' if pct >= 0 else '-'}{abs(pct):.2f}%"


def ticker_fields(t: Ticker) -> Json:
    """Render a ticker flat, as the ``trade`` family answers it (with its ``at``)."""
    avg = t.quote_volume / t.volume if t.volume else t.last
    quote_volume = t.quote_volume.quantize(Decimal("1e-8")) if t.quote_volume else ZERO
    return {
        "at": int(t.at.timestamp()),
        "amount": str(quote_volume),
        "avg_price": str(avg.quantize(t.last) if t.last else avg),
        "high": str(t.high),
        "last": str(t.last),
        "low": str(t.low),
        "open": str(t.open),
        "price_change_percent": _change_percent(t),
        "volume": str(t.volume),
        "vol": str(t.volume),
        "buy": num(t.best_bid),
        "sell": num(t.best_ask),
    }


def ticker_json(t: Ticker) -> Json:
    """Render a ticker wrapped, as Peatio answers it: ``{"at", "ticker": {...}}``."""
    return {"at": int(t.at.timestamp()), "ticker": ticker_fields(t)}


def depth_json(book: OrderBook, limit: int, at: float) -> Json:
    """Render a book as ``["price", "amount"]`` pairs, best first, ``limit`` per side."""
    return {
        "timestamp": int(at),
        "asks": [[str(lv.price), str(lv.amount)] for lv in book.asks[:limit]],
        "bids": [[str(lv.price), str(lv.amount)] for lv in book.bids[:limit]],
    }


def currency_json(currency: str) -> Json:
    """Render a currency; the shape is assumed (Peatio's), no source shows SafeTrade's."""
    return {"id": currency, "name": currency.upper(), "precision": 8, "type": "coin"}


def fees_json(maker: Decimal, taker: Decimal) -> list[Json]:
    """Render one fee schedule for every market and member group (shape assumed, Peatio's)."""
    return [{"market_id": "any", "maker": str(maker), "taker": str(taker), "group": "any"}]


def member_json(uid: str) -> Json:
    """Render the account's profile (shape assumed, Barong's); never the API key."""
    return {"uid": uid, "email": None, "level": 3, "state": "active"}


def order_json(o: SimOrder) -> Json:
    out: Json = {
        "id": o.id,
        "uuid": o.uuid,
        "side": str(o.side),
        "ord_type": str(o.ord_type),
        "price": num(o.price),
        "avg_price": str(o.avg_price),
        "state": o.state,
        "market": o.market,
        "created_at": iso(o.created_at),
        "updated_at": iso(o.updated_at),
        "origin_volume": str(o.origin),
        "remaining_volume": str(o.remaining),
        "executed_volume": str(o.executed),
        "trades_count": o.trades_count,
    }
    if o.client_id is not None:
        out["client_id"] = o.client_id
    return out


def level_json(market: str, side: str, price: Decimal, amount: Decimal, at: float) -> Json:
    """Render an aggregated book level as a Peatio order object."""
    return {
        "side": side,
        "ord_type": "limit",
        "price": str(price),
        "avg_price": "0",
        "state": "wait",
        "market": market,
        "created_at": iso(at),
        "origin_volume": str(amount),
        "remaining_volume": str(amount),
        "executed_volume": "0",
    }


def fill_json(f: SimFill) -> Json:
    return {
        "id": f.trade_id,
        "price": str(f.price),
        "amount": str(f.amount),
        "total": str(f.total),
        "market": f.market,
        "side": str(f.side),
        "order_id": f.order_id,
        "fee": str(f.fee),
        "fee_currency": f.fee_currency,
        "fee_amount": str(f.fee),
        "taker_type": str(f.taker_type),
        "created_at": iso(f.at),
    }


def trade_json(t: SimTrade) -> Json:
    return {
        "id": t.id,
        "price": str(t.price),
        "amount": str(t.amount),
        "total": str(t.price * t.amount),
        "market": t.market,
        "taker_type": str(t.taker_side),
        "created_at": iso(t.at),
    }


def candle_json(c: Candle) -> list[int | str]:
    return [
        int(c.at.timestamp()),
        str(c.open),
        str(c.high),
        str(c.low),
        str(c.close),
        str(c.volume),
    ]
