"""``RuleAdvisor``: a deterministic strategy choice from a handful of documented thresholds.

With F = book fraction (our value / bid depth within 5% of mid), S = spread in bps and
σ = volatility in bps per hour, the first matching row decides:

| condition                               | strategy | parameters                                |
|-----------------------------------------|----------|-------------------------------------------|
| no order book                           | limit    | offset 0 (at the best bid), 15 min        |
| value at the best bid < market minimum  | limit    | offset to the price that qualifies, 10 min|
| F ≤ SMALL_FRACTION and S ≤ TIGHT_SPREAD | market   | one order now                             |
| S > TIGHT_SPREAD and F ≤ MEDIUM_FRACTION| adaptive | 10 min, urgency one below: earn the spread|
| S > TIGHT_SPREAD                        | adaptive | slices by F, horizon by slices; one below |
| F > LARGE_FRACTION                      | adaptive | 1 h: passive while on pace                |
| σ ≤ HIGH_VOLATILITY (room for steps)    | adaptive | slices by F, horizon by slices; one above |
| otherwise                               | twap     | a slice per SLICE_FRACTION of F, 1 min    |

Then σ > HIGH_VOLATILITY halves the horizon (get out before the price moves away). The
urgency is the configured one (``SELLBOT_URGENCY``) except where a row says one level below
(a wide spread: patience earns it) or above (a mid-size sale in a tight, calm book: there is
little spread to earn and a fall costs more than selling fast; only when that urgency's
longest horizon leaves the schedule ``MIN_ADAPTIVE_HORIZON_S`` to work in, else TWAP as
before). The guardrails clamp everything into the configured limits, urgency included. The
slippage allowance is always the configured maximum: the executors' price floor does the
protecting.

The urgency shifts follow the benchmark's frontier (``docs/benchmark.md``): low urgency is
the cheapest in the wide and thin books, and in the books that open like the liquid one
(liquid, trend, crash look the same at the start) high urgency has the least regret at 1%
and, weighted by the default scenario frequencies, at 10% of daily volume — in sample too.

The spread and large rows choose ``adaptive`` because the execution-quality benchmark
(``sellbot bench``) measured it cheaper there than ``limit``, ``twap`` and ``iceberg``, which
they chose before (figures in ``docs/benchmark.md``). Those rows are therefore chosen in
sample: the regret the benchmark reports for them is not an out-of-sample figure.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import ROUND_CEILING, Decimal

from bot.advisor.guardrails import clamp
from bot.advisor.port import Advice, AdviceContext
from bot.domain.decisions import Decision, Limits, StrategyName, Urgency
from bot.execution.urgency import longest_horizon_s

SMALL_FRACTION = Decimal("0.02")
MEDIUM_FRACTION = Decimal("0.10")
LARGE_FRACTION = Decimal("0.50")
SLICE_FRACTION = Decimal("0.02")
TIGHT_SPREAD = Decimal(30)
HIGH_VOLATILITY = Decimal(150)
SLICE_SECONDS = 60
LIMIT_HORIZON_S = 600
NO_BOOK_HORIZON_S = 900
LARGE_HORIZON_S = 3600
MIN_ADAPTIVE_HORIZON_S = 60  # 30 steps of at least the 2 s order poll
_BPS = Decimal("0.01")
_FRAC = Decimal("0.0001")
_LEVELS = (Urgency.LOW, Urgency.MEDIUM, Urgency.HIGH)


class RuleAdvisor:
    """Deterministic advice; the default when no Cerebras key is configured."""

    name = "rules"

    def __init__(self, limits: Limits) -> None:
        self._limits = limits

    async def advise(self, ctx: AdviceContext) -> Advice:
        return Advice(decision=self.decide(ctx), advisor=self.name)

    def decide(self, ctx: AdviceContext) -> Decision:
        """Return the clamped rule decision for ``ctx`` (pure)."""
        decision = _choose(ctx, self._limits)
        volatility = ctx.metrics.volatility_bps_per_hour
        if volatility is not None and volatility > HIGH_VOLATILITY:
            decision = replace(
                decision,
                horizon_s=decision.horizon_s // 2,
                reason=f"{decision.reason}; volatility {volatility:.0f} bps/h, horizon halved",
            )
        return clamp(decision, self._limits)


def _choose(ctx: AdviceContext, limits: Limits) -> Decision:
    fraction = ctx.book_fraction
    spread = ctx.metrics.spread_bps
    slippage = limits.max_slippage_bps
    if fraction is None or spread is None:
        return Decision(
            StrategyName.LIMIT,
            NO_BOOK_HORIZON_S,
            max_slippage_bps=slippage,
            reason="no order book: rest at the best bid",
            urgency=limits.urgency,
        )
    calm = ctx.metrics.volatility_bps_per_hour is None or (
        ctx.metrics.volatility_bps_per_hour <= HIGH_VOLATILITY
    )
    urgency = limits.urgency
    qualifying = _qualifying_offset(ctx)
    if qualifying is not None:
        return Decision(
            StrategyName.LIMIT,
            LIMIT_HORIZON_S,
            limit_offset_bps=qualifying,
            max_slippage_bps=slippage,
            reason=f"below the minimum order value at the bid: rest {qualifying} bps above it",
            urgency=urgency,
        )
    if fraction <= SMALL_FRACTION and spread <= TIGHT_SPREAD:
        return Decision(
            StrategyName.MARKET,
            limits.min_horizon_s,
            max_slippage_bps=slippage,
            reason=f"small ({fraction} of 5% depth), tight spread {spread:.0f} bps",
            urgency=urgency,
        )
    slices = _slices(fraction)
    if spread > TIGHT_SPREAD:
        horizon = LIMIT_HORIZON_S if fraction <= MEDIUM_FRACTION else slices * SLICE_SECONDS
        return Decision(
            StrategyName.ADAPTIVE,
            horizon,
            slices=slices,
            limit_offset_bps=_offset(spread),
            max_slippage_bps=slippage,
            reason=f"spread {spread:.0f} bps, {fraction} of depth: rest inside it on pace",
            urgency=shifted(urgency, -1),
        )
    if fraction > LARGE_FRACTION:
        return Decision(
            StrategyName.ADAPTIVE,
            LARGE_HORIZON_S,
            slices=slices,
            max_slippage_bps=slippage,
            reason=f"large: {fraction} of 5% depth, passive while on pace over an hour",
            urgency=urgency,
        )
    fast = shifted(urgency, +1)
    if calm and longest_horizon_s(limits.max_horizon_s, limits.min_horizon_s, fast) >= (
        MIN_ADAPTIVE_HORIZON_S
    ):
        return Decision(
            StrategyName.ADAPTIVE,
            slices * SLICE_SECONDS,
            slices=slices,
            max_slippage_bps=slippage,
            reason=f"{fraction} of 5% depth, tight spread {spread:.0f} bps: sell fast on pace",
            urgency=fast,
        )
    return Decision(
        StrategyName.TWAP,
        slices * SLICE_SECONDS,
        slices=slices,
        max_slippage_bps=slippage,
        reason=f"{fraction} of 5% depth: spread over {slices} slices",
        urgency=urgency,
    )


def shifted(urgency: Urgency, by: int) -> Urgency:
    """Return the urgency ``by`` levels above (below, if negative), kept within low..high."""
    return _LEVELS[max(0, min(len(_LEVELS) - 1, urgency.rank + by))]


def _qualifying_offset(ctx: AdviceContext) -> Decimal | None:
    """Return the offset above the bid at which a too-small-at-the-bid sale is allowed.

    A balance just above the market's minimum order value at mid can be below it at the
    best bid: a market sell would be refused, a limit a little higher is not. None when a
    sale at the bid already qualifies (or there is no bid).
    """
    bid, minimum, amount = ctx.metrics.best_bid, ctx.market.min_value, ctx.amount
    if bid is None or bid <= 0 or amount <= 0 or not minimum or amount * bid >= minimum:
        return None
    needed = (minimum / (amount * bid) - 1) * 10_000
    return (needed + 1).quantize(_BPS, rounding=ROUND_CEILING)


def _offset(spread_bps: Decimal) -> Decimal:
    # A third of the spread above the bid: inside the spread, yet well below the ask
    return (spread_bps / 3).quantize(_BPS)


def _slices(fraction: Decimal) -> int:
    return max(1, math.ceil(fraction / SLICE_FRACTION))
