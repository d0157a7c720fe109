"""The verdict, the urgency frontier and the weighted regret, judged on hand-made results;
``sellbot bench --check`` exits 1 on a missed target."""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.bench.command import BenchReport, parse_weights
from bot.bench.frontier import (
    DEFAULT_WEIGHTS,
    Point,
    frontier,
    regret_floor,
    row_regrets,
    weighted_regret,
    with_crash_weight,
)
from bot.bench.progress import Progress
from bot.bench.report import CHOOSABLE, Row
from bot.bench.runner import CaseResult, RunResult
from bot.bench.scenarios import SCENARIOS, advisor_view, scenario
from bot.bench.verdict import adverse_medium, calm_rows, frontier_holds, regret
from bot.cli import bench as bench_cli
from bot.settings import load_settings


def _case(name: str, seed: int, costs: dict[str, float]) -> CaseResult:
    runs = tuple(RunResult(s, cost, cost, 0.0, None, 0) for s, cost in sorted(costs.items()))
    return CaseResult(name, "1%", seed, runs)


def _cases(name: str, adaptive: float, twap: float, market: float) -> list[CaseResult]:
    noise = (-0.1, 0.0, 0.1)
    costs = [{"adaptive": adaptive + n, "twap": twap, "market": market} for n in noise]
    return [_case(name, i, c) for i, c in enumerate(costs)]


def _rows(costs: dict[tuple[str, str], dict[str, float]]) -> list[Row]:
    return [
        Row(name, size, strategy, cost, 0.0, cost, cost, cost, 0.0, None, None, 0, 0.0)
        for (name, size), by in costs.items()
        for strategy, cost in by.items()
    ]


def test_calm_rows_judge_medium_against_the_cheaper_of_twap_and_market() -> None:
    worse = calm_rows(_cases("liquid", adaptive=10.0, twap=20.0, market=5.0))
    within = calm_rows(_cases("liquid", adaptive=6.0, twap=20.0, market=5.0))

    assert not worse.passed
    assert "liquid/1% +5.0±0.1 vs market" in worse.detail
    assert within.passed


def test_adverse_rows_judge_medium_against_twap_only() -> None:
    assert adverse_medium(_cases("crash", adaptive=400.0, twap=500.0, market=5.0)).passed
    assert not adverse_medium(_cases("trend", adaptive=52.0, twap=50.0, market=5.0)).passed


def test_frontier_weights_scenarios_and_averages_sizes() -> None:
    rows = _rows(
        {
            ("liquid", "0.1%"): {"adaptive": 2.0, "market": 5.0},
            ("liquid", "10%"): {"adaptive": 10.0, "market": 50.0},
            ("thin", "1%"): {"adaptive": 30.0, "market": 40.0},
            ("crash", "1%"): {"adaptive": 500.0, "market": 8.0},
        }
    )
    weights = {"liquid": 3.0, "thin": 1.0, "crash": 1.0}

    points = {p.strategy: p for p in frontier(rows, weights)}

    assert points["adaptive"].calm_bps == (3 * 6.0 + 1 * 30.0) / 4
    assert points["adaptive"].adverse_bps == 500.0
    assert points["market"].calm_bps == (3 * 27.5 + 40.0) / 4


def test_the_frontier_must_rise_in_calm_fall_in_adverse_and_not_be_dominated() -> None:
    good = [Point("adaptive@low", 10, 300), Point("adaptive", 12, 200),
            Point("adaptive@high", 30, 20), Point("market", 50, 21)]  # fmt: skip
    flat = [Point("adaptive@low", 12, 300), *good[1:]]
    beaten = [*good, Point("twap", 11, 150)]

    assert frontier_holds(good).passed
    assert "calm cost does not rise" in frontier_holds(flat).detail
    result = frontier_holds(beaten)
    assert not result.passed
    assert "twap beats adaptive" in result.detail


