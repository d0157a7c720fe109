"""The advice table over the demo exchange, as ``sellbot advise --simulate`` shows it."""

from __future__ import annotations

from decimal import Decimal

from bot.advisor.report import advise_sellable, format_advice_table
from bot.advisor.rules import RuleAdvisor
from bot.clock import VirtualClock
from bot.domain.balances import Classification
from bot.prioritisation.marketdata import build_snapshot
from bot.prioritisation.scoring import ScoreWeights, prioritise
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.exchange import SimExchange
from tests.advisor.advisor_helpers import LIMITS


async def test_table_shows_every_balance_and_the_decision_for_each_sale(
    clock: VirtualClock,
) -> None:
    engine, _ = build_demo_engine(clock, seed=7)
    await clock.advance(600)
    sim = SimExchange(engine, DEMO_KEY, clock=clock)
    snapshot = await build_snapshot(
        sim,
        await sim.balances(),
        quote="usdt",
        excluded=frozenset({"btc"}),
        clock=clock,
        min_value=Decimal(1),
    )
    scores = prioritise(snapshot, weights=ScoreWeights(), min_value=Decimal(1))

    advices = await advise_sellable(RuleAdvisor(LIMITS), scores, snapshot)
    table = format_advice_table(scores, advices)

    print("\n" + table)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["currency", "class", "amount"]
    assert len(lines) == 2 + len(scores) + 1
    assert set(advices) == {s.currency for s in scores if s.classification is Classification.SELL}
    by_currency = {line.split()[0]: line for line in lines[2:-1]}
    for currency, advice in advices.items():
        assert str(advice.decision.strategy) in by_currency[currency]
        assert "rules" in by_currency[currency]
    assert "dust" in by_currency["doge"]
    assert "below" in by_currency["doge"]
    assert "market_disabled" in by_currency["luna"]
    assert lines[-1] == "8 balances, 3 to sell, 0 LLM fallbacks"
