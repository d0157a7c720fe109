"""Balances and how the prioritiser sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    available: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.available + self.locked


class Classification(StrEnum):
    SELL = "sell"
    DUST = "dust"
    EXCLUDED = "excluded"
    NO_MARKET = "no_market"
    MARKET_DISABLED = "market_disabled"


@dataclass(frozen=True, slots=True)
class ScoreMetrics:
    """Typed market measurements behind a score (quote amounts; ``None`` when unknown).

    These describe the market, not our balance: the share of the book a sale would eat
    follows from ``BalanceScore.value_quote / depth_5pct_quote``.
    """

    best_bid: Decimal | None = None
    mid: Decimal | None = None
    spread_bps: Decimal | None = None
    depth_1pct_quote: Decimal | None = None
    depth_5pct_quote: Decimal | None = None
    volume_24h_quote: Decimal | None = None
    volatility_bps_per_hour: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BalanceScore:
    """A balance, its classification and the components behind its priority score."""

    currency: str
    market: str | None
    amount: Decimal
    classification: Classification
    score: Decimal
    value_quote: Decimal
    components: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    metrics: ScoreMetrics | None = None
