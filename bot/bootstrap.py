"""Composition root: build every collaborator from settings; nothing happens at import.

``build_live`` builds what ``sellbot run`` runs: the HTTP transport, the discovered REST client,
its cache and instrumentation, paper trading or the WebSocket stream, the gate, and the app
around it with the stream's order updates wired to the tracker.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.advisor.port import Advisor
from bot.advisor.rules import RuleAdvisor
from bot.clock import Clock, SystemClock
from bot.db.engine import create_engine, session_factory
from bot.db.execution_store import SqlExecutionStore
from bot.db.repositories import (
    ControlRepository,
    DailyLedger,
    DecisionRepository,
    EventLog,
    SnapshotRepository,
)
from bot.domain.balances import Balance
from bot.domain.executions import Execution
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
from bot.execution.guards import ExecutionGuards
from bot.execution.limiter import ConcurrencyLimiter
from bot.execution.order_updates import OrderUpdates
from bot.execution.runner import ExecutionRunner
from bot.execution.supervisor import ExecutionSupervisor
from bot.logs import get_logger
from bot.metrics import Metrics, record_finished
from bot.notify.events import parse_kinds
from bot.notify.notifier import Notifier, NotifyPolicy, disabled
from bot.notify.urls import split_urls
from bot.prioritisation.marketdata import VolatilityCache
from bot.prioritisation.scoring import ScoreWeights
from bot.rand import make_rng
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.telegram.channel import TelegramChannel

log = get_logger("sellbot")


@dataclass
class App:
    """Everything the daemon, the cycle and the jobs use."""

    settings: Settings
    clock: Clock
    rng: random.Random
    exchange: Exchange
    advisor: Advisor
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: SqlExecutionStore
    runner: ExecutionRunner
    limiter: ConcurrencyLimiter
    supervisor: ExecutionSupervisor
    snapshots: SnapshotRepository
    decisions: DecisionRepository
    events: EventLog
    controls: ControlRepository
    ledger: DailyLedger
    weights: ScoreWeights
    volatility: VolatilityCache
    notifier: Notifier
    metrics: Metrics = field(default_factory=Metrics)
    telegram: TelegramChannel | None = None  # the daemon starts and stops it

    async def close(self) -> None:
        await self.notifier.close()  # sends what is queued, briefly
        close_advisor = getattr(self.advisor, "close", None)
        if callable(close_advisor):
            await close_advisor()
        await self.exchange.close()
        await self.engine.dispose()


def build_weights(settings: Settings) -> ScoreWeights:
    return ScoreWeights(
        value=settings.weight_value,
        liquidity=settings.weight_liquidity,
        volatility=settings.weight_volatility,
        spread=settings.weight_spread,
    )


def build_guards(settings: Settings) -> ExecutionGuards:
    return ExecutionGuards(
        max_slippage_bps=settings.max_slippage_bps,
        price_floors=dict(settings.price_floors),
        min_order_value=settings.min_order_value,
        final_sweep=settings.final_sweep,
        poll_interval_s=settings.order_poll_interval_s,
        max_mid_deviation_bps=settings.max_mid_deviation_bps,
    )


def build_advisor(settings: Settings, clock: Clock) -> Advisor:
    """Return the LLM advisor when a Cerebras key is set, else the rule advisor."""
    rules = RuleAdvisor(settings.limits())
    if settings.cerebras_api_key is None or not settings.cerebras_api_key.get_secret_value():
        return rules
    from bot.advisor.llm import LlmAdvisor

    return LlmAdvisor(
        api_key=settings.cerebras_api_key.get_secret_value(),
        model=settings.cerebras_model,
        base_url=settings.cerebras_base_url,
        limits=settings.limits(),
        fallback=rules,
        clock=clock,
        timeout_s=settings.cerebras_timeout_s,
    )


def build_telegram(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> TelegramChannel | None:
    """Return the Telegram control channel when a token and a chat id are set, else None."""
    token = settings.telegram_bot_token
    if token is None or not settings.telegram_enabled:
        if token is not None:
            log.warning("telegram_off", reason="SELLBOT_TELEGRAM_CHAT_IDS is empty")
        return None
    from bot.telegram.channel import TelegramChannel
    from bot.telegram.commands import ControlCommands

    return TelegramChannel(
        token=token.get_secret_value(),
        chat_ids=settings.telegram_chat_ids,
        api_url=settings.telegram_api_url,
        commands=ControlCommands(sessions, clock, quote=settings.quote_currency),
        clock=clock,
        rng=make_rng(settings.seed, "telegram"),
    )


def finished_hook(metrics: Metrics, notifier: Notifier) -> Callable[[Execution], None]:
    """Return the supervisor's hook for an ended sale: count it, notify it."""

    def on_finish(execution: Execution) -> None:
        record_finished(metrics, execution)
        notifier.sale_ended(execution)

    return on_finish


