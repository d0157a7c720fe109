"""Executors by strategy name: variation as data, dispatch by dict."""

from __future__ import annotations

from bot.domain.decisions import Decision, StrategyName
from bot.execution.adaptive import AdaptiveExecutor
from bot.execution.iceberg import IcebergExecutor
from bot.execution.limit import LimitExecutor
from bot.execution.market import MarketExecutor
from bot.execution.port import ExecutorFactory
from bot.execution.twap import TwapExecutor

EXECUTORS: dict[str, ExecutorFactory] = {
    StrategyName.MARKET: MarketExecutor,
    StrategyName.LIMIT: LimitExecutor,
    StrategyName.TWAP: TwapExecutor,
    StrategyName.ICEBERG: IcebergExecutor,
    StrategyName.ADAPTIVE: AdaptiveExecutor,
}

# What of a decision each executor reads, besides what the runner reads for every one
# (strategy, horizon, slippage allowance). Two decisions with one ``executor_view`` run
# identically; tests/bench/test_bench_reuse.py checks it executor by executor.
RUNNER_FIELDS: tuple[str, ...] = ("strategy", "horizon_s", "max_slippage_bps")
DECISION_FIELDS: dict[str, tuple[str, ...]] = {
    StrategyName.MARKET: (),
    StrategyName.LIMIT: ("limit_offset_bps",),
    StrategyName.TWAP: ("slices",),
    StrategyName.ICEBERG: ("limit_offset_bps", "display_frac"),
    StrategyName.ADAPTIVE: ("urgency",),
}


# executors that also draw from an rng seeded by the execution id (TWAP's slice jitter)
SEEDED_BY_EXECUTION_ID: frozenset[str] = frozenset({StrategyName.TWAP})


def executor_view(decision: Decision) -> tuple[object, ...]:
    """Return the parts of ``decision`` its executor acts on."""
    names = RUNNER_FIELDS + DECISION_FIELDS[decision.strategy]
    return tuple(getattr(decision, name) for name in names)
