"""The advisor's run is reused only where it provably runs like a baseline."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from bot.bench.runner import _run_case, decision_of, quiet_logs, run_strategy
from bot.bench.scenarios import scenario
from bot.domain.decisions import StrategyName
from bot.execution.registry import DECISION_FIELDS, RUNNER_FIELDS, executor_view

UNREAD = {"slices": 7, "limit_offset_bps": Decimal(9), "display_frac": Decimal("0.5")}


@pytest.mark.parametrize("strategy", ["market", "limit", "twap", "iceberg", "adaptive"])
def test_fields_outside_the_executor_view_do_not_change_a_run(strategy: str) -> None:
    s = scenario("thin")
    amount = dict(s.sizes())["1%"]
    base = decision_of(strategy, s)
    read = set(RUNNER_FIELDS) | set(DECISION_FIELDS[StrategyName(strategy)])
    changes = {k: v for k, v in UNREAD.items() if k not in read}
    other = replace(base, reason="other", **changes)  # type: ignore[arg-type]  # mixed types

    async def both() -> tuple[object, object]:
        first, _ = await run_strategy(s, amount, 3, strategy, base)
        second, _ = await run_strategy(s, amount, 3, strategy, other)
        return first, second

    with quiet_logs():
        first, second = asyncio.run(both())

    assert other != base
    assert executor_view(other) == executor_view(base)
    assert first == second


def test_a_reused_advisor_run_equals_running_it() -> None:
    s = scenario("wide")
    amount = dict(s.sizes())["0.1%"]

    with quiet_logs():
        case = asyncio.run(_run_case("wide", "0.1%", amount, 2))
        ran, _ = asyncio.run(run_strategy(s, amount, 2, "advisor"))

    reused = next(r for r in case.runs if r.strategy == "advisor")
    assert ran.chosen == "adaptive@low"  # a wide spread: one below the default urgency
    assert reused == ran
