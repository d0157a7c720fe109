"""The seeded demo exchange: a handful of markets into USDT and an account with balances.

Liquid (btcusdt, ethusdt, dogeusdt), thin (qubicusdt, xyousdt), disabled (lunausdt), and
LTC that trades only against BTC (no USDT market). The demo account holds balances across
them, a dust balance (DOGE) and the LTC with no USDT market.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from bot.clock import Clock
from bot.domain.market import Market, MarketState
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine
from bot.sim.market_params import MarketParams

DEMO_KEY = "demo-key"
DEMO_SECRET = "demo-secret"  # noqa: S105 (a published demo credential for the local simulator)

_YEAR_S = 365 * 86_400


def _sigma(annual: float) -> float:
    return annual / math.sqrt(_YEAR_S)


@dataclass(frozen=True, slots=True)
class DemoMarket:
    market: Market
    params: MarketParams


def _demo(
    market_id: str,
    base: str,
    quote: str,
    *,
    mid0: str,
    pp: int,
    ap: int,
    min_amount: str,
    min_value: str,
    state: MarketState = MarketState.ENABLED,
    **model: object,
) -> DemoMarket:
    market = Market(
        id=market_id,
        base=base,
        quote=quote,
        amount_precision=ap,
        price_precision=pp,
        min_amount=Decimal(min_amount),
        min_price=Decimal(1).scaleb(-pp),
        min_value=Decimal(min_value),
        state=state,
    )
    params = MarketParams(
        mid0=Decimal(mid0),
        price_precision=pp,
        amount_precision=ap,
        min_amount=Decimal(min_amount),
        min_value=Decimal(min_value),
        **model,  # type: ignore[arg-type]
    )
    return DemoMarket(market, params)


def demo_markets() -> list[DemoMarket]:
    """Return the demo markets with realistic precisions, minimums and liquidity."""
    d = Decimal
    return [
        _demo("btcusdt", "btc", "usdt", mid0="65000.00", pp=2, ap=6, min_amount="0.00001",
              min_value="1", sigma_per_s=_sigma(0.6), half_spread_bps=5.0, d0=d("0.004"),
              alpha=0.5, level_ticks=500, rho=0.05, taker_rate_per_s=0.05,
              taker_size_scale=d("0.001"), daily_volume=d("10")),
        _demo("ethusdt", "eth", "usdt", mid0="3200.00", pp=2, ap=4, min_amount="0.0001",
              min_value="1", sigma_per_s=_sigma(0.75), half_spread_bps=6.0, d0=d("0.05"),
              alpha=0.5, level_ticks=50, rho=0.05, taker_rate_per_s=0.05,
              taker_size_scale=d("0.03"), daily_volume=d("150")),
        _demo("dogeusdt", "doge", "usdt", mid0="0.15000", pp=5, ap=1, min_amount="10",
              min_value="1", sigma_per_s=_sigma(1.0), half_spread_bps=8.0, d0=d("500"),
              alpha=0.4, level_ticks=3, rho=0.03, taker_rate_per_s=0.03,
              taker_size_scale=d("200"), daily_volume=d("900000")),
        _demo("qubicusdt", "qubic", "usdt", mid0="0.000002150", pp=9, ap=0,
              min_amount="1000", min_value="1", sigma_per_s=_sigma(1.5), half_spread_bps=70.0,
              d0=d("3000000"), alpha=0.3, rho=0.005, taker_rate_per_s=0.01,
              taker_size_scale=d("1000000"), daily_volume=d("2000000000"), step_s=5.0),
        _demo("xyousdt", "xyo", "usdt", mid0="0.006500", pp=6, ap=1, min_amount="100",
              min_value="1", sigma_per_s=_sigma(1.2), half_spread_bps=60.0, d0=d("2000"),
              alpha=0.4, level_ticks=2, rho=0.005, taker_rate_per_s=0.01,
              taker_size_scale=d("1500"), daily_volume=d("3000000"), step_s=5.0),
        _demo("lunausdt", "luna", "usdt", mid0="0.3500", pp=4, ap=2, min_amount="1",
              min_value="1", state=MarketState.DISABLED, half_spread_bps=40.0, d0=d("50"),
              level_ticks=2, step_s=5.0),
        _demo("ltcbtc", "ltc", "btc", mid0="0.0013000", pp=7, ap=4, min_amount="0.01",
              min_value="0.00001", sigma_per_s=_sigma(0.5), half_spread_bps=12.0, d0=d("1"),
              alpha=0.5, level_ticks=5, rho=0.02, taker_rate_per_s=0.01,
              taker_size_scale=d("0.5"), daily_volume=d("300"), step_s=5.0),
    ]  # fmt: skip


DEMO_BALANCES: dict[str, Decimal] = {
    "btc": Decimal("0.08"),
    "eth": Decimal("1.5"),
    "qubic": Decimal("120000000"),
    "xyo": Decimal("250000"),
    "doge": Decimal("3.7"),  # dust: below the market minimum
    "luna": Decimal("40"),  # its market is disabled
    "ltc": Decimal("2"),  # no USDT market
    "usdt": Decimal("12.5"),
}


def build_demo_engine(
    clock: Clock, seed: int | str | None
) -> tuple[MatchingEngine, dict[str, str]]:
    """Return the demo engine and its credentials ``{api_key: secret}``."""
    engine = MatchingEngine(clock, make_rng(seed, "sim.engine"))
    for demo in demo_markets():
        engine.add_market(demo.market, demo.params, seed=seed)
    for currency, amount in DEMO_BALANCES.items():
        engine.deposit(DEMO_KEY, currency, amount)
    return engine, {DEMO_KEY: DEMO_SECRET}
