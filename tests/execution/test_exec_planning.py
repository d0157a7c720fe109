"""Pure planners and guards: TWAP schedule, iceberg clips, marketable price, adaptive rule."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.execution.guards import (
    ExecutionGuards,
    guard_price,
    is_dust,
    min_sellable,
    order_amount,
    price_bound,
    split_amount,
)
from bot.execution.midstats import PriceSeries, drift_t_stat, mid_stats, realised_volatility_bps
from bot.execution.planning import (
    AdaptiveInputs,
    adaptive_step,
    drop_bps,
    iceberg_next_clip,
    marketable_price,
    others_best_ask,
    passive_price,
    twap_schedule,
)
from bot.execution.urgency import scheduled_fraction
from tests.execution.exec_helpers import make_book, make_market

MARKET = make_market(amount_precision=4, price_precision=4, min_amount="0.01")
amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=6)


@settings(max_examples=200, deadline=None)
@given(
    amount=amounts,
    slices=st.integers(min_value=1, max_value=50),
    horizon=st.integers(min_value=1, max_value=86_400),
    seed=st.integers(min_value=0, max_value=10_000),
    jitter=st.floats(min_value=0, max_value=600),
)
def test_twap_schedule_sums_to_allocation_in_order_inside_horizon(
    amount: Decimal, slices: int, horizon: int, seed: int, jitter: float
) -> None:
    min_slice = Decimal("0.05")

    plans = twap_schedule(
        amount, slices, horizon, 1000.0, random.Random(seed), jitter, MARKET, min_slice
    )

    total = amount.quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
    if total < min_slice:
        assert plans == []
        return
    assert plans[-1].target == total
    assert len(plans) <= slices
    sizes = [b.target - a.target for a, b in itertools.pairwise(plans)]
    sizes.insert(0, plans[0].target)
    assert all(s >= min_slice for s in sizes)
    assert all(s == s.quantize(MARKET.lot) for s in sizes)
    times = [p.due_at for p in plans]
    assert times[0] == 1000.0
    assert times == sorted(times)
    assert all(1000.0 <= t < 1000.0 + horizon for t in times)


def test_twap_schedule_is_deterministic_for_a_seed() -> None:
    def plan(seed: int) -> list[float]:
        rng = random.Random(seed)
        return [
            p.due_at for p in twap_schedule(Decimal(10), 5, 500, 0.0, rng, 20, MARKET, Decimal(1))
        ]

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


@settings(max_examples=200, deadline=None)
@given(remaining=amounts, frac=st.decimals(min_value=Decimal("0.01"), max_value=1, places=2))
def test_iceberg_clip_never_exceeds_remaining_nor_leaves_a_small_tail(
    remaining: Decimal, frac: Decimal
) -> None:
    min_clip = Decimal("0.05")

    clip = iceberg_next_clip(remaining, frac, MARKET, min_clip)

    left = remaining.quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
    if left < min_clip:
        assert clip == 0
    else:
        assert min_clip <= clip <= left
        assert left - clip == 0 or left - clip >= min_clip


def test_guards_bound_uses_the_stricter_of_floor_and_slippage() -> None:
    guards = ExecutionGuards(
        max_slippage_bps=Decimal(100), price_floors={"abcusdt": Decimal("1.5")}
    )

    by_slippage = price_bound(MARKET, Decimal(2), guards)
    by_floor = price_bound(MARKET, Decimal("1.51"), guards)
    tighter_decision = price_bound(MARKET, Decimal(2), guards, Decimal(10))

    assert by_slippage == Decimal("1.98")
    assert by_floor == Decimal("1.5")
    assert tighter_decision == Decimal("1.998")


def test_guards_minimums_and_dust() -> None:
    guards = ExecutionGuards(min_order_value=Decimal(5), max_order_amounts={"abcusdt": Decimal(3)})

    assert min_sellable(MARKET, Decimal(2), guards) == Decimal("2.5")
    assert order_amount(Decimal("2.49999"), MARKET, Decimal(2), guards) == 0
    assert order_amount(Decimal("7.77777"), MARKET, Decimal(2), guards) == Decimal(3)
    assert is_dust(Decimal("2.4"), MARKET, Decimal(2), guards)
    assert not is_dust(Decimal("2.5"), MARKET, Decimal(2), guards)
    assert guard_price(Decimal("1.00001"), Decimal("0.9"), MARKET) == Decimal("1.0001")
    assert guard_price(Decimal("0.5"), Decimal("0.9"), MARKET) == Decimal("0.9")
    assert split_amount(Decimal("7.5"), Decimal(3), MARKET) == [
        Decimal(3),
        Decimal(3),
        Decimal("1.5"),
    ]
    assert split_amount(Decimal("7.5"), None, MARKET) == [Decimal("7.5")]


def test_marketable_price_reaches_the_level_that_fills_but_not_below_bound() -> None:
    book = make_book([("1.0", "2"), ("0.99", "3"), ("0.9", "100")], [("1.02", "5")])

    assert marketable_price(book, Decimal(1), Decimal("0.5"), MARKET) == Decimal("1.0")
    assert marketable_price(book, Decimal(4), Decimal("0.5"), MARKET) == Decimal("0.99")
    assert marketable_price(book, Decimal(50), Decimal("0.95"), MARKET) == Decimal("0.99")
    assert marketable_price(make_book([], []), Decimal(1), Decimal("0.95"), MARKET) == Decimal(
        "0.95"
    )


def test_passive_price_improves_wide_spread_and_joins_narrow() -> None:
    wide = make_book([("1.0000", "1")], [("1.0100", "1")])
    narrow = make_book([("1.0000", "1")], [("1.0002", "1")])

    assert passive_price(wide, Decimal("0.9"), MARKET) == Decimal("1.0099")
    assert passive_price(narrow, Decimal("0.9"), MARKET) == Decimal("1.0002")
    assert passive_price(wide, Decimal("1.05"), MARKET) == Decimal("1.05")


def _inputs(
    sold: str,
    elapsed: float,
    vol: str = "0",
    drop: str = "0",
    drift_t: str = "0",
    drift: str = "0",
) -> AdaptiveInputs:
    return AdaptiveInputs(
        allocated=Decimal(100),
        sold=Decimal(sold),
        elapsed_s=elapsed,
        horizon_s=1000,
        step_s=50,
        volatility_bps=Decimal(vol),
        bound=Decimal("0.9"),
        drop_bps=Decimal(drop),
        drift_t=Decimal(drift_t),
        drift_bps=Decimal(drift),
    )


def _urgent(inputs: AdaptiveInputs) -> AdaptiveInputs:
    return replace(inputs, front_load=2.0)  # the medium schedule


def test_adaptive_rests_passively_when_on_pace_in_a_wide_book() -> None:
    book = make_book([("1.0", "10")], [("1.02", "10")])

    # ahead of the line until the next step (15 due at 150 s): rest
    action = adaptive_step(book, _inputs("16", 100), MARKET)

    assert action.mode == "passive"
    assert not action.aggressive
    assert action.price == Decimal("1.0199")
    assert action.amount == Decimal(9)  # due at 250 s minus sold


def test_adaptive_offers_the_whole_rest_only_when_the_book_is_calm() -> None:
    book = make_book([("1.0", "10")], [("1.02", "10")])  # spread about 198 bps

    calm = adaptive_step(book, _inputs("16", 100, vol="5"), MARKET)
    restless = adaptive_step(book, _inputs("16", 100, vol="40"), MARKET)
    unmeasured = adaptive_step(book, _inputs("16", 100), MARKET)

    assert (calm.mode, calm.amount) == ("passive", Decimal(84))  # everything left
    assert (restless.mode, restless.amount) == ("passive", Decimal(9))  # the pace ahead
    assert unmeasured.amount == Decimal(9)


def test_adaptive_takes_the_bids_when_behind_and_at_the_end() -> None:
    book = make_book([("1.0", "10"), ("0.98", "100")], [("1.02", "10")])

    behind = adaptive_step(book, _inputs("0", 300), MARKET)
    final = adaptive_step(book, _inputs("90", 950), MARKET)
    volatile = adaptive_step(book, _inputs("10", 200, vol="500"), MARKET)
    calm = adaptive_step(book, _inputs("25", 200), MARKET)  # 25 due by the next step

    assert behind.mode == "behind"
    assert behind.amount == Decimal(35)
    assert behind.price == Decimal("0.98")
    assert final.mode == "final"
    assert final.amount == Decimal(10)
    assert volatile.mode == "behind"
    assert calm.mode == "passive"


def test_adaptive_crosses_a_one_tick_spread_for_the_deficit() -> None:
    book = make_book([("1.0000", "100")], [("1.0001", "10")])

    # on the line (15 due by the next step), behind the medium schedule's 27.06
    action = adaptive_step(book, _urgent(_inputs("15", 100)), MARKET)

    assert action.mode == "tight"
    assert action.amount == 100 * scheduled_fraction(2.0, 0.15) - 15


def test_adaptive_takes_the_pace_when_a_step_moves_more_than_the_spread() -> None:
    book = make_book([("1.0000", "100")], [("1.0010", "10")])  # spread about 10 bps

    # restless above half the spread: a resting ask is then more gamble than edge
    restless = adaptive_step(book, _urgent(_inputs("15", 100, vol="6")), MARKET)
    steady = adaptive_step(book, _urgent(_inputs("15", 100, vol="4")), MARKET)
    behind_the_line = adaptive_step(book, _urgent(_inputs("8", 100, vol="4")), MARKET)

    assert (restless.mode, restless.aggressive) == ("restless", True)
    assert restless.amount == 100 * scheduled_fraction(2.0, 0.15) - 15
    assert steady.mode == "passive"
    assert (behind_the_line.mode, behind_the_line.aggressive) == ("behind", True)


def test_adaptive_sells_everything_left_in_a_steady_fall_only() -> None:
    book = make_book([("1.0000", "50"), ("0.9990", "100")], [("1.0005", "10")])

    # 5 steps in, 2 bps noise per step: a 30 bps steady fall is far outside 3·2·√5 = 13 bps
    falling = adaptive_step(book, _inputs("30", 250, vol="2", drop="30", drift_t="-5"), MARKET)
    one_jump = adaptive_step(book, _inputs("30", 250, vol="2", drop="30", drift_t="-1"), MARKET)
    within_noise = adaptive_step(book, _inputs("30", 250, vol="2", drop="10", drift_t="-5"), MARKET)
    too_soon = adaptive_step(book, _inputs("30", 200, vol="2", drop="30", drift_t="-5"), MARKET)

    assert falling.mode == "falling"
    assert falling.aggressive
    assert falling.amount == Decimal(70)
    assert falling.price == Decimal("0.9990")
    assert one_jump.mode == "passive"
    assert within_noise.mode == "passive"
    assert too_soon.mode == "passive"  # 4 steps: the noise is not measured yet


def test_adaptive_in_a_fall_sells_on_a_short_schedule_and_the_bids_cheaper_than_waiting() -> None:
    book = make_book([("1.0000", "50"), ("0.9990", "100")], [("1.0005", "10")])
    fall = {"vol": "2", "drop": "30", "drift_t": "-5"}

    # 70 to sell within 8 steps: 70 / 8 per step; a bid is taken at once when it is above
    # the mid less two steps of drift (what waiting would lose)
    slow = adaptive_step(book, _inputs("30", 250, **fall, drift="-1"), MARKET)
    fast = adaptive_step(book, _inputs("30", 250, **fall, drift="-3"), MARKET)
    steep = adaptive_step(book, _inputs("30", 250, **fall, drift="-10"), MARKET)
    # 6 of the 8 steps gone since the fall was called: the rest over the 2 left
    late = adaptive_step(
        book, replace(_inputs("30", 250, **fall, drift="-1"), fell_steps=6), MARKET
    )

    assert (slow.mode, slow.amount, slow.price) == ("falling", Decimal("8.75"), Decimal("1.0000"))
    assert (fast.amount, fast.price) == (Decimal(50), Decimal("1.0000"))  # 6 bps: 1.0000 only
    assert (steep.amount, steep.price) == (Decimal(70), Decimal("0.9990"))  # all of the rest
    assert late.amount == Decimal(35)


def test_adaptive_keeps_selling_after_a_fall_while_the_mid_still_drifts_down() -> None:
    book = make_book([("1.0000", "50"), ("0.9990", "100")], [("1.0005", "10")])

    # the drop is back inside the noise, but an earlier step saw the fall and it goes on
    going_on = adaptive_step(book, _fell_inputs(drift_t="-1.5"), MARKET)
    stopped = adaptive_step(book, _fell_inputs(drift_t="-0.5"), MARKET)

    assert going_on.mode == "falling"
    assert stopped.mode == "passive"


def _fell_inputs(drift_t: str) -> AdaptiveInputs:
    return replace(_inputs("30", 250, vol="2", drop="5", drift_t=drift_t), fell=True)


def test_adaptive_does_not_take_one_jump_for_a_fall() -> None:
    book = make_book([("1.0000", "50"), ("0.9990", "100")], [("1.0005", "10")])
    fall = _inputs("30", 250, vol="2", drop="30", drift_t="-5")

    steady = adaptive_step(book, replace(fall, jump_share=Decimal("0.4")), MARKET)
    jump = adaptive_step(book, replace(fall, jump_share=Decimal("0.9")), MARKET)
    # the price watched for falls (the others' ask) has its own noise: 30 bps within 3·6·√5
    noisy = adaptive_step(book, replace(fall, fall_volatility_bps=Decimal(6)), MARKET)

    assert steady.mode == "falling"
    assert jump.mode == "passive"
    assert noisy.mode == "passive"


def test_mid_stats_scale_unevenly_spaced_samples_to_one_step() -> None:
    rng = random.Random(7)
    times = [0.0]
    for _ in range(400):
        times.append(times[-1] + rng.choice((2.0, 10.0)))
    # a random walk of 1 bps per √s with a drift of -0.1 bps/s
    mids, mid = [], Decimal(100)
    for t0, t1 in itertools.pairwise([0.0, *times]):
        dt = t1 - t0
        mid *= 1 + Decimal(repr(rng.gauss(-0.1 * dt, dt**0.5))) / 10_000
        mids.append(mid)

    stats = mid_stats(mids, times, step_s=10)

    assert abs(stats.volatility_bps - Decimal(10).sqrt()) < Decimal("0.35")  # 1 bps · √10
    assert abs(stats.drift_bps - Decimal(-1)) < Decimal("0.35")  # -0.1 bps/s · 10 s
    assert stats.drift_t < -3  # expected about -0.1 · √2400 / 1 = -4.9


def test_mid_stats_of_even_samples_match_with_or_without_times() -> None:
    mids = [Decimal(100), Decimal("99.9"), Decimal("100.05"), Decimal("99.8"), Decimal("99.7")]

    assert mid_stats(mids, [0.0, 5.0, 10.0, 15.0, 20.0], step_s=5) == mid_stats(mids, step_s=5)
    jump = [Decimal(100), Decimal(100), Decimal(99), Decimal(99)]
    steady = [Decimal(100), Decimal("99.9"), Decimal("99.8"), Decimal("99.7")]
    assert mid_stats(jump).jump_share == 1
    assert mid_stats(steady).jump_share < Decimal("0.34")
    assert mid_stats(list(reversed(steady))).jump_share == 0  # rising: no fall at all


def test_others_best_ask_skips_our_own_resting_asks() -> None:
    book = make_book([("1.0000", "50")], [("1.0005", "10"), ("1.0010", "5")])

    assert others_best_ask(book, []) == Decimal("1.0005")
    assert others_best_ask(book, [(Decimal("1.0005"), Decimal(10))]) == Decimal("1.0010")
    assert others_best_ask(book, [(Decimal("1.0005"), Decimal(4))]) == Decimal("1.0005")
    assert (
        others_best_ask(make_book([], [("1.0005", "10")]), [(Decimal("1.0005"), Decimal(10))])
        is None
    )


def test_drift_t_stat_separates_a_steady_fall_from_one_jump() -> None:
    steady = [Decimal(100) - Decimal("0.03") * i + Decimal("0.001") * (i % 2) for i in range(8)]
    jump = [Decimal(100)] * 4 + [Decimal(99)] + [Decimal(99)] * 3
    jump = [m + Decimal("0.01") * (i % 2) for i, m in enumerate(jump)]

    assert drift_t_stat(steady) < -10
    assert -2 < drift_t_stat(jump) < 0
    assert drift_t_stat([Decimal(1), Decimal(2)]) == 0
    assert drop_bps(Decimal(100), Decimal(99)) == Decimal(100)
    assert drop_bps(None, Decimal(99)) == 0


def test_realised_volatility() -> None:
    assert realised_volatility_bps([Decimal(1), Decimal(1)]) == 0
    assert realised_volatility_bps([Decimal(1)] * 5) == 0
    assert realised_volatility_bps([Decimal(1), Decimal("1.01"), Decimal(1), Decimal("1.01")]) > 50


def test_a_sliding_price_series_equals_the_statistics_of_its_window() -> None:
    rng = random.Random(3)
    series, t = PriceSeries(6), 0.0
    mids: list[Decimal] = []
    times: list[float] = []
    for _ in range(40):
        t += rng.choice((0.0, 2.0, 10.0))  # 0: a reading with no time between, skipped
        mid = Decimal(100) + Decimal(rng.randint(-50, 50)) / 100
        series.add(mid, t)
        mids, times = [*mids[-5:], mid], [*times[-5:], t]

        assert series.stats(10) == mid_stats(mids, times, 10)
