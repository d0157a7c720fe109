"""Reuse a recent decision when the market situation has not materially changed.

The key is the market plus coarse buckets of what drives the decision: value, book fraction,
spread and volatility, each on a half-octave log scale (a bucket spans a factor of √2). Two
situations in the same buckets within ``ttl_s`` (on the injected clock) get the same advice
without another LLM call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.advisor.port import Advice, AdviceContext
from bot.clock import Clock

_UNKNOWN = -999


@dataclass(frozen=True, slots=True)
class Situation:
    market: str
    value: int
    book_fraction: int
    spread: int
    volatility: int


def _bucket(x: Decimal | None) -> int:
    # Half-octaves: log2(x) * 2, floored; zero and unknown get their own buckets
    if x is None:
        return _UNKNOWN
    if x <= 0:
        return _UNKNOWN + 1
    return math.floor(2 * math.log2(x))


def situation_of(ctx: AdviceContext) -> Situation:
    """Return the bucketed situation of ``ctx``."""
    m = ctx.metrics
    return Situation(
        market=ctx.market.id,
        value=_bucket(ctx.value_quote),
        book_fraction=_bucket(ctx.book_fraction),
        spread=_bucket(m.spread_bps),
        volatility=_bucket(m.volatility_bps_per_hour),
    )


class DecisionMemo:
    """Advice by situation, forgotten ``ttl_s`` after it was stored."""

    def __init__(self, clock: Clock, ttl_s: float, *, max_entries: int = 1024) -> None:
        self._clock = clock
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[Situation, tuple[float, Advice]] = {}

    def get(self, key: Situation) -> Advice | None:
        """Return the stored advice for ``key`` marked as a memo hit, or None if absent or stale."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, advice = entry
        if self._clock.monotonic() - stored_at >= self._ttl_s:
            del self._entries[key]
            return None
        return replace(advice, memo_hit=True, latency_ms=0)

    def put(self, key: Situation, advice: Advice) -> None:
        if self._ttl_s <= 0:
            return
        if len(self._entries) >= self._max_entries:
            self._evict()
        self._entries[key] = (self._clock.monotonic(), advice)

    def _evict(self) -> None:
        now = self._clock.monotonic()
        self._entries = {k: v for k, v in self._entries.items() if now - v[0] < self._ttl_s}
        while len(self._entries) >= self._max_entries:  # still full: drop the oldest
            del self._entries[next(iter(self._entries))]

    def __len__(self) -> int:
        return len(self._entries)
