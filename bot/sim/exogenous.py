"""The exogenous path of a simulated market: mid steps and other traders' arrivals.

Both are drawn from the market's own rng streams in a fixed order, lazily, as far ahead as
a model has been asked to advance: the mid stream gives one GBM step (and maybe a jump) per
``step_s``; the takers' stream gives the first gap, then per arrival its side, its size and
the gap to the next. Nothing here depends on what any trader does, which is what lets
``shared_path`` hand one path to every model of the same market, seed and start: the
benchmark replays each case's market for seven strategies and draws it once.

A private path (a model of its own, as the simulator server uses: ``sellbot sim serve``,
``sellbot run --simulate``) forgets what its model has consumed, so a market that runs for
weeks keeps a bounded memory; a shared one keeps everything (benchmark runs are minutes long).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.orders import Side
from bot.rand import make_rng
from bot.sim.market_params import MarketParams

_SHARED_MAX = 8  # paths kept per process (the benchmark needs the current case's)
_SHARED: dict[tuple[object, ...], ExogenousPath] = {}
_TRIM_AT = 4_096  # a private path drops its consumed entries past this many


def script_factor(points: tuple[tuple[float, float], ...], rel: float) -> float:
    """Return the scripted multiplier ``rel`` seconds after the start (linear between points)."""
    if not points or rel <= points[0][0]:
        return points[0][1] if points else 1.0
    for (t0, m0), (t1, m1) in itertools.pairwise(points):
        if rel <= t1:
            return m0 + (m1 - m0) * (rel - t0) / (t1 - t0) if t1 > t0 else m1
    return points[-1][1]


def touch_ticks(mid: float, half_spread_bps: float, tick: float) -> tuple[int, int]:
    """Return the background's best bid and ask around ``mid``, as tick indices."""
    hs = half_spread_bps / 10_000
    bid = math.floor(mid * (1 - hs) / tick + 1e-9)
    ask = math.ceil(mid * (1 + hs) / tick - 1e-9)
    if ask <= bid:
        ask = bid + 1
    return max(bid, 0), ask


@dataclass(slots=True)
class TakerArrival:
    side: Side  # the taker's side (buy takes asks)
    amount: Decimal


class ExogenousPath:
    """Mid bases at each step and taker arrivals, drawn on demand and kept in lists.

    ``step_times[i]`` is when mid step ``i`` happens and ``bases[i]`` the base after it;
    ``taker_times[j]`` is when arrival ``j`` happens and ``takers[j]`` what it is (None for
    a size below one lot). ``offset_steps``/``offset_takers`` count entries already dropped.
    """

    def __init__(
        self, market: str, params: MarketParams, seed: int | str | None, start: float
    ) -> None:
        self._p = params
        self._mid_rng = make_rng(seed, f"sim.{market}")
        self._taker_rng = make_rng(seed, f"sim.{market}.takers")
        self._lot_f = float(Decimal(1).scaleb(-params.amount_precision))
        self._tick_f = float(Decimal(1).scaleb(-params.price_precision))
        self._start = start
        dt = params.step_s
        self._gbm_drift = -0.5 * params.sigma_per_s**2 * dt
        self._gbm_vol = params.sigma_per_s * math.sqrt(dt)
        self._base = float(params.mid0)
        self._next_step = start + dt
        rate = params.taker_rate_per_s
        self._next_taker = start + self._taker_rng.expovariate(rate) if rate > 0 else math.inf
        self.step_times: list[float] = []
        self.bases: list[float] = []
        self.mids: list[float] = []  # the mid at step ``i``: base times the script
        self.touches: list[tuple[int, int]] = []  # the best bid and ask ticks at step ``i``
        self.taker_times: list[float] = []
        self.takers: list[TakerArrival | None] = []
        self.offset_steps = 0
        self.offset_takers = 0

    def ensure(self, t_end: float) -> None:
        """Draw until both lists end with an entry after ``t_end``."""
        if not self.step_times or self.step_times[-1] <= t_end:
            self._draw_steps(t_end)
        if not self.taker_times or self.taker_times[-1] <= t_end:
            self._draw_takers(t_end)

    def _draw_steps(self, t_end: float) -> None:
        p, rng = self._p, self._mid_rng
        times, bases, mids, touches = self.step_times, self.bases, self.mids, self.touches
        base, t = self._base, self._next_step
        while True:
            if p.sigma_per_s > 0:
                base *= math.exp(self._gbm_drift + self._gbm_vol * rng.gauss(0.0, 1.0))
            if p.jump_rate_per_s > 0 and rng.random() < p.jump_rate_per_s * p.step_s:
                base *= math.exp(rng.gauss(p.jump_mean, p.jump_std))
            mid = base * script_factor(p.script, t - self._start)
            times.append(t)
            bases.append(base)
            mids.append(mid)
            touches.append(touch_ticks(mid, p.half_spread_bps, self._tick_f))
            t += p.step_s
            if times[-1] > t_end:
                break
        self._base, self._next_step = base, t

    def _draw_takers(self, t_end: float) -> None:
        p, rng = self._p, self._taker_rng
        times, takers = self.taker_times, self.takers
        t = self._next_taker
        if math.isinf(t):
            times.append(t)
            takers.append(None)
            self._next_taker = t
            return
        scale, cap, exp = float(p.taker_size_scale), p.taker_size_cap, -1.0 / p.pareto_alpha
        while True:
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            u = 1.0 - rng.random()
            lots = int(scale * min(u**exp, cap) / self._lot_f)
            times.append(t)
            takers.append(
                TakerArrival(side, Decimal(lots).scaleb(-p.amount_precision)) if lots > 0 else None
            )
            t += rng.expovariate(p.taker_rate_per_s)
            if times[-1] > t_end:
                break
        self._next_taker = t

    def forget(self, steps: int, takers: int) -> None:
        """Drop entries before absolute indices ``steps``/``takers`` (a private path only)."""
        if steps - self.offset_steps >= _TRIM_AT:
            k = steps - self.offset_steps
            del self.step_times[:k], self.bases[:k], self.mids[:k], self.touches[:k]
            self.offset_steps = steps
        if takers - self.offset_takers >= _TRIM_AT:
            k = takers - self.offset_takers
            del self.taker_times[:k], self.takers[:k]
            self.offset_takers = takers


def shared_path(
    market: str, params: MarketParams, seed: int | str | None, start: float
) -> ExogenousPath:
    """Return the one path of this market, seed and start in this process (a few kept)."""
    key = (market, params, seed, start)
    path = _SHARED.get(key)
    if path is None:
        if len(_SHARED) >= _SHARED_MAX:
            del _SHARED[next(iter(_SHARED))]
        path = _SHARED[key] = ExogenousPath(market, params, seed, start)
    return path
