"""Obizhaeva–Wang closed forms and the optimal schedule, run as a real executor.

With a flat book of depth ``q`` (base units per price unit), half spread ``s`` and consumed
liquidity recovering at rate ``rho``, selling ``X`` over a horizon ``T`` costs, in expectation
and relative to the arrival mid (price units times base units):

* all at once: ``X²/(2q) + s·X``
* uniformly (continuous TWAP): ``(X²/q)·(ρT − 1 + e^(−ρT))/(ρT)² + s·X``
* optimally: ``X²/(q·(ρT + 2)) + s·X`` — a block of ``X/(ρT+2)`` at the start and at the end,
  and a constant rate ``ρX/(ρT+2)`` in between.

The optimal cost is the expected lower bound for strategies that only take liquidity. The
discrete version (``N`` intervals of length ``τ``, ``a = e^(−ρτ)``) sends
``X/((N−1)(1−a)+2)`` first and last and ``X(1−a)/((N−1)(1−a)+2)`` at each interior step.
"""

from __future__ import annotations

import math
from decimal import Decimal

from bot.domain.executions import Execution
from bot.domain.money import ZERO, quantize_down
from bot.execution.actions import order_book, sell, settle_open
from bot.execution.guards import min_sellable
from bot.execution.planning import bid_amount_above, marketable_price
from bot.execution.port import DONE, ExecutionContext, ExecutorFactory, Progress, StepResult

OPTIMAL_STEPS = 30
END_MARGIN_S = 5.0  # the last block goes this long before the horizon, to leave time to fill


def dump_cost(x: float, q: float, half_spread: float) -> float:
    return x * x / (2 * q) + half_spread * x


def uniform_cost(x: float, q: float, half_spread: float, rho: float, horizon_s: float) -> float:
    rt = rho * horizon_s
    if rt <= 1e-9:
        return dump_cost(x, q, half_spread)
    return (x * x / q) * (rt - 1 + math.exp(-rt)) / rt**2 + half_spread * x


def optimal_cost(x: float, q: float, half_spread: float, rho: float, horizon_s: float) -> float:
    return x * x / (q * (rho * horizon_s + 2)) + half_spread * x


def cost_bps(cost: float, x: float, mid: float) -> float:
    """Return a cost in price·base units as bps of the arrival value."""
    return cost / (x * mid) * 10_000 if x > 0 and mid > 0 else 0.0


def optimal_weights(steps: int, rho: float, horizon_s: float) -> list[float]:
    """Return the discrete optimal fractions of X for trades at ``n·T/steps``, n = 0..steps."""
    n = max(1, steps)
    a = math.exp(-rho * horizon_s / n)
    denom = (n - 1) * (1 - a) + 2
    inner = (1 - a) / denom
    return [1 / denom] + [inner] * (n - 1) + [1 / denom]


class OptimalExecutor:
    """Trade the discrete Obizhaeva–Wang schedule with the market's true resilience."""

    def __init__(self, ctx: ExecutionContext, execution: Execution, *, rho: float) -> None:
        self._ctx = ctx
        horizon = max(0.0, float(execution.decision.horizon_s) - END_MARGIN_S)
        weights = optimal_weights(OPTIMAL_STEPS, rho, horizon)
        start = ctx.started(execution)
        total = quantize_down(execution.allocated, ctx.market.amount_precision)
        self.plan: list[tuple[float, Decimal]] = []
        cumulative = 0.0
        for i, w in enumerate(weights):
            cumulative += w
            target = quantize_down(total * Decimal(repr(min(cumulative, 1.0))), 8)
            at = start + horizon * i / OPTIMAL_STEPS
            self.plan.append((at, total if i == len(weights) - 1 else min(target, total)))

    async def step(self, execution: Execution) -> StepResult:
        ctx = self._ctx
        now = ctx.clock.time()
        rest_s = ctx.guards.poll_interval_s
        progress = await settle_open(ctx, execution)
        if isinstance(progress, StepResult):
            return progress
        end = ctx.horizon_end(execution)
        if now >= end:
            return DONE
        due = [target for at, target in self.plan if at <= now]
        upcoming = [at for at, _ in self.plan if at > now]
        next_due = upcoming[0] if upcoming else min(now + rest_s, end)
        want = (due[-1] if due else ZERO) - progress.committed
        if want <= 0 or progress.room(execution) <= 0:
            return StepResult(next_due) if upcoming or want > 0 else DONE
        book = await order_book(ctx)
        if bid_amount_above(book, ctx.bound) <= 0:
            return StepResult(min(next_due, now + rest_s))
        price = marketable_price(book, want, ctx.bound, ctx.market)
        placed = await sell(
            ctx, execution, progress, self._no_dust_tail(progress, execution, want, price), price
        )
        if any(not o.state.terminal for o in placed):
            return StepResult(now + rest_s)
        return StepResult(next_due)

    def _no_dust_tail(
        self, progress: Progress, execution: Execution, want: Decimal, price: Decimal
    ) -> Decimal:
        """Round ``want`` up to the minimum, and take the whole rest if it would be dust."""
        room = progress.room(execution)
        minimum = min_sellable(self._ctx.market, price, self._ctx.guards)
        want = min(want, room)
        if ZERO < want < minimum <= room:
            want = minimum
        if room - want < minimum:
            want = room
        return want


def optimal_factory(rho: float) -> ExecutorFactory:
    """Return an executor factory bound to the scenario's true resilience."""

    def make(ctx: ExecutionContext, execution: Execution) -> OptimalExecutor:
        return OptimalExecutor(ctx, execution, rho=rho)

    return make
