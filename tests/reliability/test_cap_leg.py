"""The daily-cap leg, small: one slot, a cap under the account's value, several sales."""

from __future__ import annotations

from decimal import Decimal

from bench.reliability.cap_leg import run_cap_leg


async def test_committed_value_never_passes_the_daily_cap() -> None:
    figures = await run_cap_leg(8, cap=Decimal(1200), top_up_every=4)

    cap = Decimal(figures["cap"])
    peak = Decimal(figures["peak_committed_at_allocation"])
    assert figures["sales_started"] >= 3, figures  # the cap had several sales to hold back
    assert figures["skipped_daily_cap"] > 0, figures
    assert cap - 1 < peak <= cap, figures  # spent up to the cap, never past it
    assert figures["exceeded"] == 0
    # proceeds differ from the values at allocation only by the prices' moves meanwhile
    assert Decimal(figures["peak_committed"]) <= cap * Decimal("1.01"), figures
