"""A seeded, living market: mid price, background liquidity and other traders.

* Mid: geometric Brownian motion on a fixed time grid (``step_s``), optional Poisson jumps,
  optional scripted multiplier path (a crash is ``[(60, 1.0), (120, 0.7)]``: linear between
  points, relative to the model's start).
* Background book: around the touch (mid ± half spread, on the tick) the depth of the k-th
  level is ``d0·(1+k)^α``, levels ``level_ticks`` ticks apart. Liquidity that takers consume
  is ONE number per side, the consumed volume ``C``, which decays as ``C·e^(−ρt)``: the
  visible book is the depth profile with its first ``C`` units missing (Obizhaeva–Wang
  transient impact). Levels are materialised only when a taker walks the book or a
  snapshot is asked for.
* Other traders: market orders as a Poisson process (rate ``taker_rate_per_s``), both sides
  equally likely, sizes Pareto(``taker_size_scale``, ``pareto_alpha``).

The exogenous path (mid, arrival times, sides and sizes, ``exogenous.py``) comes from the
market's own rng streams and is drawn on a grid independent of when or how often
``events_until`` is called, so two runs with the same seed see the same market whatever the
strategy does (``shared``: they replay one drawn path). Model state
is float (it is a stochastic model, not money); everything leaving it is a Decimal on the
tick or lot, built from integers.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import cast

from bot.domain.market import BookLevel
from bot.domain.orders import Side
from bot.sim.exogenous import ExogenousPath, TakerArrival, script_factor, shared_path, touch_ticks
from bot.sim.market_params import MarketParams

_MEMO_MAX = 16_384  # memoised (tick, lots) → level conversions per precision before starting afresh
_TAILS_MAX = 2_048  # memoised snapshot tails per depth profile (a few hundred bytes each)
# Shared by every model with the same precisions (levels are immutable), so a fresh model,
# as the benchmark makes one per run, starts warm.
_LEVEL_MEMOS: dict[tuple[int, int], dict[tuple[int, int], BookLevel]] = {}
_PRICE_MEMOS: dict[int, dict[int, Decimal]] = {}  # tick → price, per precision, shared the same way
# untouched tails of snapshots, per depth profile, shared the same way (lists never handed out)
_TAILS: dict[tuple[object, ...], dict[tuple[int, int, int, int], list[BookLevel]]] = {}


def _forget_levels(price_precision: int, amount_precision: int) -> None:
    """Start the level memo of these precisions afresh, and the tails built from it: a tail
    only costs its list while its levels are the memo's, but one kept past the memo holds
    levels of its own (up to ``_TAILS_MAX`` tails of a book's depth each, tens of MB)."""
    _LEVEL_MEMOS.get((price_precision, amount_precision), {}).clear()
    for profile, tails in _TAILS.items():
        if profile[:2] == (price_precision, amount_precision):
            tails.clear()


@lru_cache(maxsize=64)
def _profile(
    d0_lots: float, alpha: float, levels: int
) -> tuple[list[float], list[float], list[int], int]:
    """Return (depth of level k, cumulative depth of levels 0..k, whole lots of level k, the
    first level from which every level shows at least a lot) — shared, never mutated."""
    depth = [d0_lots * (1 + k) ** alpha for k in range(levels)]
    cum, acc = [], 0.0
    for d in depth:
        acc += d
        cum.append(acc)
    lots = [int(d) for d in depth]
    positive_from = next((i for i in range(len(lots), 0, -1) if lots[i - 1] <= 0), 0)
    return depth, cum, lots, positive_from


@dataclass(slots=True)
class _Side:
    consumed_lots: float = 0.0
    touch: int = 0  # tick index of the background's best price before consumption


@dataclass
class MarketModel:
    """The exogenous market of one symbol, advanced lazily to any time."""

    market: str
    params: MarketParams
    seed: int | str | None
    start: float
    shared: bool = False  # replay the process's one path of this market, seed and start
    _bids: _Side = field(default_factory=_Side)
    _asks: _Side = field(default_factory=_Side)

    def __post_init__(self) -> None:
        p = self.params
        self._path = (
            shared_path(self.market, p, self.seed, self.start)
            if self.shared and self.seed is not None
            else ExogenousPath(self.market, p, self.seed, self.start)
        )
        self._private = not (self.shared and self.seed is not None)
        self._step_i = 0  # the next mid step and taker arrival, as indices into the path
        self._taker_i = 0
        self._tick = Decimal(1).scaleb(-p.price_precision)
        self._lot = Decimal(1).scaleb(-p.amount_precision)
        self._tick_f = float(self._tick)
        self._lot_f = float(self._lot)
        self._base = float(p.mid0)
        self.t = self.start
        # ``_positive_from``: levels from here on all show at least a lot when untouched (the
        # snapshot's fast tail)
        self._depth, self._cum, self._lots, self._positive_from = _profile(
            float(p.d0) / self._lot_f, p.alpha, p.max_levels
        )
        self._level_memo = _LEVEL_MEMOS.setdefault((p.price_precision, p.amount_precision), {})
        self._prices = _PRICE_MEMOS.setdefault(p.price_precision, {})
        profile_key = (p.price_precision, p.amount_precision, float(p.d0), p.alpha, p.max_levels)
        self._tails = _TAILS.setdefault(profile_key, {})
        self._mid_f = self._base
        self._set_touch()

    # exogenous path

    @property
    def mid(self) -> float:
        """Return the mid now (computed when time or the base moves, in ``_set_touch``)."""
        return self._mid_f

    def mid_price(self) -> Decimal:
        """Return the mid on the tick (memoised per tick: recorded at every mid step)."""
        tick = round(self._mid_f / self._tick_f)
        price = self._prices.get(tick)
        if price is None:
            if len(self._prices) > _MEMO_MAX:
                self._prices.clear()
            price = self._prices[tick] = Decimal(tick).scaleb(-self.params.price_precision)
        return price

    def events_until(self, t_end: float) -> Iterator[TakerArrival | None]:
        """Advance to ``t_end``, yielding at each mid step (None) and each taker arrival."""
        scripted = bool(self.params.script)
        path = self._path
        path.ensure(t_end)
        steps, bases, times, takers = path.step_times, path.bases, path.taker_times, path.takers
        mids, touches = path.mids, path.touches
        i, j = self._step_i - path.offset_steps, self._taker_i - path.offset_takers
        while True:
            t_step, t_taker = steps[i], times[j]
            if t_step <= t_taker:
                if t_step > t_end:
                    break
                self._decay_to(t_step)
                self._base = bases[i]
                self._mid_f = mids[i]  # ``_set_touch`` at the step, drawn with the path
                self._bids.touch, self._asks.touch = touches[i]
                i += 1
                self._step_i += 1
                yield None
            else:
                if t_taker > t_end:
                    break
                self._decay_to(t_taker)
                arrival = takers[j]
                j += 1
                self._taker_i += 1
                if scripted:  # else the mid (so the touch) moves only on mid steps
                    self._set_touch()
                if arrival is not None:
                    yield arrival
        self._decay_to(t_end)
        if scripted:
            self._set_touch()
        if self._private:
            path.forget(self._step_i, self._taker_i)

    def _decay_to(self, t: float) -> None:
        if t <= self.t:
            return
        rho = self.params.rho
        if rho > 0:
            f = math.exp(-rho * (t - self.t))
            self._bids.consumed_lots *= f
            self._asks.consumed_lots *= f
        self.t = t

    def _set_touch(self) -> None:
        p = self.params
        mid = self._mid_f = self._base * script_factor(p.script, self.t - self.start)
        self._bids.touch, self._asks.touch = touch_ticks(mid, p.half_spread_bps, self._tick_f)

    # background book

    def _state(self, resting: Side) -> _Side:
        return self._bids if resting is Side.BUY else self._asks

    def levels(self, resting: Side) -> Iterator[tuple[Decimal, Decimal]]:
        """Yield the visible background levels where ``resting`` orders sit, best first.

        Reads the consumed volume live, so consuming while iterating stays consistent.
        """
        st = self._state(resting)
        cum, depth = self._cum, self._depth
        sign = -1 if resting is Side.BUY else 1
        step = self.params.level_ticks
        pp, ap = self.params.price_precision, self.params.amount_precision
        k = bisect_right(cum, st.consumed_lots)
        while k < len(cum):
            tick = st.touch + sign * k * step
            if tick <= 0:
                return
            visible = min(depth[k], cum[k] - st.consumed_lots)
            lots = int(visible)
            if lots > 0:
                yield Decimal(tick).scaleb(-pp), Decimal(lots).scaleb(-ap)
            k = max(k + 1, bisect_right(cum, st.consumed_lots))

    def snapshot(self, resting: Side, depth: int) -> list[BookLevel]:
        """Return up to ``depth`` visible levels, best first: ``levels`` without consuming.

        The order-book hot path (every executor step reads a book). The partly consumed level
        and the one after it are computed exactly as ``levels`` does; past them every level
        shows its full depth, so the rest is built in one pass from memoised ``BookLevel``s.
        """
        st = self._state(resting)
        cum, sizes = self._cum, self._depth
        consumed = st.consumed_lots
        sign = -1 if resting is Side.BUY else 1
        step = self.params.level_ticks
        memo = self._level_memo
        if len(memo) > _MEMO_MAX:
            _forget_levels(self.params.price_precision, self.params.amount_precision)
        out: list[BookLevel] = []
        k, touch = bisect_right(cum, consumed), st.touch
        n = len(cum) if sign > 0 else min(len(cum), (touch - 1) // step + 1)  # ticks stay > 0
        exact_until = k + 2
        while k < n and len(out) < depth:
            if k >= exact_until and k >= self._positive_from:
                out.extend(
                    self._full_levels(
                        touch + sign * k * step, sign * step, k, min(n, k + depth - len(out))
                    )
                )
                break
            visible = cum[k] - consumed
            lots = int(sizes[k] if sizes[k] < visible else visible)
            if lots > 0:  # a whole level is memoised, a partly consumed one built
                tick = touch + sign * k * step
                out.append(
                    self._level(tick, lots)
                    if lots == self._lots[k]
                    else self._new_level(tick, lots)
                )
            k += 1
        return out

    def _new_level(self, tick: int, lots: int) -> BookLevel:
        p = self.params
        return BookLevel(
            Decimal(tick).scaleb(-p.price_precision), Decimal(lots).scaleb(-p.amount_precision)
        )

    def _level(self, tick: int, lots: int) -> BookLevel:
        """Return the memoised level of an untouched ``lots`` at ``tick``."""
        level = self._level_memo.get((tick, lots))
        if level is None:
            level = self._level_memo[tick, lots] = self._new_level(tick, lots)
        return level

    def _full_levels(self, first_tick: int, tick_step: int, k: int, stop: int) -> list[BookLevel]:
        """Return untouched levels ``k..stop-1`` (every one shows at least a lot), memoised:
        while the touch stays put, every snapshot asks for the same tail."""
        key = (first_tick, tick_step, k, stop)
        tail = self._tails.get(key)
        if tail is None:
            if len(self._tails) > _TAILS_MAX:
                self._tails.clear()
            tail = self._tails[key] = self._build_levels(first_tick, tick_step, k, stop)
        return tail

    def _build_levels(self, first_tick: int, tick_step: int, k: int, stop: int) -> list[BookLevel]:
        ticks = range(first_tick, first_tick + (stop - k) * tick_step, tick_step)
        keys = list(zip(ticks, self._lots[k:stop], strict=True))
        found = list(map(self._level_memo.get, keys))
        if None in found:
            return [lv or self._level(*key) for lv, key in zip(found, keys, strict=True)]
        return cast(list[BookLevel], found)

    def reaches(self, resting: Side, price: Decimal) -> bool:
        """Return whether the best visible level on ``resting`` is at ``price`` or better.

        ``levels``' first answer without building it: the matcher asks this at every market
        event for every explicit order at the front of the book.
        """
        st = self._state(resting)
        target = price.scaleb(self.params.price_precision)
        # consumption only moves the best level away from the touch: past it, never
        if (st.touch < target) if resting is Side.BUY else (st.touch > target):
            return False
        cum, depth, consumed = self._cum, self._depth, st.consumed_lots
        sign = -1 if resting is Side.BUY else 1
        k = bisect_right(cum, consumed)
        while k < len(cum):
            tick = st.touch + sign * k * self.params.level_ticks
            if tick <= 0:
                return False
            if int(min(depth[k], cum[k] - consumed)) > 0:
                return tick >= target if resting is Side.BUY else tick <= target
            k += 1
        return False

    def best(self, resting: Side) -> Decimal | None:
        return next(iter(self.levels(resting)), (None, None))[0]

    def consume(self, resting: Side, amount: Decimal) -> None:
        """Record that takers removed ``amount`` of background liquidity on that side."""
        self._state(resting).consumed_lots += float(amount) / self._lot_f

    def consumed(self, resting: Side) -> Decimal:
        """Return the consumed volume still missing on that side (base units)."""
        lots = self._state(resting).consumed_lots
        return Decimal(int(lots)).scaleb(-self.params.amount_precision)
