"""The public record of one market: recent trades, minute buckets, ticker and k-lines."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from decimal import Decimal

from bot.domain.market import Candle, Ticker
from bot.domain.money import ZERO
from bot.sim.records import TradeRow, to_datetime

_DAY_MIN = 1440
KEEP_MINUTES = 7 * _DAY_MIN  # minute buckets kept for k-lines (the 24 h ticker needs a day)


class _Bucket:
    __slots__ = ("close", "high", "low", "open", "quote_volume", "volume")

    def __init__(self, price: Decimal) -> None:
        self.open = self.high = self.low = self.close = price
        self.volume = ZERO
        self.quote_volume = ZERO

    def price(self, price: Decimal) -> None:
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price


class _Window:
    """24 h aggregate of complete minutes before ``minute``."""

    __slots__ = ("high", "low", "minute", "open", "quote_volume", "volume")

    def __init__(self, minute: int) -> None:
        self.minute = minute
        self.open: Decimal | None = None
        self.high: Decimal | None = None
        self.low: Decimal | None = None
        self.volume = ZERO
        self.quote_volume = ZERO


class Tape:
    """Trades and prices of one market, bucketed by minute."""

    def __init__(
        self,
        market: str,
        *,
        start: float,
        amount_precision: int = 8,
        keep_trades: int = 1000,
        keep_minutes: int = KEEP_MINUTES,
    ) -> None:
        if keep_minutes < _DAY_MIN:
            raise ValueError("the 24 h ticker needs at least a day of minute buckets")
        self._keep_min = keep_minutes
        self.market = market
        self._lot = Decimal(1).scaleb(-amount_precision)
        self.trades: deque[TradeRow] = deque(maxlen=keep_trades)
        self._buckets: dict[int, _Bucket] = {}
        self._start = start
        self._window: _Window | None = None
        self._last_minute = -1
        self._last_bucket: _Bucket | None = None
        self._last_minute_end = 0.0  # where ``_last_minute`` ends, in seconds
        self.last: Decimal | None = None

    def record_trade(self, trade: TradeRow, total: Decimal | None = None) -> None:
        """Record a trade; ``total`` is its quote amount when the caller has it already."""
        self.trades.append(trade)
        price, amount, at = trade[1], trade[2], trade[4]  # see ``TradeRow``
        bucket = self._bucket(at, price)
        bucket.volume += amount
        bucket.quote_volume += amount * price if total is None else total
        self.last = price

    def record_price(self, at: float, price: Decimal) -> None:
        """Record a quote (mid) sample: moves the bucket's OHLC, not its volume."""
        self._bucket(at, price)

    def _bucket(self, at: float, price: Decimal) -> _Bucket:
        """Return the bucket of ``at``'s minute with ``price`` applied to its OHLC."""
        last = self._last_bucket
        if last is not None and self._last_minute_end - 60.0 <= at < self._last_minute_end:
            last.price(price)  # the same minute as the last sample: every sample but a few
            return last
        minute = int(at // 60)
        if minute == self._last_minute and self._last_bucket is not None:
            self._last_bucket.price(price)
            return self._last_bucket
        bucket = self._buckets.get(minute)
        if bucket is None:
            bucket = self._buckets[minute] = _Bucket(price)
            if len(self._buckets) > self._keep_min + 60:
                for old in list(self._buckets)[:60]:
                    del self._buckets[old]
        else:
            bucket.price(price)
        self._last_minute, self._last_bucket = minute, bucket
        self._last_minute_end = (minute + 1) * 60.0
        return bucket

    def _day_window(self, minute: int) -> _Window:
        window = self._window
        if window is not None and window.minute == minute:
            return window
        window = _Window(minute)
        for m in range(minute - _DAY_MIN + 1, minute):
            b = self._buckets.get(m)
            if b is None:
                continue
            if window.open is None:
                window.open = b.open
            window.high = b.high if window.high is None else max(window.high, b.high)
            window.low = b.low if window.low is None else min(window.low, b.low)
            window.volume += b.volume
            window.quote_volume += b.quote_volume
        self._window = window
        return window

    def ticker(
        self,
        now: float,
        *,
        fallback_price: Decimal,
        best_bid: Decimal | None,
        best_ask: Decimal | None,
        baseline_volume: Decimal = ZERO,
    ) -> Ticker:
        """Return the 24 h ticker; ``baseline_volume`` stands in for history before the start."""
        minute = int(now // 60)
        window = self._day_window(minute)
        last = self.last if self.last is not None else fallback_price
        prices = [p for p in (window.open, window.high, window.low) if p is not None]
        current = self._buckets.get(minute)
        volume, quote_volume = window.volume, window.quote_volume
        if current is not None:
            prices += [current.open, current.high, current.low]
            volume += current.volume
            quote_volume += current.quote_volume
        elapsed = now - self._start
        if baseline_volume and elapsed < 86_400:
            share = Decimal(int((86_400 - elapsed) * 1000)) / Decimal(86_400_000)
            history = (baseline_volume * share).quantize(self._lot)
            volume += history
            quote_volume += history * last
        prices.append(last)
        open_ = window.open if window.open is not None else (current.open if current else last)
        return Ticker(
            market=self.market,
            last=last,
            high=max(prices),
            low=min(prices),
            open=open_,
            volume=volume,
            quote_volume=quote_volume,
            at=to_datetime(now),
            best_bid=best_bid,
            best_ask=best_ask,
        )

    def candles(self, period_min: int, time_from: int, time_to: int) -> list[Candle]:
        """Return OHLCV candles of ``period_min`` minutes starting in [time_from, time_to]."""
        period = max(1, period_min)
        first = (time_from // 60) // period * period
        last = time_to // 60
        out: dict[int, _Bucket] = {}
        for minute, b in self._buckets.items():
            if minute < first or minute > last:
                continue
            start = minute // period * period
            agg = out.get(start)
            if agg is None:
                agg = out[start] = _Bucket(b.open)
                agg.high, agg.low = b.high, b.low
            else:
                agg.high = max(agg.high, b.high)
                agg.low = min(agg.low, b.low)
            agg.close = b.close
            agg.volume += b.volume
        return [
            Candle(
                at=datetime_of_minute(start),
                open=b.open,
                high=b.high,
                low=b.low,
                close=b.close,
                volume=b.volume,
            )
            for start, b in sorted(out.items())
        ]


def datetime_of_minute(minute: int) -> datetime:
    return to_datetime(minute * 60.0)
