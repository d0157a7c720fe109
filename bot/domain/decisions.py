"""What an advisor decides, and the hard limits it can never exceed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Urgency(StrEnum):
    """How much calm-market saving a sale trades for protection against a fall.

    ``low``: cheapest in calm markets, slowest to react; ``high``: sells fast, pays the
    spread. What each level means to the adaptive executor is in ``execution/urgency.py``.
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _URGENCY_ORDER.index(self)


_URGENCY_ORDER = (Urgency.LOW, Urgency.MEDIUM, Urgency.HIGH)


def urgency_between(value: Urgency, low: Urgency, high: Urgency) -> Urgency:
    """Return ``value`` pulled into ``[low, high]`` (by rank)."""
    rank = max(low.rank, min(value.rank, high.rank))
    return _URGENCY_ORDER[rank]


class StrategyName(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    TWAP = "twap"
    ICEBERG = "iceberg"
    ADAPTIVE = "adaptive"


@dataclass(frozen=True, slots=True)
class Decision:
    """A strategy and its parameters.

    ``limit_offset_bps`` is how far above the best bid a passive price sits (limit, iceberg);
    ``display_frac`` is the visible share of the remaining amount for iceberg;
    ``urgency`` how fast ``adaptive`` sells and reacts to a fall.
    """

    strategy: StrategyName
    horizon_s: int
    slices: int = 1
    limit_offset_bps: Decimal = Decimal(0)
    display_frac: Decimal = Decimal("0.2")
    max_slippage_bps: Decimal = Decimal(100)
    reason: str = ""
    urgency: Urgency = Urgency.MEDIUM


@dataclass(frozen=True, slots=True)
class Limits:
    """Guardrails from settings: the advisor chooses inside them."""

    max_slippage_bps: Decimal
    min_slices: int
    max_slices: int
    min_horizon_s: int
    max_horizon_s: int
    max_limit_offset_bps: Decimal = Decimal(200)
    min_display_frac: Decimal = Decimal("0.05")
    max_display_frac: Decimal = Decimal(1)
    urgency: Urgency = Urgency.MEDIUM  # the configured default (SELLBOT_URGENCY)
    min_urgency: Urgency = Urgency.LOW
    max_urgency: Urgency = Urgency.HIGH
