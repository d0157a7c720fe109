"""Domain values the notification tests format."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from bot.domain.balances import BalanceScore, Classification
from bot.domain.decisions import Decision, StrategyName
from bot.domain.executions import Execution, ExecutionState

NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)


def finished() -> Execution:
    """0.5 btc sold for 14,950 usdt against an arrival mid of 30,000: 33.3 bps of shortfall."""
    return Execution(
        id="e1a2b3c4d5e6",
        market="btcusdt",
        currency="btc",
        allocated=Decimal("0.5"),
        decision=Decision(strategy=StrategyName.TWAP, horizon_s=600, slices=4),
        state=ExecutionState.COMPLETED,
        created_at=NOW,
        arrival_mid=Decimal(30000),
        sold=Decimal("0.5"),
        proceeds=Decimal(14950),
    )


def partial(note: str = "horizon ended with 0.3 unsold") -> Execution:
    return replace(
        finished(),
        state=ExecutionState.PARTIAL,
        sold=Decimal("0.2"),
        proceeds=Decimal(5990),
        note=note,
    )


def score(currency: str, amount: str, value: str, *, sell: bool = True) -> BalanceScore:
    return BalanceScore(
        currency=currency,
        market=f"{currency}usdt",
        amount=Decimal(amount),
        classification=Classification.SELL if sell else Classification.DUST,
        score=Decimal(1),
        value_quote=Decimal(value),
    )
