"""What each ``Urgency`` means to the adaptive planner: a risk aversion and what follows from it.

In the spirit of Almgren–Chriss, a seller who fears the price moving away while they hold
(risk aversion ``λ``) trades faster early on: the optimal holdings decay as
``sinh(κ(T − t)) / sinh(κT)`` with ``κ² = λσ²/η``. We do not estimate ``σ`` and ``η`` per
sale; ``front_load`` is the dimensionless ``κT`` itself, so the schedule is

    sold fraction at τ = t/T:  1 − sinh(κT · (1 − τ)) / sinh(κT)     (κT = 0: linear, TWAP)

which is at or above the linear schedule for every ``κT ≥ 0``. The same risk aversion
shortens the fall detector's patience (fewer standard deviations before a fall is called,
fewer steps to sell the rest once it is) and the longest horizon a sale may take.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.decisions import Urgency


@dataclass(frozen=True, slots=True)
class UrgencyProfile:
    front_load: float  # κT of the Almgren–Chriss trajectory (0: linear)
    fall_sigmas: Decimal  # how many standard deviations of noise a fall must exceed
    fall_steps: int  # once falling, the rest is sold within this many steps
    horizon_share: Decimal  # of the configured longest horizon a sale may take


PROFILES: dict[Urgency, UrgencyProfile] = {
    Urgency.LOW: UrgencyProfile(1.0, Decimal("4.5"), 8, Decimal(1)),
    Urgency.MEDIUM: UrgencyProfile(2.0, Decimal("3.5"), 4, Decimal(1)),
    Urgency.HIGH: UrgencyProfile(6.0, Decimal(3), 2, Decimal("0.25")),
}


def profile(urgency: Urgency) -> UrgencyProfile:
    return PROFILES[urgency]


def scheduled_fraction(front_load: float, tau: float) -> Decimal:
    """Return the share of the allocation due by ``tau`` (elapsed / horizon, clipped to [0, 1])."""
    tau = min(1.0, max(0.0, tau))
    if front_load <= 0:
        return Decimal(str(tau))
    frac = 1.0 - math.sinh(front_load * (1.0 - tau)) / math.sinh(front_load)
    return Decimal(repr(max(tau, min(1.0, frac))))


def longest_horizon_s(max_horizon_s: int, min_horizon_s: int, urgency: Urgency) -> int:
    """Return the longest horizon a sale at ``urgency`` may take (never below the minimum)."""
    share = profile(urgency).horizon_share
    return max(min_horizon_s, int(max_horizon_s * share))
