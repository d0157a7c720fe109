"""The issue's targets are judged the way the issue words them, on synthetic results."""

from __future__ import annotations

from decimal import Decimal

from bot.bench.report import Row
from bot.bench.runner import CaseResult, RunResult
from bot.bench.scenarios import SCENARIOS, advisor_view, scenario
from bot.bench.targets import adaptive_never_much_worse, regret_floor


def _case(seed: int, costs: dict[str, float]) -> CaseResult:
    runs = tuple(RunResult(name, cost, cost, 0.0, None, 0) for name, cost in sorted(costs.items()))
    return CaseResult("crash", "1%", seed, runs)


def _cases(adaptive: float, twap: float, market: float) -> list[CaseResult]:
    noise = (-0.1, 0.0, 0.1)
    return [
        _case(i, {"adaptive": adaptive + n, "twap": twap, "market": market})
        for i, n in enumerate(noise)
    ]


def test_adaptive_is_judged_against_the_cheaper_of_twap_and_market() -> None:
    # 5 bps worse than market, 10 bps better than twap: worse than the better of the two
    target = adaptive_never_much_worse(_cases(adaptive=10.0, twap=20.0, market=5.0))

    assert not target.passed
    assert "crash/1% vs market +5.0" in target.detail


def test_adaptive_within_the_tolerance_of_the_better_passes() -> None:
    target = adaptive_never_much_worse(_cases(adaptive=6.0, twap=20.0, market=5.0))

    assert target.passed
    assert target.detail == "misses: none"


def _rows(costs: dict[tuple[str, str], dict[str, float]]) -> list[Row]:
    return [
        Row(name, size, strategy, cost, 0.0, cost, cost, cost, 0.0, None, None, 0, 0.0)
        for (name, size), by in costs.items()
        for strategy, cost in by.items()
    ]


def test_regret_floor_charges_one_choice_per_group_of_rows_the_advisor_cannot_tell_apart() -> None:
    cheap_wait = {"market": 10.0, "limit": 50.0, "twap": 4.0, "iceberg": 50.0, "adaptive": 2.0}
    crash = {"market": 10.0, "limit": 900.0, "twap": 500.0, "iceberg": 900.0, "adaptive": 400.0}
    wide = {"market": 100.0, "limit": 40.0, "twap": 100.0, "iceberg": 40.0, "adaptive": -30.0}
    rows = _rows({("liquid", "1%"): cheap_wait, ("crash", "1%"): crash, ("wide", "1%"): wide})

    floor, alike = regret_floor(rows)

    # liquid and crash open alike: dumping in both costs 8 bps of regret (waiting, 390)
    assert floor == 8.0 / 3
    assert alike == [["liquid/1%", "crash/1%"]]


def test_advisor_views_of_the_calm_trend_and_crash_markets_are_the_same() -> None:
    views = {advisor_view(s, s.sizes()[1][1]) for s in SCENARIOS if s.name != "dust"}
    liquid, trend, crash = (scenario(n) for n in ("liquid", "trend", "crash"))

    assert advisor_view(liquid, Decimal(100)) == advisor_view(crash, Decimal(100))
    assert advisor_view(liquid, Decimal(100)) == advisor_view(trend, Decimal(100))
    assert len(views) == 4  # liquid=trend=crash, thin, wide, volatile
