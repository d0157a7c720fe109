"""Contexts and limits for advisor tests, built through the real scoring pass."""

from __future__ import annotations

from decimal import Decimal

from bot.advisor.port import AdviceContext
from bot.domain.balances import Classification
from bot.domain.decisions import Limits
from bot.prioritisation.scoring import ScoreWeights, prioritise
from tests.fakes.market_builders import (
    D,
    balance,
    make_book,
    make_market,
    make_snapshot,
    make_ticker,
)

LIMITS = Limits(
    max_slippage_bps=D(150),
    min_slices=2,
    max_slices=50,
    min_horizon_s=60,
    max_horizon_s=3600,
)


def context(
    *,
    amount: str = "10",
    spread_bps: str = "20",
    level_amount: str = "1000",
    volatility: str = "50",
    with_book: bool = True,
    base: str = "abc",
) -> AdviceContext:
    """Return the context of one ``sell`` balance on a book around mid 1."""
    market = make_market(base)
    book = make_book(market.id, spread_bps=spread_bps, amount=level_amount)
    ticker = make_ticker(market.id, bid="0.999", ask="1.001")
    snapshot = make_snapshot(
        [balance(base, amount)],
        [market],
        books=[book] if with_book else [],
        tickers=[ticker],
        volatility={market.id: Decimal(volatility)},
    )
    [score] = prioritise(snapshot, weights=ScoreWeights(), min_value=D(1))
    assert score.classification is Classification.SELL
    return AdviceContext.from_snapshot(score, snapshot)
