"""The issue's targets are judged the way the issue words them, on synthetic results."""

from __future__ import annotations

from bot.bench.runner import CaseResult, RunResult
from bot.bench.targets import adaptive_never_much_worse


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
