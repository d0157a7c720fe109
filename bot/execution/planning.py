"""Pure planners: TWAP schedule, iceberg clips, marketable prices and the adaptive step rule.

Nothing here does I/O or reads time; every input is an argument, so each function is
property-tested on its own.

Adaptive rule (``adaptive_step``), evaluated once per step of ``step_s`` seconds. Two
schedules: ``linear(t) = allocated · t / horizon`` (TWAP's pace) and the urgency's
``due(t) = allocated · f(t / horizon)``, the Almgren–Chriss trajectory with ``κT =
front_load`` (``execution/urgency.py``; ``f(τ) ≥ τ``, equal at ``low``).

1. ``final`` — when at most ``FINAL_STEPS`` steps are left, take the bids for everything left
   (down to the bound): completing inside the horizon beats saving a few bps.
2. ``falling`` — the fall detector (``_falling``) watches the best ask of everyone else
   (``others_best_ask``: the mid moves with our own sells and our own resting asks, the
   others' asks only with the market). A fall is called when that price has fallen from its
   first reading by more than ``fall_sigmas`` standard deviations of its own step-to-step
   changes over the steps elapsed (``volatility · √steps``), by more than half the spread,
   steadily (the t statistic of the whole move below ``FALL_T``, and no single change more
   than ``MAX_JUMP_SHARE`` of it: one jump is not a trend), and not before ``FALL_MIN_STEPS``
   steps (the noise of two or three changes is not a measurement). Once called it holds while the
   t statistic stays below ``FALL_T / 2``. The fall response sells the rest within
   ``fall_steps`` steps of the first call (each step the rest over the steps still left of
   those), or more when more bids are above the mid less ``FALL_WAIT_STEPS`` steps of drift
   (what waiting would lose); never below the bound (the price floor). A fall called before
   a restart stands after it (``fall_restored``, ``execution/fall.py``).
3. ``behind`` — never behind the linear schedule: when what was sold is below
   ``linear(elapsed + step_s)``, take the bids for that deficit now, so the sold share is at
   or above ``linear(t)`` until the next step whatever the resting order does. And when
   what was sold trails ``due(elapsed)`` by more than the tolerance, take the bids for the
   deficit ``due(elapsed + step_s) - sold``. The tolerance is ``BEHIND_STEPS`` steps of pace,
   shrunk by volatility: ``tolerance / (1 + volatility_bps / spread_bps)`` — when prices move
   more per step than the spread we hope to earn, waiting is the expensive choice.
4. ``tight`` — when the spread is at most one tick (nothing to earn by posting) and the bids
   above the bound cover the deficit, take the bids for the deficit. ``restless`` — the same
   when one step's volatility exceeds ``RESTLESS_RATIO`` (half) the spread: a resting ask
   is then a gamble on the next move more than an edge.
5. ``passive`` — otherwise (ahead of both schedules) rest a limit one tick inside the best
   ask when the spread is wider than two ticks (improve), at the best ask otherwise (join),
   never at or below the best bid and never below the bound. Its size: everything left
   while the book is calm (the spread over ``CALM_RATIO`` times the measured step
   volatility: a resting ask is an option given to buyers, cheap while prices move little
   against the edge), else what ``due`` asks ``LOOKAHEAD_STEPS`` steps ahead. Offering
   everything early sells more at the ask before a fall.

In a thin, wide book TWAP pays half the spread plus impact on every slice; the adaptive rule
earns the spread while it is on pace and pays it only for the part it is behind. The
benchmark runs that set these constants are in ``docs/benchmark.md``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from bot.domain.market import Market, OrderBook
from bot.domain.money import BPS, ZERO, quantize_down, quantize_price_up
from bot.execution.urgency import scheduled_fraction

FINAL_STEPS = 2
BEHIND_STEPS = Decimal(2)
LOOKAHEAD_STEPS = 3
CALM_RATIO = Decimal(8)
RESTLESS_RATIO = Decimal("0.5")
FALL_SIGMAS = Decimal(3)
FALL_T = Decimal(-2)
FALL_STEPS = 8
FALL_WAIT_STEPS = 2
MAX_JUMP_SHARE = Decimal("0.5")
FALL_MIN_STEPS = 5  # no fall is called on fewer steps: their noise is not yet measured


@dataclass(frozen=True, slots=True)
class SlicePlan:
    """One TWAP slice: when it is due and the cumulative amount sold by its end."""

    index: int
    due_at: float
    target: Decimal


def twap_schedule(
    amount: Decimal,
    slices: int,
    horizon_s: float,
    start: float,
    rng: random.Random,
    jitter_s: float,
    market: Market,
    min_slice: Decimal,
) -> list[SlicePlan]:
    """Return slice times and cumulative targets for selling ``amount`` over the horizon.

    Slices are equal on the lot grid (the last takes the rounding remainder); fewer slices are
    used when equal slices would fall below ``min_slice``. The first slice is due at ``start``;
    later ones get seeded jitter of at most a quarter interval, so times stay increasing and
    inside ``[start, start + horizon_s)``. An amount below ``min_slice`` gives no slices (dust).
    """
    total = quantize_down(amount, market.amount_precision)
    min_slice = max(min_slice, market.lot)
    if total < min_slice:
        return []
    n = max(1, min(slices, int(total / min_slice)))
    base = quantize_down(total / n, market.amount_precision)
    sizes = [base] * (n - 1) + [total - base * (n - 1)]
    if sum(sizes) != total:  # the runtime check nautilus keeps in twap.py
        raise ArithmeticError("twap slices do not sum to the allocation")
    interval = max(0.0, horizon_s) / n
    jitter = max(0.0, min(jitter_s, interval / 4))
    plans: list[SlicePlan] = []
    cumulative = ZERO
    for i, size in enumerate(sizes):
        cumulative += size
        offset = rng.uniform(-jitter, jitter) if i > 0 and jitter > 0 else 0.0
        plans.append(SlicePlan(index=i, due_at=start + i * interval + offset, target=cumulative))
    return plans


def iceberg_next_clip(
    remaining: Decimal, display_frac: Decimal, market: Market, min_clip: Decimal
) -> Decimal:
    """Return the visible size of the next iceberg clip (0 when ``remaining`` is dust).

    The clip is ``display_frac`` of the remaining amount, at least ``min_clip``; a clip that
    would leave less than ``min_clip`` behind takes the whole remainder instead.
    """
    left = quantize_down(max(ZERO, remaining), market.amount_precision)
    min_clip = max(min_clip, market.lot)
    if left < min_clip:
        return ZERO
    clip = max(quantize_down(left * display_frac, market.amount_precision), min_clip)
    if left - clip < min_clip:
        clip = left
    return min(clip, left)


def marketable_price(book: OrderBook, amount: Decimal, bound: Decimal, market: Market) -> Decimal:
    """Return the sell price that reaches deep enough into the bids to fill ``amount``.

    It is the price of the deepest bid level needed, never below ``bound``; with no bids (or
    not enough above the bound) it is the bound itself.
    """
    left = amount
    price = bound
    for level in book.bids:
        if level.price < bound:
            break
        price = level.price
        left -= level.amount
        if left <= 0:
            break
    return max(quantize_price_up(price, market.price_precision), bound)


def others_best_ask(book: OrderBook, own: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Return the best ask of everyone else: ``book``'s asks less our own ``(price, left)``.

    The seller's own price signal: our sells consume bids and our resting asks sit inside the
    spread, so the mid moves with what we do; the others' asks move only with the market.
    """
    ours: dict[Decimal, Decimal] = {}
    for price, left in own:
        ours[price] = ours.get(price, ZERO) + left
    for level in book.asks:
        if level.amount > ours.get(level.price, ZERO):
            return level.price
    return None


