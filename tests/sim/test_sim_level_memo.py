"""The simulator's memoised book levels stay bounded: a snapshot tail never outlives its levels.

``MarketModel.snapshot`` memoises (tick, lots) → ``BookLevel`` per precision and the untouched
tails of snapshots (lists of those levels). A tail only costs its list while its levels are
the memo's; kept past a memo reset it would hold levels of its own, and the tails' cap
(thousands of tails, a book's depth each) let a long run grow by tens of MB.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.orders import Side
from bot.sim import market_model
from bot.sim.market_model import MarketModel
from bot.sim.market_params import MarketParams

# precisions no other test uses, so this test has the process-wide memos to itself
PRICE_PRECISION, AMOUNT_PRECISION = 5, 3


def _params() -> MarketParams:
    return MarketParams(
        mid0=Decimal("10.00000"),
        price_precision=PRICE_PRECISION,
        amount_precision=AMOUNT_PRECISION,
        sigma_per_s=0.001,
        half_spread_bps=10.0,
        d0=Decimal(40),
        alpha=0.5,
        rho=0.05,
        taker_rate_per_s=0.5,
        taker_size_scale=Decimal(5),
    )


def test_snapshot_tails_hold_only_the_memos_levels_across_memo_resets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(market_model, "_MEMO_MAX", 300)
    model = MarketModel("memousdt", _params(), seed="memo", start=0.0)
    memo = market_model._LEVEL_MEMOS[PRICE_PRECISION, AMOUNT_PRECISION]
    tails = next(
        t for k, t in market_model._TAILS.items() if k[:2] == (PRICE_PRECISION, AMOUNT_PRECISION)
    )
    resets, largest = 0, 0
    for t in range(1, 400):
        for _ in model.events_until(float(t)):
            pass
        before = len(memo)
        for side in (Side.BUY, Side.SELL):
            assert len(model.snapshot(side, 50)) == 50
        resets += len(memo) < before
        largest = max(largest, len(memo))
        kept = {id(level) for tail in tails.values() for level in tail}
        assert kept <= {id(level) for level in memo.values()}
    assert resets >= 3  # the memo did start afresh, more than once
    assert tails  # and tails were memoised (from the memo's levels)
    assert largest <= 300 + 2 * 50
