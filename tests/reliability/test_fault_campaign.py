"""The fault campaign, small: every strategy on a faulty simulator, invariants from both sides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench.reliability.campaign import FaultRates, run_shard

pytestmark = pytest.mark.slow


async def test_faulty_exchange_loses_nothing_and_sales_complete() -> None:
    result = await run_shard(7, markets=4, rounds=5, rates=FaultRates())

    report = result.report
    assert result.injected["status_5xx"] > 0
    assert result.injected["rate_limited"] > 0
    assert result.injected["maintenance"] == 1
    assert 5 * 4 - 3 <= report.sales < 5 * 4  # rounds touched by maintenance leave its market out
    assert report.oversold == Decimal(0), report.details
    assert report.duplicates == 0, report.details
    assert report.unknown_open == 0, report.details
    assert report.disagreeing == 0, report.details
    assert report.stuck == 0, report.details
    assert report.completion >= 0.99, report.details


async def test_lost_order_answers_are_resolved_without_duplicates() -> None:
    rates = FaultRates(
        p_5xx=0.0, p_429=0.0, p_lost=0.3, p_reset=0.0, max_latency_s=0.0, maintenance_s=0.0
    )

    result = await run_shard(8, markets=4, rounds=5, rates=rates)

    report = result.report
    assert result.injected.get("lost_response", 0) >= 3
    assert (report.oversold, report.duplicates, report.unknown_open) == (Decimal(0), 0, 0)
    assert report.disagreeing == 0, report.details
    assert report.completion >= 0.99, report.details
