"""Book leg of the fault campaign, small: no order is placed on a one-sided, crossed or
pushed book, and none is priced below the bound from the true mid."""

from __future__ import annotations

from bench.reliability.book_leg import run_book_leg


async def test_book_leg_places_no_order_on_a_bad_book() -> None:
    counters = await run_book_leg(12, seed=3)

    assert counters["sales"] == 12
    assert counters["episodes"] > 0
    assert counters["orders_on_bad_books"] == 0
    assert counters["fills_below_reference_bound"] == 0
    assert counters["orders_below_reference_bound"] == 0
    assert counters.get("executions_completed", 0) > 0
