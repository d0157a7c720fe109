"""Discover, at start, which API family serves each capability, and log the profile once.

Each read-only capability is asked once (per-market ones with the first enabled market);
the client remembers what answered (``Routes``). A capability that fails here is left to be
discovered on first use. Nothing is ever written to the exchange.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import structlog

from bot.clock import Clock
from bot.exchange.errors import ExchangeBlocked, ExchangeError
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.profiles import Capability

log = structlog.get_logger()


@dataclass
class Discovery:
    """What answered: capability → family, and capability → the error that stopped it."""

    chosen: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    market: str | None = None


async def discover(client: SafeTradeClient, clock: Clock, *, private: bool) -> Discovery:
    """Probe every read capability once; a block page stops the probe (it would repeat).

    Raises:
        ExchangeBlocked: a challenge or region block answered; nothing else can be learned.
    """
    out = Discovery()

    async def probe(capability: Capability, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except ExchangeBlocked:
            raise
        except ExchangeError as e:
            out.failed[str(capability)] = f"{type(e).__name__}: {e}"[:160]
            return None

    await probe(Capability.TIMESTAMP, client.server_time())
    markets = await probe(Capability.MARKETS, client.markets()) or []
    await probe(Capability.TICKERS, client.tickers())
    market = next((m.id for m in markets if m.enabled), None)
    out.market = market
    if market is not None:
        now = int(clock.time())
        await probe(Capability.TICKER, client.ticker(market))
        await probe(Capability.BOOK, client.order_book(market, 5))
        await probe(Capability.PUBLIC_TRADES, client.public_trades(market, 5))
        await probe(Capability.K_LINE, client.candles(market, 60, now - 3 * 3600, now))
    if private and client.has_credentials:
        await probe(Capability.BALANCES, client.balances())
    out.chosen = client.routes.summary()
    log.info("exchange_profile", **out.chosen, failed=sorted(out.failed) or None)
    return out
