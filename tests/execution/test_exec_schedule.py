"""Never behind schedule: at every urgency the adaptive rule keeps its sold share at or above
the linear (TWAP) schedule, whatever the book and whatever its resting orders fill."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.decisions import Urgency
from bot.domain.market import BookLevel, OrderBook
from bot.domain.money import ZERO
from bot.execution.planning import AdaptiveInputs, adaptive_step
from bot.execution.urgency import profile, scheduled_fraction
from tests.execution.exec_helpers import make_market

MARKET = make_market()
HORIZON_S = 300.0
STEP_S = 10.0
BOUND = Decimal("0.9")


def _book(spread_bps: int, depth: Decimal) -> OrderBook:
    half = Decimal(spread_bps) / 2 / 10_000
    bids = tuple(BookLevel(Decimal(1) - half - Decimal("0.001") * k, depth) for k in range(30))
    asks = tuple(BookLevel(Decimal(1) + half + Decimal("0.001") * k, depth) for k in range(30))
    return OrderBook(market=MARKET.id, bids=bids, asks=asks)


step_market = st.tuples(
    st.integers(min_value=1, max_value=300),  # spread, bps
    st.decimals(min_value=Decimal(0), max_value=Decimal(50), places=2),  # volatility, bps
    st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=2),  # share of a rest filled
    st.floats(min_value=2.0, max_value=STEP_S),  # seconds to the next step
)


@settings(max_examples=60, deadline=None)
@given(
    urgency=st.sampled_from(list(Urgency)),
    allocated=st.decimals(min_value=Decimal(1), max_value=Decimal(5000), places=2),
    steps=st.lists(step_market, min_size=200, max_size=200),
)
def test_sold_share_never_trails_the_linear_schedule(
    urgency: Urgency, allocated: Decimal, steps: list[tuple[int, Decimal, Decimal, float]]
) -> None:
    level = profile(urgency)
    sold, elapsed = ZERO, 0.0
    for spread, volatility, filled_share, wait in steps:
        if elapsed >= HORIZON_S:
            break
        book = _book(spread, depth=allocated)  # the bids above the bound cover any deficit
        action = adaptive_step(
            book,
            AdaptiveInputs(
                allocated=allocated,
                sold=sold,
                elapsed_s=elapsed,
                horizon_s=HORIZON_S,
                step_s=STEP_S,
                volatility_bps=volatility,
                bound=BOUND,
                front_load=level.front_load,
                fall_sigmas=level.fall_sigmas,
                fall_steps=level.fall_steps,
            ),
            MARKET,
        )
        filled = action.amount if action.aggressive else action.amount * filled_share
        sold = min(allocated, sold + max(ZERO, filled))
        # until the next step (at most step_s away), the sold share is ahead of the line
        linear = allocated * scheduled_fraction(0.0, (elapsed + STEP_S) / HORIZON_S)
        assert sold >= linear, (action.mode, elapsed, sold, linear)
        elapsed += wait


def test_higher_urgency_front_loads_the_schedule() -> None:
    for tau in (0.1, 0.2, 0.5, 0.9):
        low, medium, high = (scheduled_fraction(profile(u).front_load, tau) for u in Urgency)
        assert Decimal(str(tau)) <= low < medium < high <= 1
    assert scheduled_fraction(profile(Urgency.MEDIUM).front_load, 1.0) == 1