def test_weighted_regret_takes_the_best_choice_per_row_and_the_scenario_weights() -> None:
    best = dict.fromkeys(CHOOSABLE, 100.0)
    rows = _rows(
        {
            ("liquid", "0.1%"): {**best, "adaptive": 0.0, "advisor": 2.0},
            ("liquid", "1%"): {**best, "twap": 1.0, "advisor": 5.0},
            ("crash", "1%"): {**best, "market": 10.0, "advisor": 50.0},
            ("dust", "1x"): {**best, "advisor": -2.0},  # the advisor beats every fixed choice
        }
    )
    weights = {"liquid": 0.9, "crash": 0.1, "dust": 0.0}

    assert row_regrets(rows)[("dust", "1x")] == 0.0
    assert weighted_regret(rows, weights) == pytest.approx(0.9 * 3.0 + 0.1 * 40.0)
    assert weighted_regret(rows, with_crash_weight(weights, 0.5)) == pytest.approx(
        0.5 * 3.0 + 0.5 * 40.0
    )
    assert regret(rows, weights).detail.startswith("6.7 bps at the default weights")


def test_default_weights_cover_every_scenario_and_parse_overrides() -> None:
    assert set(DEFAULT_WEIGHTS) == {s.name for s in SCENARIOS}
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)
    assert parse_weights("crash=0.1, trend=0")["crash"] == 0.1
    with pytest.raises(ValueError, match="unknown scenario"):
        parse_weights("meltdown=1")
    with pytest.raises(ValueError, match="not a number"):
        parse_weights("crash=lots")


def test_advisor_views_of_the_calm_trend_and_crash_markets_are_the_same() -> None:
    views = {name: advisor_view(scenario(name), scenario(name).sizes()[1][1])
             for name in ("liquid", "trend", "crash", "thin")}  # fmt: skip

    assert views["liquid"] == views["trend"] == views["crash"]
    assert views["thin"] != views["liquid"]


@pytest.mark.parametrize(("passed", "check", "code"), [(True, True, 0), (False, True, 1),
                                                        (False, False, 0)])  # fmt: skip
def test_check_exits_1_when_a_target_is_missed(
    monkeypatch: pytest.MonkeyPatch, passed: bool, check: bool, code: int
) -> None:
    def fixed_report(**_: object) -> BenchReport:
        return BenchReport("[MISS] something" if not passed else "[pass] all", passed)

    monkeypatch.setattr("bot.bench.command.run_bench", fixed_report)
    settings = load_settings(_env_file=None)

    got = asyncio.run(
        bench_cli.run(settings, quick=True, seeds=None, json_path=None, plot_path=None,
                      check=check)
    )  # fmt: skip

    assert got == code


def test_progress_rewrites_a_line_on_a_terminal_and_prints_tenths_otherwise() -> None:
    ticks = iter([0.0, 2.0, 4.0, 6.0, 8.0])
    plain, tty = io.StringIO(), io.StringIO()
    log = Progress(20, plain, lambda: next(ticks), tty=False)
    for done in (1, 2, 3, 20):
        log.update(done)
    ticks = iter([0.0, 5.0])
    term = Progress(10, tty, lambda: next(ticks), tty=True)
    term.update(5)
    term.finish()

    lines = plain.getvalue().splitlines()
    assert lines == [  # a line per tenth of the run: 3/20 is still the first tenth
        "cases 2/20, elapsed 2 s, remaining ~18 s",
        "cases 20/20, elapsed 4 s, remaining ~0 s",
    ]
    assert tty.getvalue().startswith("\rcases 5/10, elapsed 5 s, remaining ~5 s")
    assert tty.getvalue().endswith("\n")


def test_the_regret_floor_gives_rows_that_open_alike_one_choice() -> None:
    base = dict.fromkeys(CHOOSABLE, 100.0)
    # liquid and crash open alike: waiting is best in liquid, dumping in the crash
    rows = _rows(
        {
            ("liquid", "1%"): {**base, "adaptive": 0.0, "market": 4.0, "advisor": 0.0},
            ("crash", "1%"): {**base, "adaptive": 400.0, "market": 8.0, "advisor": 400.0},
            ("wide", "1%"): {**base, "adaptive@low": -30.0, "advisor": -30.0},
        }
    )
    weights = {"liquid": 0.5, "crash": 0.25, "wide": 0.25}

    # one choice for liquid and crash: market costs 0.5 · 4 (waiting would cost 0.25 · 392)
    assert regret_floor(rows, weights) == pytest.approx(2.0)
    assert weighted_regret(rows, weights) == pytest.approx(0.25 * 392.0)
