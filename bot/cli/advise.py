"""`sellbot advise`: print the scored balances and the decision each sellable one would get."""

from __future__ import annotations

from bot.advisor.report import advise_sellable, format_advice_table
from bot.bootstrap import build_advisor, build_weights
from bot.clock import SystemClock
from bot.exchange.port import Exchange
from bot.prioritisation.marketdata import build_snapshot
from bot.prioritisation.scoring import prioritise
from bot.settings import Settings


async def advise_table(settings: Settings, exchange: Exchange, clock: SystemClock) -> str:
    """Score the account behind ``exchange`` and return the table; places no order."""
    balances = await exchange.balances()
    snapshot = await build_snapshot(
        exchange,
        balances,
        quote=settings.quote_currency,
        excluded=settings.excluded_currencies,
        clock=clock,
        min_value=settings.min_order_value,
    )
    scores = prioritise(
        snapshot, weights=build_weights(settings), min_value=settings.min_order_value
    )
    advices = await advise_sellable(build_advisor(settings, clock), scores, snapshot)
    return format_advice_table(scores, advices)


async def run_advise(settings: Settings, *, simulate: bool) -> int:
    clock = SystemClock()
    if simulate:
        from bot.sim.demo import DEMO_KEY, build_demo_engine
        from bot.sim.exchange import SimExchange

        engine, _ = build_demo_engine(clock, settings.sim_seed)
        exchange: Exchange = SimExchange(engine, DEMO_KEY, clock=clock)
    elif not settings.has_credentials:
        print("sellbot: advise needs SAFETRADE_API_KEY and SAFETRADE_API_SECRET, or --simulate")
        return 2
    else:
        from bot.bootstrap import build_exchange
        from bot.metrics import Metrics

        exchange = build_exchange(settings, clock, Metrics())
    try:
        print(await advise_table(settings, exchange, clock))
    finally:
        await exchange.close()
    return 0
