"""Run every doctor check in order against the configured exchange; read-only throughout.

Order: reachability (with the block and clock lines; nothing else is asked after a FAIL
there), profile, swagger, account, WebSocket, then the transport and rate-limit lines. The
client built here is used for reads only: no order is placed or cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.bootstrap import build_client, build_transport
from bot.clock import Clock
from bot.exchange.safetrade import endpoints
from bot.exchange.safetrade.auth import auth_headers
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.transport import TransportSwitch
from bot.settings import Settings

from . import rest_checks, ws_checks
from .report import Check, Status

DEFAULT_RATE_PER_S = 8  # SafeTradeClient's own request rate when the exchange sends no limits


async def run_doctor(settings: Settings, clock: Clock, *, ws_timeout_s: float = 5.0) -> list[Check]:
    """Return the doctor's checks against ``settings``' exchange, in the order printed."""
    transport = build_transport(settings)
    client = build_client(settings, clock, transport)
    try:
        checks = await _exchange_checks(settings, client, clock, ws_timeout_s)
        checks.append(transport_line(transport, checks))
        if not _failed(checks[:1]):  # the host answered: its headers were seen
            checks.append(rate_limits(client))
        return checks
    finally:
        await client.close()
        await transport.close()


def _failed(checks: list[Check]) -> bool:
    return any(c.status is Status.FAIL for c in checks)


async def _exchange_checks(
    settings: Settings, client: SafeTradeClient, clock: Clock, ws_timeout_s: float
) -> list[Check]:
    checks = await rest_checks.reachability(client, clock)
    if _failed(checks):
        return checks  # unreachable or blocked: everything after would fail the same way
    found_checks, found = await rest_checks.profile(client, clock)
    checks += found_checks
    if found is None:
        return checks  # a block page answered discovery
    checks.append(await rest_checks.spec(client))
    checks += await rest_checks.account(client, settings.quote_currency)
    checks += await websocket(settings, client, clock, found.market, ws_timeout_s)
    return checks


async def websocket(
    settings: Settings,
    client: SafeTradeClient,
    clock: Clock,
    market: str | None,
    timeout_s: float,
) -> list[Check]:
    """Public and (with a key) private WebSocket checks, side by side."""
    if not settings.websocket:
        return [Check("ws", Status.PASS, "skipped: SELLBOT_WEBSOCKET=false (REST only)")]
    switch, base = client.transport, client.base_url
    tasks = [ws_checks.public(switch, base, market, clock, timeout_s)]
    key, secret = settings.safetrade_api_key, settings.safetrade_api_secret
    if key is not None and secret is not None and client.has_credentials:

        def sign() -> Mapping[str, str]:
            # the client's nonces: corrected to the server clock, above every REST nonce
            nonce = client.nonces.next()
            return auth_headers(key.get_secret_value(), secret.get_secret_value(), nonce)

        tasks.append(ws_checks.private(switch, base, sign, clock, timeout_s))
    results = await asyncio.gather(*tasks)
    return [check for result in results for check in result]


def transport_line(switch: TransportSwitch, checks: list[Check]) -> Check:
    """Which transport answered, and whether a challenge moved it (``auto``)."""
    name, mode = switch.current().name, switch.mode
    challenged = any(
        c.name == "blocked" and c.status is Status.FAIL and endpoints.REASON_CHALLENGE in c.detail
        for c in checks
    )
    if mode == "auto" and name == "curl_cffi":
        after = "challenged there too" if challenged else "curl_cffi passes"
        return Check("transport", Status.WARN, f"challenge on aiohttp; {after}")
    if challenged and mode == "aiohttp":
        hint = "SAFETRADE_HTTP_CLIENT=auto moves to curl_cffi (browser TLS) on a challenge"
        return Check("transport", Status.WARN, f"aiohttp challenged; {hint}")
    return Check("transport", Status.PASS, f"{name} (SAFETRADE_HTTP_CLIENT={mode})")


def rate_limits(client: SafeTradeClient) -> Check:
    """The rate-limit headers the exchange sent (the last value of each)."""
    seen = client.rate_limit_headers
    if not seen:
        return Check(
            "rate_limits",
            Status.WARN,
            f"none seen: the client's own limit ({DEFAULT_RATE_PER_S} requests/s) applies",
        )
    return Check("rate_limits", Status.PASS, ", ".join(f"{k}={v}" for k, v in sorted(seen.items())))
