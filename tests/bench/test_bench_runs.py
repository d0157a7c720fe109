"""The benchmark: paired markets, byte-identical results per seed, every strategy's rows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from bot.bench.command import run_bench
from bot.bench.report import aggregate, to_json
from bot.bench.runner import STRATEGIES, advisor_decision, all_cases, run_cases, run_strategy
from bot.bench.scenarios import SCENARIOS, advisor_view, market_of, params_of, scenario
from bot.clock import VirtualClock
from bot.domain.decisions import Decision
from bot.domain.money import ZERO
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine

JSON_KEYS = {"scenario", "size", "strategy", "mean_bps", "stderr_bps", "p95_bps", "unsold_frac",
             "eta", "guard_violations", "cvar95_bps", "executed_bps", "completion_s",
             "oracle_bps", "regret_bps", "chosen", "urgency"}  # fmt: skip


async def _exogenous_after(strategy: str) -> list[tuple[float, str]]:
    """Run ``strategy``, then read the next minute of the market model's own path."""
    s = scenario("thin")
    _, engine = await run_strategy(s, Decimal(20), 3, strategy)
    model = engine.model("benchusdt")
    assert model is not None
    common = model.start + 1000  # past every horizon: the same instant for every strategy
    for _ in model.events_until(common):
        pass
    path = []
    for event in model.events_until(common + 60):
        path.append((model.t, "mid" if event is None else f"{event.side}:{event.amount}"))
    path.append((model.mid, "final_mid"))
    return path


async def test_every_strategy_trades_against_the_same_exogenous_market() -> None:
    paths = [await _exogenous_after(strategy) for strategy in ("market", "twap", "adaptive")]

    assert paths[0] == paths[1] == paths[2]
    assert any(kind != "mid" for _, kind in paths[0])


def test_the_same_seeds_give_byte_identical_json() -> None:
    cases = all_cases([scenario("thin")], 2, {"1%"})

    first = to_json(aggregate(run_cases(cases)))
    second = to_json(aggregate(run_cases(cases)))

    assert first == second
    assert json.loads(first)[0]["mean_bps"] != 0


def test_quick_run_writes_a_row_per_strategy_without_guard_violations(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    plot = tmp_path / "bench.png"

    report = run_bench(
        seeds=2, scenarios=("wide", "dust"), sizes={"0.1%", "1.5x"}, workers=1,
        json_path=str(out), plot_path=str(plot),
    )  # fmt: skip

    rows = json.loads(out.read_text())
    keys = {(r["scenario"], r["size"]) for r in rows}
    assert keys == {("wide", "0.1%"), ("dust", "1.5x")}
    for key in keys:
        assert sorted(r["strategy"] for r in rows if (r["scenario"], r["size"]) == key) == sorted(
            STRATEGIES
        )
    assert all(set(r) >= JSON_KEYS for r in rows)
    assert all(r["guard_violations"] == 0 for r in rows)
    urgency = {r["strategy"]: r["urgency"] for r in rows if r["scenario"] == "wide"}
    assert (urgency["adaptive@low"], urgency["adaptive"], urgency["adaptive@high"]) == (
        "low",
        "medium",
        "high",
    )
    assert urgency["twap"] == ""
    assert "adaptive" in report.text.splitlines()[4]
    assert "[pass] zero fills below the price floor / oversells: 0" in report.text


def test_cases_with_one_advisor_view_get_one_advisor_decision() -> None:
    """The regret floor groups rows by ``advisor_view``: it must be all the advisor reads."""
    by_view: dict[tuple[object, ...], set[Decision]] = {}
    for s in SCENARIOS:
        for _, amount in s.sizes():
            for seed in (0, 1):
                clock = VirtualClock()
                engine = MatchingEngine(clock, make_rng(seed, "bench.engine"), fee_rate=ZERO)
                engine.add_market(market_of(s), params_of(s), seed=f"{s.name}/{seed}")
                decision = advisor_decision(s, amount, engine.order_book("benchusdt", 200))
                by_view.setdefault(advisor_view(s, amount), set()).add(decision)

    assert all(len(decisions) == 1 for decisions in by_view.values())
    assert len(by_view) < sum(len(s.sizes()) for s in SCENARIOS)  # some views are shared
