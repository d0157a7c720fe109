"""RuleAdvisor: one test per row of its table, plus the volatility adjustment."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from bot.advisor.rules import RuleAdvisor
from bot.domain.decisions import StrategyName, Urgency
from tests.advisor.advisor_helpers import LIMITS, context

RULES = RuleAdvisor(LIMITS)


async def test_small_sale_on_a_tight_book_goes_to_market() -> None:
    advice = await RULES.advise(context(amount="10", spread_bps="20"))

    assert advice.decision.strategy is StrategyName.MARKET
    assert advice.decision.slices == 1
    assert advice.advisor == "rules"
    assert advice.fallback is False


def test_wide_spread_rests_adaptively_inside_the_spread() -> None:
    decision = RULES.decide(context(amount="10", spread_bps="300"))
    between = RULES.decide(context(amount="10", spread_bps="60"))

    assert decision.strategy is between.strategy is StrategyName.ADAPTIVE
    assert decision.horizon_s == between.horizon_s == 600
    assert decision.limit_offset_bps == Decimal("100.00")


def test_wide_spread_and_a_big_share_of_the_book_goes_adaptive() -> None:
    decision = RULES.decide(context(amount="3000", spread_bps="300", level_amount="1000"))

    assert decision.strategy is StrategyName.ADAPTIVE
    assert decision.slices > 1


def test_large_relative_to_depth_goes_adaptive_over_a_long_horizon() -> None:
    ctx = context(amount="15000", level_amount="1000")

    decision = RULES.decide(ctx)

    assert ctx.book_fraction is not None
    assert ctx.book_fraction > Decimal("0.5")
    assert decision.strategy is StrategyName.ADAPTIVE
    assert decision.horizon_s == min(3600, LIMITS.max_horizon_s)


def test_medium_size_in_a_tight_calm_book_sells_fast_adaptively() -> None:
    ctx = context(amount="1500", level_amount="1000")

    decision = RULES.decide(ctx)

    assert decision.strategy is StrategyName.ADAPTIVE
    assert decision.urgency is Urgency.HIGH  # one above the configured medium
    assert decision.slices == 4  # 0.077 of the 5% depth, one slice per 0.02
    assert decision.horizon_s == decision.slices * 60


def test_high_volatility_slices_with_twap_over_a_shorter_horizon() -> None:
    calm = RULES.decide(context(amount="1500", level_amount="1000", volatility="20"))
    wild = RULES.decide(context(amount="1500", level_amount="1000", volatility="400"))

    assert wild.strategy is StrategyName.TWAP
    assert wild.urgency is Urgency.MEDIUM
    assert wild.horizon_s < calm.horizon_s
    assert "horizon halved" in wild.reason


def test_urgency_shifts_stay_within_the_configured_bounds() -> None:
    wide = context(amount="400", spread_bps="60")
    tight = context(amount="1500", level_amount="1000")
    low_only = RuleAdvisor(replace(LIMITS, urgency=Urgency.LOW, max_urgency=Urgency.LOW))

    assert RULES.decide(wide).urgency is Urgency.LOW  # one below medium
    assert low_only.decide(wide).urgency is Urgency.LOW
    assert low_only.decide(tight).urgency is Urgency.LOW  # one above, clamped back


def test_no_book_rests_at_the_best_bid() -> None:
    decision = RULES.decide(context(with_book=False))

    assert decision.strategy is StrategyName.LIMIT
    assert decision.limit_offset_bps == 0


def test_rule_decisions_are_deterministic_and_within_limits() -> None:
    ctx = context(amount="20000", level_amount="10")

    first, second = RULES.decide(ctx), RULES.decide(ctx)

    assert first == second
    assert first.slices <= LIMITS.max_slices
    assert LIMITS.min_horizon_s <= first.horizon_s <= LIMITS.max_horizon_s
    assert first.max_slippage_bps == LIMITS.max_slippage_bps


def test_a_sale_below_the_minimum_value_at_the_bid_rests_where_it_qualifies() -> None:
    small = context(amount="10", spread_bps="20")
    assert small.metrics.best_bid is not None
    at_bid = small.amount * small.metrics.best_bid
    ctx = replace(small, market=replace(small.market, min_value=at_bid + Decimal("0.01")))

    decision = RULES.decide(ctx)

    assert decision.strategy is StrategyName.LIMIT  # a market sell would be refused
    price = small.metrics.best_bid * (1 + decision.limit_offset_bps / 10_000)
    assert small.amount * price >= ctx.market.min_value
    assert decision.limit_offset_bps < Decimal(20)  # just enough, still inside the spread


def test_a_horizon_too_short_for_the_adaptive_schedule_keeps_twap() -> None:
    short = RuleAdvisor(replace(LIMITS, min_horizon_s=3, max_horizon_s=8))

    decision = short.decide(context(amount="1500", level_amount="1000"))

    assert decision.strategy is StrategyName.TWAP
    assert decision.urgency is Urgency.MEDIUM