def bid_amount_above(book: OrderBook, bound: Decimal) -> Decimal:
    """Return the base amount resting on bids at or above ``bound``."""
    total = ZERO
    for lv in book.bids:  # best first: the first below the bound ends it
        if lv.price < bound:
            break
        total += lv.amount
    return total


def passive_price(book: OrderBook, bound: Decimal, market: Market) -> Decimal:
    """Return a resting sell price: improve the best ask by a tick if the spread allows, else join.

    Without an ask the price sits ``LOOKAHEAD_STEPS`` ticks above the best bid; it never
    crosses the best bid and never goes below the bound.
    """
    tick = market.tick
    bid, ask = book.best_bid, book.best_ask
    if ask is None:
        price = (bid + tick * LOOKAHEAD_STEPS) if bid is not None else bound
    elif bid is not None and ask - bid > 2 * tick:
        price = ask - tick
    else:
        price = ask
    if bid is not None and price <= bid:
        price = bid + tick
    return max(quantize_price_up(price, market.price_precision), bound)


AdaptiveMode = Literal["final", "falling", "behind", "tight", "restless", "passive"]


@dataclass(frozen=True, slots=True)
class AdaptiveAction:
    mode: AdaptiveMode
    aggressive: bool
    price: Decimal
    amount: Decimal  # wanted amount before minimums and what is already committed


