"""``--simulate``: serve the demo simulator on a free local port for one command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from bot.clock import SystemClock
from bot.logs import get_logger
from bot.settings import Settings

log = get_logger("sellbot")

# A demo should finish in a couple of minutes; these apply unless set in the environment
DEMO_DEFAULTS: dict[str, object] = {
    "min_horizon_s": 20,
    "max_horizon_s": 90,
    "schedule_interval_s": 60,
    "max_daily_value": Decimal(1_000_000),
}


@asynccontextmanager
async def embedded_simulator(settings: Settings, clock: SystemClock) -> AsyncIterator[Settings]:
    """Serve the demo simulator on a free local port; yield settings pointing at it."""
    from bot.sim.demo import build_demo_engine
    from bot.sim.faults import FaultPlan
    from bot.sim.server import SimServer

    engine, credentials = build_demo_engine(clock, settings.sim_seed)
    (key, secret), *_ = credentials.items()
    update: dict[str, object] = {}
    for name, value in DEMO_DEFAULTS.items():
        if name not in settings.model_fields_set:  # the user's own choice wins
            update[name] = value
    faults = None
    if settings.sim_challenge != "none":
        faults = FaultPlan(
            challenge_non_browser=settings.sim_challenge == "non_browser",
            challenge_all=settings.sim_challenge == "all",
        )
    async with SimServer(
        engine, credentials=credentials, clock=clock, port=0, faults=faults
    ) as server:
        log.info(
            "simulator_started",
            base_url=server.base_url,
            seed=settings.sim_seed,
            demo_defaults={k: str(v) for k, v in update.items()},
        )
        update |= {
            "safetrade_base_url": server.base_url,
            "safetrade_api_key": _secret(key),
            "safetrade_api_secret": _secret(secret),
        }
        yield settings.model_copy(update=update)


def _secret(value: str) -> object:
    from pydantic import SecretStr

    return SecretStr(value)
