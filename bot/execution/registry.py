"""Executors by strategy name: variation as data, dispatch by dict."""

from __future__ import annotations

from bot.domain.decisions import StrategyName
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
