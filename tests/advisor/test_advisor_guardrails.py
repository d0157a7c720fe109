"""The guardrails: every parameter ends inside the limits, whatever was proposed."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.advisor.guardrails import MAX_REASON_CHARS, changed_fields, clamp
from bot.domain.decisions import Decision, StrategyName
from tests.advisor.advisor_helpers import LIMITS


def test_out_of_range_parameters_are_pulled_to_the_limits() -> None:
    wild = Decision(
        StrategyName.TWAP,
        horizon_s=999_999,
        slices=10_000,
        limit_offset_bps=Decimal(5000),
        display_frac=Decimal(3),
        max_slippage_bps=Decimal(9000),
        reason="x" * 1000,
    )

    safe = clamp(wild, LIMITS)

    assert safe.horizon_s == LIMITS.max_horizon_s
    assert safe.slices == LIMITS.max_slices
    assert safe.limit_offset_bps == LIMITS.max_limit_offset_bps
    assert safe.display_frac == LIMITS.max_display_frac
    assert safe.max_slippage_bps == LIMITS.max_slippage_bps
    assert len(safe.reason) == MAX_REASON_CHARS
    assert set(changed_fields(wild, safe)) == {
        "horizon_s",
        "slices",
        "limit_offset_bps",
        "display_frac",
        "max_slippage_bps",
        "reason",
    }


def test_negative_values_are_raised_to_the_floor() -> None:
    low = Decision(
        StrategyName.ICEBERG,
        horizon_s=-5,
        slices=-3,
        limit_offset_bps=Decimal(-50),
        display_frac=Decimal(0),
        max_slippage_bps=Decimal(-1),
    )

    safe = clamp(low, LIMITS)

    assert safe.horizon_s == LIMITS.min_horizon_s
    assert safe.slices == LIMITS.min_slices
    assert safe.limit_offset_bps == 0
    assert safe.display_frac == LIMITS.min_display_frac
    assert safe.max_slippage_bps == 0


def test_single_order_strategies_have_one_slice() -> None:
    assert clamp(Decision(StrategyName.MARKET, 60, slices=7), LIMITS).slices == 1
    assert clamp(Decision(StrategyName.LIMIT, 600, slices=7), LIMITS).slices == 1


def test_slices_are_at_least_five_seconds_apart() -> None:
    safe = clamp(Decision(StrategyName.TWAP, horizon_s=100, slices=50), LIMITS)

    assert safe.slices == 20


def test_a_decision_inside_the_limits_is_unchanged() -> None:
    fine = Decision(StrategyName.TWAP, horizon_s=600, slices=10, max_slippage_bps=Decimal(80))

    assert clamp(fine, LIMITS) == fine
    assert changed_fields(fine, clamp(fine, LIMITS)) == ()


decimals = st.decimals(min_value=-100_000, max_value=100_000, allow_nan=False, places=4)


@given(
    strategy=st.sampled_from(list(StrategyName)),
    horizon=st.integers(-(10**9), 10**9),
    slices=st.integers(-(10**6), 10**6),
    offset=decimals,
    display=decimals,
    slippage=decimals,
)
def test_clamp_always_lands_inside_the_limits_and_is_idempotent(
    strategy: StrategyName,
    horizon: int,
    slices: int,
    offset: Decimal,
    display: Decimal,
    slippage: Decimal,
) -> None:
    proposed = Decision(strategy, horizon, slices, offset, display, slippage)

    safe = clamp(proposed, LIMITS)

    assert LIMITS.min_horizon_s <= safe.horizon_s <= LIMITS.max_horizon_s
    assert 1 <= safe.slices <= LIMITS.max_slices
    assert 0 <= safe.limit_offset_bps <= LIMITS.max_limit_offset_bps
    assert LIMITS.min_display_frac <= safe.display_frac <= LIMITS.max_display_frac
    assert 0 <= safe.max_slippage_bps <= LIMITS.max_slippage_bps
    assert clamp(safe, LIMITS) == safe
