"""Market model: determinism, transient impact in closed form, queue position, resilience."""

from __future__ import annotations

import itertools
import math
import random
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.orders import OrderType, Side
from bot.sim.engine import MatchingEngine
from bot.sim.exogenous import TakerArrival
from bot.sim.market_model import MarketModel
from bot.sim.market_params import MarketParams
from tests.sim.sim_helpers import make_market

MID = Decimal(100)
Q = Decimal(1000)  # depth per price unit
HALF_SPREAD = 0.1  # price units: 10 bps of 100


def _living() -> MarketParams:
    return MarketParams(
        mid0=MID,
        price_precision=2,
        amount_precision=2,
        sigma_per_s=0.001,
        jump_rate_per_s=0.01,
        jump_std=0.02,
        d0=Decimal(5),
        alpha=0.5,
        rho=0.05,
        taker_rate_per_s=0.5,
        taker_size_scale=Decimal(2),
    )


def _flat(rho: float) -> MarketParams:
    return MarketParams.flat(
        MID, q_per_price=Q, half_spread_bps=10.0, rho=rho, price_precision=2, amount_precision=2
    )


def _engine(clock: VirtualClock, params: MarketParams, seed: int = 1) -> MatchingEngine:
    engine = MatchingEngine(clock, random.Random(0), fee_rate=Decimal(0))
    engine.add_market(
        make_market("flatusdt", min_value=Decimal(0), min_amount=Decimal("0.01")), params, seed=seed
    )
    for key in ("us", "them"):
        engine.deposit(key, "flat", Decimal(10**6))
        engine.deposit(key, "usdt", Decimal(10**9))
    return engine


def _path(
    model: MarketModel, until: float, step_s: float
) -> tuple[list[float], list[tuple[str, str]]]:
    mids, arrivals = [], []
    t = model.t
    while t < until:
        t = min(until, t + step_s)
        for event in model.events_until(t):
            if isinstance(event, TakerArrival):
                arrivals.append((str(event.side), str(event.amount)))
        mids.append(model.mid)
    return mids[-1:], arrivals


def test_same_seed_same_market_however_often_it_is_synced() -> None:
    params = _living()
    a = MarketModel("flatusdt", params, 7, 0.0)
    b = MarketModel("flatusdt", params, 7, 0.0)
    c = MarketModel("flatusdt", params, 8, 0.0)

    mid_a, arrivals_a = _path(a, 3600.0, 3600.0)
    mid_b, arrivals_b = _path(b, 3600.0, 0.7)
    mid_c, arrivals_c = _path(c, 3600.0, 3600.0)

    assert mid_a == mid_b
    assert arrivals_a == arrivals_b
    assert len(arrivals_a) > 1000
    assert mid_c != mid_a
    assert arrivals_c != arrivals_a


async def test_our_trading_does_not_change_the_exogenous_market() -> None:
    clock_a, clock_b = VirtualClock(), VirtualClock()
    passive = _engine(clock_a, _living(), seed=3)
    active = _engine(clock_b, _living(), seed=3)

    for _ in range(60):
        active.place_order("us", "flatusdt", Side.SELL, OrderType.MARKET, Decimal(20))
        await clock_a.advance(10)
        await clock_b.advance(10)
    passive.sync()
    active.sync()

    model_a, model_b = passive.model("flatusdt"), active.model("flatusdt")
    assert model_a is not None
    assert model_b is not None
    assert model_a.mid == model_b.mid
    assert model_b.consumed(Side.BUY) != model_a.consumed(Side.BUY)


def test_selling_at_once_costs_the_closed_form() -> None:
    engine = _engine(VirtualClock(), _flat(rho=0.0))
    amount = Decimal(2000)

    order = engine.place_order("us", "flatusdt", Side.SELL, OrderType.MARKET, amount)

    cost = float(amount * MID - order.funds)
    x, q = float(amount), float(Q)
    expected = x * x / (2 * q) + HALF_SPREAD * x
    assert abs(cost / expected - 1) < 0.02


async def test_uniform_schedule_costs_the_obizhaeva_wang_closed_form() -> None:
    clock = VirtualClock()
    horizon_s, rho, slices = 600.0, 1 / 300, 120
    engine = _engine(clock, _flat(rho=rho))
    total = Decimal(2400)
    proceeds = Decimal(0)

    for _ in range(slices):
        order = engine.place_order("us", "flatusdt", Side.SELL, OrderType.MARKET, total / slices)
        proceeds += order.funds
        await clock.advance(horizon_s / slices)

    cost = float(total * MID - proceeds)
    x, q, rt = float(total), float(Q), rho * horizon_s
    expected = (x * x / q) * (rt - 1 + math.exp(-rt)) / rt**2 + HALF_SPREAD * x
    assert abs(cost / expected - 1) < 0.02


async def test_consumed_liquidity_recovers_exponentially() -> None:
    clock = VirtualClock()
    rho = 0.01
    engine = _engine(clock, _flat(rho=rho))
    engine.place_order("us", "flatusdt", Side.SELL, OrderType.MARKET, Decimal(1000))
    model = engine.model("flatusdt")
    assert model is not None
    consumed0 = model.consumed(Side.BUY)

    await clock.advance(100)
    engine.sync()

    expected = float(consumed0) * math.exp(-rho * 100)
    assert abs(float(model.consumed(Side.BUY)) - expected) < 0.01 * expected
    book = engine.order_book("flatusdt", 1)
    assert book.best_bid == Decimal("99.90") - Decimal("0.01") * int(expected / 10)