@dataclass(frozen=True, slots=True)
class AdaptiveInputs:
    allocated: Decimal
    sold: Decimal
    elapsed_s: float
    horizon_s: float
    step_s: float
    volatility_bps: Decimal
    bound: Decimal
    drop_bps: Decimal = ZERO  # how far the price watched fell from its first reading (bps)
    drift_t: Decimal = ZERO  # t statistic of the mean step-to-step mid change
    drift_bps: Decimal = ZERO  # mean step-to-step mid change (negative: falling)
    fell: bool = False  # an earlier step of this execution found the mid falling
    jump_share: Decimal = ZERO  # the largest single fall as a share of the whole fall
    fall_volatility_bps: Decimal | None = None  # of the price watched for falls (None: same)
    fell_steps: int = 0  # steps since the fall was first called (0: now or never)
    fall_restored: bool = False  # a fall called before a restart, not yet re-measured
    front_load: float = 0.0  # κT of the urgency's schedule (0: linear)
    fall_sigmas: Decimal = FALL_SIGMAS
    fall_steps: int = FALL_STEPS


def _due(inputs: AdaptiveInputs, at_s: float, front_load: float | None = None) -> Decimal:
    """Return what the schedule asks to be sold by ``at_s`` (linear with ``front_load`` 0)."""
    if inputs.horizon_s <= 0:
        return inputs.allocated
    kappa = inputs.front_load if front_load is None else front_load
    return inputs.allocated * scheduled_fraction(kappa, at_s / inputs.horizon_s)


def adaptive_step(book: OrderBook, inputs: AdaptiveInputs, market: Market) -> AdaptiveAction:
    """Choose passive or aggressive for this step (the rule is in the module docstring)."""
    remaining = max(ZERO, inputs.allocated - inputs.sold)
    time_left = inputs.horizon_s - inputs.elapsed_s
    step = max(inputs.step_s, 1e-9)
    deficit = max(ZERO, _due(inputs, inputs.elapsed_s + step) - inputs.sold)
    deficit = min(deficit, remaining)

    def take(mode: AdaptiveMode, amount: Decimal) -> AdaptiveAction:
        price = marketable_price(book, amount, inputs.bound, market)
        return AdaptiveAction(mode=mode, aggressive=True, price=price, amount=amount)

    if time_left <= FINAL_STEPS * step:
        return take("final", remaining)
    spread_bps = book.spread_bps
    spread = spread_bps if spread_bps is not None and spread_bps > 0 else Decimal(1)
    linear_deficit = min(remaining, _due(inputs, inputs.elapsed_s + step, 0.0) - inputs.sold)
    holds = inputs.fell and (inputs.drift_t < FALL_T / 2 or inputs.fall_restored)
    if holds or _falling(inputs, spread):
        steps_left = max(1, min(int(time_left / step), inputs.fall_steps - inputs.fell_steps))
        worth = _worth_selling_now(book, inputs, market)
        cheap = bid_amount_above(book, worth) if worth is not None else remaining
        wanted = max(remaining / steps_left, cheap, linear_deficit)
        return take("falling", min(remaining, wanted))
    if linear_deficit > 0:
        return take("behind", max(linear_deficit, deficit))
    pace_step = inputs.allocated * Decimal(str(min(1.0, step / max(inputs.horizon_s, 1e-9))))
    tolerance = BEHIND_STEPS * pace_step / (1 + max(ZERO, inputs.volatility_bps) / spread)
    if _due(inputs, inputs.elapsed_s) - inputs.sold > tolerance and deficit > 0:
        return take("behind", deficit)
    bid, ask = book.best_bid, book.best_ask
    tight = bid is not None and ask is not None and ask - bid <= market.tick
    restless = inputs.volatility_bps > RESTLESS_RATIO * spread
    if (tight or restless) and deficit > 0 and bid_amount_above(book, inputs.bound) >= deficit:
        return take("tight" if tight else "restless", deficit)
    amount = min(remaining, max(ZERO, _passive_target(inputs, spread) - inputs.sold))
    price = passive_price(book, inputs.bound, market)
    return AdaptiveAction(mode="passive", aggressive=False, price=price, amount=amount)


