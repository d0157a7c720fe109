"""The benchmark's markets: one readable table, and how a row becomes a simulated market.

Every market quotes around a mid of 100 USDT with a 0.01 tick (1 bps) and a 0.01 lot. The
background book is flat (``alpha = 0``): ``depth`` base units every ``level_bps`` basis
points, so the Obizhaeva–Wang depth per price unit is ``q = depth / (level_bps · 0.01)`` and
the closed forms in ``oracle.py`` hold with the scenario's true parameters. ``rho`` is the
resilience of consumed liquidity (1/s). Other traders arrive as a Poisson process
(``takers_per_s``) with Pareto sizes of scale ``taker_scale``. ``sigma_bps_s`` is the mid's
volatility in bps per √s; ``script`` is a deterministic multiplier path (seconds, factor).

Sizes are fractions of the daily volume ``daily``; the dust scenario instead sells balances
worth 0.5×, 1× and 1.5× the minimum notional ``min_value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.market import Market
from bot.sim.market_params import MarketParams

MID0 = Decimal(100)
PRICE_PRECISION = 2
AMOUNT_PRECISION = 2
HORIZON_S = 300
SLICES = 10
MAX_SLIPPAGE_BPS = Decimal(400)  # the guard every strategy runs under (floor = mid · (1 − 4%))
SIZES: tuple[tuple[str, Decimal], ...] = (
    ("0.1%", Decimal("0.001")),
    ("1%", Decimal("0.01")),
    ("10%", Decimal("0.1")),
)
DUST_SIZES: tuple[tuple[str, Decimal], ...] = (
    ("0.5x", Decimal("0.5")),
    ("1x", Decimal(1)),
    ("1.5x", Decimal("1.5")),
)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    half_spread_bps: float
    depth: Decimal  # base units per level
    level_bps: int  # levels this many ticks (bps) apart
    rho: float  # resilience, 1/s
    sigma_bps_s: float  # mid volatility, bps per sqrt(second)
    takers_per_s: float
    taker_scale: Decimal  # Pareto scale of other traders' sizes
    daily: Decimal  # daily volume, base units
    script: tuple[tuple[float, float], ...] = ()
    jumps_per_s: float = 0.0
    jump_std: float = 0.0
    min_value: Decimal = Decimal(1)  # minimum notional, quote
    dust: bool = False

    @property
    def q(self) -> float:
        """Return the Obizhaeva–Wang depth: base units per price unit."""
        return float(self.depth) / (self.level_bps * float(MID0) / 10_000)

    @property
    def half_spread(self) -> float:
        """Return the half spread in price units."""
        return float(MID0) * self.half_spread_bps / 10_000

    def sizes(self) -> tuple[tuple[str, Decimal], ...]:
        """Return (label, amount to sell) for each size of this scenario."""
        if self.dust:
            return tuple(
                (label, (self.min_value * k / MID0).quantize(Decimal("0.01")))
                for label, k in DUST_SIZES
            )
        return tuple((label, (self.daily * f).quantize(Decimal("0.01"))) for label, f in SIZES)


D = Decimal
# name            half-spread depth  level  rho    sigma   takers scale    daily   extras
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("liquid",  5.0, D(50), 5, 0.05, 0.3, 0.4, D("0.3"), D(10_000)),
    Scenario("thin",   30.0, D(4),  5, 0.01, 0.5, 0.1, D("0.3"), D(2_000)),
    Scenario("wide",  100.0, D(20), 5, 0.02, 0.5, 0.1, D("1"),   D(4_000)),
    Scenario("trend",   5.0, D(50), 5, 0.05, 0.3, 0.4, D("0.3"), D(10_000),
             script=((0.0, 1.0), (300.0, 0.99), (600.0, 0.98))),
    Scenario("crash",   5.0, D(50), 5, 0.05, 0.3, 0.4, D("0.3"), D(10_000),
             script=((0.0, 1.0), (60.0, 1.0), (90.0, 0.85), (240.0, 0.93))),
    Scenario("volatile", 10.0, D(30), 5, 0.03, 4.0, 0.3, D("0.3"), D(6_000),
             jumps_per_s=0.01, jump_std=0.01),
    Scenario("dust",    5.0, D(50), 5, 0.05, 0.3, 0.4, D("0.3"), D(10_000),
             min_value=D(10), dust=True),
)  # fmt: skip


def advisor_view(s: Scenario, amount: Decimal) -> tuple[object, ...]:
    """Return everything of a case the advisor sees when it decides (at the start).

    The opening book (half spread, depth, level spacing: the mid opens at ``MID0`` in every
    scenario), the daily volume, the volatility it is told, the minimum notional and the
    amount. Drift, scripts, jumps, resilience and other traders are invisible to it: cases
    with one view get one decision, whatever happens after.
    """
    return (amount, s.half_spread_bps, s.depth, s.level_bps, s.sigma_bps_s, s.daily, s.min_value)


def scenario(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def market_of(s: Scenario) -> Market:
    return Market(
        id="benchusdt",
        base="bench",
        quote="usdt",
        amount_precision=AMOUNT_PRECISION,
        price_precision=PRICE_PRECISION,
        min_amount=Decimal("0.01"),
        min_price=Decimal("0.01"),
        min_value=s.min_value,
    )


def params_of(s: Scenario) -> MarketParams:
    return MarketParams(
        mid0=MID0,
        price_precision=PRICE_PRECISION,
        amount_precision=AMOUNT_PRECISION,
        sigma_per_s=s.sigma_bps_s / 10_000,
        jump_rate_per_s=s.jumps_per_s,
        jump_std=s.jump_std,
        script=s.script,
        half_spread_bps=s.half_spread_bps,
        d0=s.depth,
        alpha=0.0,
        rho=s.rho,
        taker_rate_per_s=s.takers_per_s,
        taker_size_scale=s.taker_scale,
        min_amount=Decimal("0.01"),
        min_value=s.min_value,
        daily_volume=s.daily,
        step_s=1.0,
        level_ticks=s.level_bps,
        max_levels=2000,
    )