def test_our_resting_order_waits_behind_the_visible_depth_at_its_price() -> None:
    engine = _engine(VirtualClock(), _flat(rho=0.0))
    touch = engine.order_book("flatusdt", 1).asks[0]
    ours = engine.place_order("us", "flatusdt", Side.SELL, OrderType.LIMIT, Decimal(5), touch.price)

    engine.place_order("them", "flatusdt", Side.BUY, OrderType.MARKET, touch.amount - Decimal(1))
    before = ours.executed
    engine.place_order("them", "flatusdt", Side.BUY, OrderType.MARKET, Decimal(3))

    assert touch.amount == Decimal(10)
    assert before == 0
    assert ours.executed == Decimal(2)


async def test_a_scripted_rally_lifts_our_resting_ask() -> None:
    clock = VirtualClock()
    params = MarketParams(
        mid0=MID,
        price_precision=2,
        amount_precision=2,
        d0=Decimal(10),
        script=((0.0, 1.0), (60.0, 1.05)),
    )
    engine = _engine(clock, params)
    ask = engine.place_order("us", "flatusdt", Side.SELL, OrderType.LIMIT, Decimal(5), Decimal(103))

    await clock.advance(30)
    half_way = ask.executed
    await clock.advance(60)
    engine.sync()

    assert half_way == 0
    assert ask.executed == Decimal(5)
    assert ask.avg_price == Decimal(103)
    assert engine.mid("flatusdt") == Decimal("105.00")


async def test_other_traders_fill_resting_orders_in_a_living_market() -> None:
    clock = VirtualClock()
    engine = _engine(clock, _living(), seed=11)
    best_ask = engine.order_book("flatusdt", 1).best_ask
    assert best_ask is not None
    ours = engine.place_order("us", "flatusdt", Side.SELL, OrderType.LIMIT, Decimal(3), best_ask)

    await clock.advance(600)
    engine.sync()

    assert ours.executed > 0
    assert len(engine.public_trades("flatusdt", 1000)) > 50
    ticker = engine.ticker("flatusdt")
    assert ticker.high >= ticker.low
    assert ticker.volume > 0


def test_book_snapshot_equals_the_live_levels_walk() -> None:
    model = MarketModel("livingusdt", _living(), 3, 0.0)
    rng = random.Random(11)
    checked = 0
    for step in range(1, 60):
        list(model.events_until(step * 7.0))
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        model.consume(side, Decimal(rng.randint(0, 4000)).scaleb(-2))
        for resting in (Side.BUY, Side.SELL):
            for depth in (1, 5, 50):
                walk = list(itertools.islice(model.levels(resting), depth))
                assert model.snapshot(resting, depth) == walk
                checked += len(walk)
    assert checked > 1000  # levels were present on both sides most of the time


def test_reaches_agrees_with_the_best_level_of_the_walk() -> None:
    model = MarketModel("livingusdt", _living(), 5, 0.0)
    rng = random.Random(5)
    answers = set()
    for step in range(1, 60):
        list(model.events_until(step * 7.0))
        model.consume(Side.BUY, Decimal(rng.randint(0, 4000)).scaleb(-2))
        best = next(iter(model.levels(Side.BUY)), None)
        assert best is not None
        for delta in (-2, -1, 0, 1, 2):
            price = best[0] + Decimal(delta).scaleb(-2)
            assert model.reaches(Side.BUY, price) is (best[0] >= price)
            answers.add(model.reaches(Side.BUY, price))
        ask = next(iter(model.levels(Side.SELL)))[0]
        assert model.reaches(Side.SELL, ask)
        assert not model.reaches(Side.SELL, ask - Decimal("0.01"))
    assert answers == {True, False}


def test_the_book_merges_our_orders_with_the_background_best_first() -> None:
    engine = _engine(VirtualClock(), _flat(rho=0.0))
    asks = engine.order_book("flatusdt", 3).asks
    inside = asks[0].price - Decimal("0.01")
    for price in (inside, asks[1].price):
        engine.place_order("us", "flatusdt", Side.SELL, OrderType.LIMIT, Decimal(2), price)

    merged = engine.order_book("flatusdt", 3).asks

    assert [lv.price for lv in merged] == [inside, asks[0].price, asks[1].price]
    assert [lv.amount for lv in merged] == [Decimal(2), asks[0].amount, asks[1].amount + 2]


def test_our_bids_merge_with_the_background_bids_highest_first() -> None:
    engine = _engine(VirtualClock(), _flat(rho=0.0))
    engine.deposit("us", "usdt", Decimal(10_000))
    bids = engine.order_book("flatusdt", 2).bids
    inside = bids[0].price + Decimal("0.01")
    for price in (inside, bids[1].price):
        engine.place_order("us", "flatusdt", Side.BUY, OrderType.LIMIT, Decimal(2), price)

    merged = engine.order_book("flatusdt", 3).bids

    assert [lv.price for lv in merged] == [inside, bids[0].price, bids[1].price]
    assert [lv.amount for lv in merged] == [Decimal(2), bids[0].amount, bids[1].amount + 2]