def build_notifier(settings: Settings, clock: Clock) -> Notifier:
    """Return the Apprise notifier for ``SELLBOT_NOTIFY_URLS``; a no-op one without URLs."""
    secret = settings.notify_urls
    urls = split_urls(secret.get_secret_value()) if secret is not None else []
    if not urls:
        return disabled(clock)
    from bot.notify.apprise_sink import AppriseSink

    policy = NotifyPolicy(
        events=parse_kinds(settings.notify_events),
        daily_hour=settings.notify_daily_hour,
        blocked_after_s=settings.notify_blocked_after_min * 60,
    )
    return Notifier(
        AppriseSink(urls), clock=clock, rng=make_rng(settings.seed, "notify"), policy=policy
    )


def build_app(
    settings: Settings,
    *,
    clock: Clock,
    rng: random.Random,
    exchange: Exchange,
    advisor: Advisor | None = None,
    notifier: Notifier | None = None,
    metrics: Metrics | None = None,
) -> App:
    """Wire the daemon's collaborators around ``exchange``."""
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    store = SqlExecutionStore(sessions, clock)
    runner = ExecutionRunner(
        exchange=exchange,
        store=store,
        clock=clock,
        guards=build_guards(settings),
        seed=settings.seed,
        cancel_on_interrupt=settings.cancel_on_shutdown,
    )
    limiter = ConcurrencyLimiter(settings.max_concurrent_executions)
    metrics = metrics or Metrics()
    notifier = notifier or build_notifier(settings, clock)
    notifier.on_depth = lambda depth: metrics.notify_queue_depth.set(float(depth))
    notifier.on_drop = lambda events: metrics.notify_dropped.inc(float(events))
    return App(
        settings=settings,
        clock=clock,
        rng=rng,
        exchange=exchange,
        advisor=advisor or build_advisor(settings, clock),
        engine=engine,
        sessions=sessions,
        store=store,
        runner=runner,
        limiter=limiter,
        supervisor=ExecutionSupervisor(
            limiter,
            runner.run,
            on_finish=finished_hook(metrics, notifier),
            now=clock.monotonic,
        ),
        snapshots=SnapshotRepository(sessions),
        decisions=DecisionRepository(sessions),
        events=EventLog(sessions),
        controls=ControlRepository(sessions),
        ledger=DailyLedger(sessions),
        weights=build_weights(settings),
        volatility=VolatilityCache(clock),
        notifier=notifier,
        metrics=metrics,
        telegram=build_telegram(settings, sessions, clock),
    )


# --- the exchange stack ---------------------------------------------------------------------


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


@dataclass
class Live:
    """What ``sellbot run`` runs: the app, its gated exchange and the stream (if any)."""

    app: App
    gate: GatedExchange
    transport: TransportSwitch


async def build_live(settings: Settings, clock: SystemClock, *, simulate: bool) -> Live:
    """Build the daemon's app on the exchange the settings name (paper, streamed or plain)."""
    metrics = Metrics()
    transport = build_transport(settings)
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
        settings, clock=clock, rng=make_rng(settings.seed, "app"), exchange=gate, metrics=metrics
    )
    if stream is not None:
        stream.order_listeners.append(OrderUpdates(app.runner.tracker))
    return Live(app, gate, transport)
