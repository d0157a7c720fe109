"""The optimal schedule reproduces the Obizhaeva–Wang closed form on a flat simulated book."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from bot.bench.oracle import (
    cost_bps,
    dump_cost,
    optimal_cost,
    optimal_weights,
    uniform_cost,
)
from bot.bench.report import eta
from bot.clock import VirtualClock
from bot.domain.market import Market
from bot.domain.orders import OrderType, Side
from bot.sim.engine import MatchingEngine
from bot.sim.market_params import MarketParams

MID = Decimal(100)
Q = Decimal(1000)
HALF_SPREAD = 0.1  # 10 bps of 100


def _flat_engine(clock: VirtualClock, rho: float) -> MatchingEngine:
    engine = MatchingEngine(clock, random.Random(0), fee_rate=Decimal(0))
    market = Market(
        id="flatusdt", base="flat", quote="usdt", amount_precision=2, price_precision=2,
        min_amount=Decimal("0.01"), min_price=Decimal("0.01"),
    )  # fmt: skip
    params = MarketParams.flat(
        MID, q_per_price=Q, half_spread_bps=10.0, rho=rho, price_precision=2, amount_precision=2
    )
    engine.add_market(market, params, seed=1)
    engine.deposit("us", "flat", Decimal(10**6))
    return engine


async def test_optimal_schedule_costs_the_obizhaeva_wang_closed_form() -> None:
    clock = VirtualClock()
    horizon_s, rho, steps = 600.0, 1 / 300, 120
    engine = _flat_engine(clock, rho)
    total = 2400.0
    weights = optimal_weights(steps, rho, horizon_s)
    proceeds, sold = Decimal(0), Decimal(0)

    cumulative = 0.0
    for n, w in enumerate(weights):
        cumulative += w
        amount = Decimal(repr(round(total * cumulative, 2))) - sold
        if amount > 0:
            order = engine.place_order("us", "flatusdt", Side.SELL, OrderType.MARKET, amount)
            proceeds += order.funds
            sold += amount
        if n < steps:
            await clock.advance(horizon_s / steps)

    cost = float(sold * MID - proceeds)
    expected = optimal_cost(total, float(Q), HALF_SPREAD, rho, horizon_s)
    assert sold == Decimal(2400)
    assert abs(cost / expected - 1) < 0.02, (cost, expected)


def test_closed_forms_order_dump_above_uniform_above_optimal() -> None:
    x, q, s, rho, t = 2400.0, 1000.0, 0.1, 1 / 300, 600.0

    dump, uniform, best = (
        dump_cost(x, q, s),
        uniform_cost(x, q, s, rho, t),
        optimal_cost(x, q, s, rho, t),
    )

    assert dump > uniform > best > s * x
    assert optimal_cost(x, q, s, 0.0, t) == pytest.approx(dump)  # no resilience: nothing to gain
    assert cost_bps(best, x, 100.0) == pytest.approx(best / (x * 100) * 10_000)


def test_optimal_weights_sum_to_one_with_equal_end_blocks() -> None:
    weights = optimal_weights(30, 0.05, 300.0)

    assert sum(weights) == pytest.approx(1.0)
    assert weights[0] == pytest.approx(weights[-1])
    assert weights[0] > weights[1]


def test_eta_is_zero_at_the_dump_one_at_the_oracle_and_undefined_without_a_gap() -> None:
    assert eta(50.0, 50.0, 10.0) == 0.0
    assert eta(50.0, 10.0, 10.0) == 1.0
    assert eta(50.0, 30.0, 10.0) == 0.5
    assert eta(10.0, 5.0, 9.5) is None
    assert eta(50.0, 30.0, 10.0, gap_se=25.0) is None  # a 40 bps gap, but ±25: noise
    assert eta(50.0, 30.0, 10.0, gap_se=15.0) == 0.5