def _passive_target(inputs: AdaptiveInputs, spread_bps: Decimal) -> Decimal:
    """Return how much should be sold once the resting order fills.

    A resting ask is an option given to the market: a move up of more than our edge sells it
    below the new mid. While one step's noise is small next to the spread (``spread_bps >
    CALM_RATIO · volatility_bps``, volatility measured), the whole rest is offered; otherwise
    only the pace ``LOOKAHEAD_STEPS`` steps ahead.
    """
    volatility = inputs.volatility_bps
    if volatility > 0 and spread_bps > CALM_RATIO * volatility:
        return inputs.allocated
    return _due(inputs, inputs.elapsed_s + LOOKAHEAD_STEPS * inputs.step_s)


def _worth_selling_now(book: OrderBook, inputs: AdaptiveInputs, market: Market) -> Decimal | None:
    """Return the lowest price worth taking now in a fall (None: any price down to the bound).

    A unit left for later waits ``FALL_WAIT_STEPS`` steps or so and loses the drift meanwhile:
    ``−drift_bps · FALL_WAIT_STEPS``. Bids above the mid less that loss are cheaper now; the
    rest goes on the fall schedule (the book recovers in between).
    """
    mid = book.mid
    if mid is None or inputs.drift_bps >= 0:
        return None
    steps_left = max(0.0, (inputs.horizon_s - inputs.elapsed_s) / max(inputs.step_s, 1e-9))
    loss_bps = -inputs.drift_bps * Decimal(str(min(steps_left, FALL_WAIT_STEPS)))
    if loss_bps >= BPS:
        return None
    return max(quantize_price_up(mid * (1 - loss_bps / BPS), market.price_precision), inputs.bound)


def _falling(inputs: AdaptiveInputs, spread_bps: Decimal) -> bool:
    """Return whether the price watched fell from its first reading by more than its noise
    and half the spread, steadily (not in one jump)."""
    if inputs.drift_t > FALL_T or inputs.drop_bps <= spread_bps / 2:
        return False
    if inputs.jump_share > MAX_JUMP_SHARE:  # one jump, not a steady fall
        return False
    steps_f = inputs.elapsed_s / max(inputs.step_s, 1e-9)
    if steps_f < FALL_MIN_STEPS:
        return False
    steps = Decimal(str(steps_f))
    noise = (
        inputs.volatility_bps if inputs.fall_volatility_bps is None else inputs.fall_volatility_bps
    )
    return inputs.drop_bps > inputs.fall_sigmas * noise * steps.sqrt()


def limit_price(book: OrderBook, offset_bps: Decimal, bound: Decimal, market: Market) -> Decimal:
    """Return the decision's limit price: ``offset_bps`` above the best bid, never below bound.

    Without bids the best ask is used (joined), and with an empty book the bound.
    """
    bid, ask = book.best_bid, book.best_ask
    if bid is not None:
        price = bid * (1 + offset_bps / BPS)
    elif ask is not None:
        price = ask
    else:
        price = bound
    return max(quantize_price_up(price, market.price_precision), bound)


def resting_price(book: OrderBook, offset_bps: Decimal, bound: Decimal, market: Market) -> Decimal:
    """Return a limit price that rests: the decision's price, at least one tick over the bid."""
    price = limit_price(book, offset_bps, bound, market)
    bid = book.best_bid
    if bid is not None and price <= bid:
        price = bid + market.tick
    return max(price, bound)


def drop_bps(arrival: Decimal | None, mid: Decimal | None) -> Decimal:
    """Return how far ``mid`` is below ``arrival`` in bps (negative above; 0 if unknown)."""
    if arrival is None or mid is None or arrival <= 0:
        return ZERO
    return (arrival - mid) / arrival * BPS
