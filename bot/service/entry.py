"""`sellbot run`: pick the exchange (embedded simulator or SafeTrade), build the app, run."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal

from bot.bootstrap import build_app
from bot.clock import Clock, SystemClock
from bot.db.migrate import upgrade
from bot.domain.balances import Balance
from bot.exchange.cached import CachedExchange
from bot.exchange.errors import ExchangeError
from bot.exchange.gate import GatedExchange
from bot.exchange.instrumented import InstrumentedExchange
from bot.exchange.port import Exchange
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.discovery import discover
from bot.exchange.safetrade.profiles import parse_choice
from bot.exchange.safetrade.stream import SafeTradeStream
from bot.exchange.safetrade.transport import TransportSwitch
from bot.exchange.streaming import StreamingExchange
from bot.logs import configure_logging, get_logger
from bot.metrics import Metrics
from bot.rand import make_rng
from bot.service.daemon import Daemon
from bot.service.streaming import OrderUpdates
from bot.settings import Settings, secret_values

log = get_logger("sellbot")

NO_CREDENTIALS = (
    "sellbot: refusing to start: SAFETRADE_API_KEY and SAFETRADE_API_SECRET are not set "
    "(use `sellbot run --simulate` to try it on the embedded simulator)"
)


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


def build_transport(settings: Settings) -> TransportSwitch:
    """Return the HTTP transport the REST client and the WebSocket stream share."""
    return TransportSwitch(settings.safetrade_http_client, settings.http_timeout_s)


def build_client(
    settings: Settings, clock: Clock, transport: TransportSwitch | None = None
) -> SafeTradeClient:
    """Return the SafeTrade REST client the settings describe."""
    key = settings.safetrade_api_key
    secret = settings.safetrade_api_secret
    return SafeTradeClient(
        settings.safetrade_base_url,
        key.get_secret_value() if key else None,
        secret.get_secret_value() if secret else None,
        clock=clock,
        rng=make_rng(settings.seed, "client"),
        timeout_s=settings.http_timeout_s,
        profile=parse_choice(settings.safetrade_api_profile),
        transport=transport,
        http_client=settings.safetrade_http_client,
    )


def build_exchange(
    settings: Settings, clock: SystemClock, metrics: Metrics, client: SafeTradeClient | None = None
) -> Exchange:
    """Return the client stack: cache → instrumentation → SafeTrade REST client."""
    client = client or build_client(settings, clock)
    return CachedExchange(InstrumentedExchange(client, metrics, clock), clock)


async def discovered_client(
    settings: Settings, clock: SystemClock, transport: TransportSwitch
) -> SafeTradeClient:
    """Return a client whose API profile was discovered (and logged) at start."""
    client = build_client(settings, clock, transport)
    try:
        await discover(client, clock, private=settings.has_credentials)
    except ExchangeError as e:  # a block page: the first cycle reports it as such
        log.warning("exchange_profile_not_discovered", error=str(e))
    return client


async def paper_exchange(settings: Settings, live: Exchange, clock: SystemClock) -> Exchange:
    """Return the dry-run exchange: live public data, local fills, the account's real balances.

    Without credentials the paper account starts with the demo balances.
    """
    from bot.sim.demo import DEMO_BALANCES
    from bot.sim.paper import PaperExchange

    if settings.has_credentials:
        balances = await live.balances()  # read-only: no order ever reaches the exchange
    else:
        balances = [Balance(c, amount, Decimal(0)) for c, amount in DEMO_BALANCES.items()]
    log.info(
        "dry_run", balances=len(balances), source="account" if settings.has_credentials else "demo"
    )
    return PaperExchange(live, balances, clock=clock)


async def start_stream(
    settings: Settings, exchange: Exchange, clock: SystemClock, transport: TransportSwitch
) -> SafeTradeStream | None:
    """Open the WebSocket streams for the enabled quote markets; None if that fails."""
    try:
        markets = [
            m.id
            for m in await exchange.markets()
            if m.quote == settings.quote_currency and m.enabled
        ]
    except ExchangeError as e:
        log.warning("stream_not_started", error=type(e).__name__)
        return None
    key, secret = settings.safetrade_api_key, settings.safetrade_api_secret
    stream = SafeTradeStream(
        settings.safetrade_base_url,
        clock=clock,
        rng=make_rng(settings.seed, "stream"),
        markets=markets,
        api_key=key.get_secret_value() if key else None,
        api_secret=secret.get_secret_value() if secret else None,
        transport=transport,
    )
    await stream.start()
    log.info("stream_started", markets=len(markets))
    return stream


async def run_daemon(settings: Settings, *, simulate: bool, once: bool) -> int:
    """Run the daemon; return the process exit code."""
    configure_logging(
        fmt=settings.log_format, level=settings.log_level, secrets=secret_values(settings)
    )
    if not simulate and not settings.dry_run and not settings.has_credentials:
        sys.stderr.write(NO_CREDENTIALS + "\n")
        return 2
    clock = SystemClock()
    async with AsyncExitStack() as stack:
        if simulate:
            settings = await stack.enter_async_context(embedded_simulator(settings, clock))
            configure_logging(
                fmt=settings.log_format, level=settings.log_level, secrets=secret_values(settings)
            )
        await upgrade(settings.database_url)
        metrics = Metrics()
        transport = build_transport(settings)
        stack.push_async_callback(transport.close)
        client = await discovered_client(settings, clock, transport)
        exchange = build_exchange(settings, clock, metrics, client)
        stream: SafeTradeStream | None = None
        if settings.dry_run and not simulate:
            exchange = await paper_exchange(settings, exchange, clock)
        elif settings.websocket:
            stream = await start_stream(settings, exchange, clock, transport)
            if stream is not None:
                exchange = StreamingExchange(exchange, stream)
        gate = GatedExchange(exchange)
        app = build_app(
            settings,
            clock=clock,
            rng=make_rng(settings.seed, "app"),
            exchange=gate,
            metrics=metrics,
        )
        if stream is not None:
            stream.order_listeners.append(OrderUpdates(app.runner.tracker))
        log.info(
            "sellbot_starting",
            simulate=simulate,
            once=once,
            exchange=settings.safetrade_base_url,
            database=settings.database_url.split("://", 1)[0],
            advisor=type(app.advisor).__name__,
        )
        return await Daemon(app, gate, once=once).run()
