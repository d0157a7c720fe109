"""Parameters of one simulated market (``MarketModel`` and its exogenous path read them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class MarketParams:
    """Parameters of one simulated market; precisions and minimums mirror the Market."""

    mid0: Decimal
    price_precision: int
    amount_precision: int
    sigma_per_s: float = 0.0
    jump_rate_per_s: float = 0.0
    jump_mean: float = 0.0  # mean log jump
    jump_std: float = 0.0
    script: tuple[tuple[float, float], ...] = ()  # (seconds from start, multiplier)
    half_spread_bps: float = 10.0
    d0: Decimal = Decimal(1)  # base amount on the touch level
    alpha: float = 0.0  # depth growth with distance from the touch
    rho: float = 0.01  # resilience, 1/s
    taker_rate_per_s: float = 0.0
    taker_size_scale: Decimal = Decimal(0)
    pareto_alpha: float = 1.8
    taker_size_cap: float = 50.0  # largest taker as a multiple of the scale
    min_amount: Decimal = Decimal(0)
    min_value: Decimal = Decimal(0)
    daily_volume: Decimal = Decimal(0)  # base volume reported as history before the start
    step_s: float = 1.0
    level_ticks: int = 1  # background levels sit every ``level_ticks`` ticks
    max_levels: int = 2000

    @staticmethod
    def flat(
        mid0: Decimal,
        *,
        q_per_price: Decimal,
        half_spread_bps: float,
        rho: float,
        price_precision: int,
        amount_precision: int,
    ) -> MarketParams:
        """Return a calibration market: no noise, no drift, no takers, flat depth ``q``."""
        tick = Decimal(1).scaleb(-price_precision)
        return MarketParams(
            mid0=mid0,
            price_precision=price_precision,
            amount_precision=amount_precision,
            half_spread_bps=half_spread_bps,
            d0=q_per_price * tick,
            alpha=0.0,
            rho=rho,
            max_levels=50_000,
        )
