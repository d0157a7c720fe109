"""Statistics of a price sampled at uneven times: volatility per step, drift, its t, jumps.

The adaptive executor reads a price every step (sooner after an aggressive step), keeps the
last ``window`` readings in a ``PriceSeries`` and asks it for ``MidStats``. Each reading's
change is computed once, when it arrives; the statistics over the window are summed in order
each time, so they equal ``mid_stats`` over the same readings exactly.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.money import BPS, ZERO

DRIFT_T_CAP = Decimal(1000)

# a change between two readings: (change in bps, seconds apart, change per √s); None where
# the pair is unusable (no earlier price, or no time between them)
_Pair = tuple[Decimal, float, Decimal] | None


@dataclass(frozen=True, slots=True)
class MidStats:
    """Consecutive price changes in bps per step: their standard deviation, the mean change
    (the drift) and the t statistic of the whole move."""

    volatility_bps: Decimal = ZERO
    drift_bps: Decimal = ZERO  # negative: falling
    drift_t: Decimal = ZERO
    jump_share: Decimal = ZERO  # largest single fall / the whole fall, scaled (0 unless falling)


class PriceSeries:
    """The last ``window`` readings of a price and the changes between them."""

    def __init__(self, window: int) -> None:
        self._last: tuple[Decimal, float] | None = None
        self._pairs: deque[_Pair] = deque(maxlen=max(1, window - 1))

    def add(self, price: Decimal, at: float) -> None:
        if self._last is not None:
            self._pairs.append(_pair(*self._last, price, at))
        self._last = (price, at)

    def stats(self, step_s: float) -> MidStats:
        return _stats([p for p in self._pairs if p is not None], step_s)


def _pair(a: Decimal, t0: float, b: Decimal, t1: float) -> _Pair:
    if a <= 0 or t1 <= t0:
        return None
    change = (b - a) / a * BPS
    return change, t1 - t0, change / Decimal(repr(math.sqrt(t1 - t0)))


def mid_stats(
    mids: list[Decimal], times: list[float] | None = None, step_s: float = 1.0
) -> MidStats:
    """Return the statistics of consecutive mid changes (all 0 with < 3 mids).

    With ``times`` (when each mid was read) the samples may be unevenly spaced, as the
    adaptive executor's are (a step after an aggressive one comes sooner): each change is
    divided by the square root of its interval, so the deviation is per √s, and scaled to
    ``step_s``; the drift is the whole move over the whole time, per ``step_s``; the t
    statistic is the whole move over its noise, ``Σ change / (σ √(Σ interval))``. Without
    ``times`` the samples are one step apart. A steady fall gives a large negative
    ``drift_t``; one jump among noise gives about −1.
    """
    if times is None:
        times = [i * step_s for i in range(len(mids))]
    series = PriceSeries(len(mids))
    for mid, at in zip(mids, times, strict=True):
        series.add(mid, at)
    return series.stats(step_s)


def _stats(pairs: list[tuple[Decimal, float, Decimal]], step_s: float) -> MidStats:
    if len(pairs) < 2:
        return MidStats()
    changes, intervals, scaled = zip(*pairs, strict=True)
    _, sd_root = _mean_sd(scaled)  # bps per √s
    move = sum(changes, ZERO)
    elapsed = Decimal(repr(sum(intervals)))
    step = Decimal(repr(step_s))
    drift = move / elapsed * step
    if sd_root == 0:
        t = ZERO if move == 0 else DRIFT_T_CAP.copy_sign(move)
    else:
        t = max(-DRIFT_T_CAP, min(DRIFT_T_CAP, move / (sd_root * elapsed.sqrt())))
    share = ZERO
    if move < 0:  # against the share an even fall would have, 1/n (at least 1/3)
        largest = -min(changes) / -move
        share = min(Decimal(1), largest * min(len(pairs), 3) / 3)
    return MidStats(
        volatility_bps=sd_root * step.sqrt(), drift_bps=drift, drift_t=t, jump_share=share
    )


def _mean_sd(changes: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    mean = sum(changes, ZERO) / len(changes)
    var = ZERO
    for c in changes:  # d·d is d**2 correctly rounded, as the power is, and cheaper
        d = c - mean
        var += d * d
    return mean, (var / (len(changes) - 1)).sqrt()


def realised_volatility_bps(mids: list[Decimal]) -> Decimal:
    """Return the standard deviation of consecutive mid changes, in bps (0 with < 3 mids)."""
    return mid_stats(mids).volatility_bps


def drift_t_stat(mids: list[Decimal]) -> Decimal:
    """Return the t statistic of the mean mid change (negative: falling; 0 with < 3 mids)."""
    return mid_stats(mids).drift_t
