"""What an advisor decides, and the hard limits it can never exceed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum


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
    ``display_frac`` is the visible share of the remaining amount for iceberg.
    """

    strategy: StrategyName
    horizon_s: int
    slices: int = 1
    limit_offset_bps: Decimal = Decimal(0)
    display_frac: Decimal = Decimal("0.2")
    max_slippage_bps: Decimal = Decimal(100)
    reason: str = ""

    def with_(self, **changes: object) -> Decision:
        return replace(self, **changes)  # type: ignore[arg-type]


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
