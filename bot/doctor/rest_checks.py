"""The REST half of ``sellbot doctor``: reachability, blocks, clock, profile, spec, auth, balances.

Every call is a read; nothing here places or cancels an order. A block page or an unreachable
host ends the REST checks early: everything after would fail the same way.
"""

from __future__ import annotations

import re

from bot.clock import Clock
from bot.domain.balances import Balance
from bot.domain.market import Market
from bot.domain.money import quantize_down
from bot.exchange.errors import AuthError, ExchangeBlocked, ExchangeError, NotFound
from bot.exchange.safetrade import wire_meta
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.discovery import Discovery, discover
from bot.exchange.safetrade.profiles import PRIVATE, PROFILES, Capability, Family

from .report import Check, Status

CLOCK_WARN_S = 1.0  # nonces are corrected by the measured offset, but logs and days are not
CLOCK_FAIL_S = 300.0
_METHODS = {Capability.CANCEL: "POST", Capability.CANCEL_ALL: "POST"}


def _fail(name: str, e: Exception) -> Check:
    return Check(name, Status.FAIL, f"{type(e).__name__}: {e}"[:200])


async def reachability(client: SafeTradeClient, clock: Clock) -> list[Check]:
    """Ask the server time; return the reachability, block and clock lines."""
    name = "reachability"
    sent = clock.time()
    try:
        offset = await client.sync_time()  # the offset signed requests are corrected by
    except ExchangeBlocked as e:
        return [
            Check(name, Status.PASS, f"{client.base_url} answers"),
            Check("blocked", Status.FAIL, e.reason),
        ]
    except NotFound as e:
        detail = f"{client.base_url}: no server time route ({e}): is the base URL right?"
        return [Check(name, Status.FAIL, detail)]
    except ExchangeError as e:
        return [Check(name, Status.FAIL, f"{client.base_url}: {type(e).__name__}: {e}"[:200])]
    elapsed_ms = (clock.time() - sent) * 1000
    tls = " over TLS" if client.base_url.startswith("https://") else ""
    checks = [
        Check(name, Status.PASS, f"{client.base_url} answered{tls} in {elapsed_ms:.0f} ms"),
        Check("blocked", Status.PASS, "no Cloudflare challenge or region block page"),
    ]
    status = Status.PASS
    if abs(offset) > CLOCK_FAIL_S:
        status = Status.FAIL
    elif abs(offset) > CLOCK_WARN_S:
        status = Status.WARN
    detail = f"server time offset {offset:+.3f} s (warn > {CLOCK_WARN_S:g} s)"
    if status is not Status.PASS:
        detail += ": signed requests correct for it; sync this host's clock (NTP)"
    checks.append(Check("clock", status, detail))
    return checks


async def profile(client: SafeTradeClient, clock: Clock) -> tuple[list[Check], Discovery | None]:
    """Discover the family of each capability; one line for what answered, one per failure.

    A private capability's failure is left to the ``auth`` line (``account``), which asks again
    and says whether the key was refused.
    """
    try:
        found = await discover(client, clock, private=client.has_credentials)
    except ExchangeBlocked as e:
        return [Check("blocked", Status.FAIL, e.reason)], None
    by_family: dict[str, list[str]] = {}
    for capability, family in sorted(found.chosen.items()):
        by_family.setdefault(family, []).append(capability)
    summary = "; ".join(f"{fam}: {', '.join(caps)}" for fam, caps in sorted(by_family.items()))
    checks = [Check("profile", Status.PASS, summary or "nothing answered")]
    for capability, error in sorted(found.failed.items()):
        if Capability(capability) not in PRIVATE:
            checks.append(Check(f"profile.{capability}", Status.FAIL, error))
    return checks, found


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def used_paths(client: SafeTradeClient) -> set[str]:
    """``METHOD path`` of every route the client would use with what it discovered."""
    out: set[str] = set()
    for capability_name, family_name in client.routes.summary().items():
        capability = Capability(capability_name)
        if capability is Capability.SWAGGER:
            continue  # a spec need not list itself
        profile = PROFILES[Family(family_name)]
        template = profile.paths.get(capability)
        if template is not None:
            out.add(f"{_METHODS.get(capability, 'GET')} {_normalised(template)}")
            if capability is Capability.ORDERS:
                out.add(f"POST {_normalised(template)}")
    return out


async def spec(client: SafeTradeClient) -> Check:
    """Compare the routes the client uses with the exchange's own ``swagger.json``."""
    try:
        document = await client.swagger()
    except ExchangeError as e:
        return Check("swagger", Status.WARN, f"no swagger.json served ({type(e).__name__})")
    listed = {_normalised(p) for p in wire_meta.spec_paths(document)}
    missing = sorted(used_paths(client) - listed)
    if missing:
        return Check("swagger", Status.WARN, "used but not in the spec: " + ", ".join(missing))
    return Check("swagger", Status.PASS, f"every used route is in the spec ({len(listed)} listed)")


async def account(client: SafeTradeClient, quote: str) -> list[Check]:
    """Who the key is, and for each non-zero balance whether it can be sold."""
    if not client.has_credentials:
        return [Check("auth", Status.WARN, "no API key configured: private checks skipped")]
    try:
        try:
            member = await client.member()
            who = f"members/me answers (uid {member.get('uid', '?')})"
        except NotFound:
            who = "no members/me route; balances answer"
        balances = await client.balances()
    except AuthError as e:
        return [Check("auth", Status.FAIL, f"credentials refused: {e}")]
    except ExchangeError as e:
        return [_fail("auth", e)]
    checks = [Check("auth", Status.PASS, who)]
    try:
        markets = {(m.base, m.quote): m for m in await client.markets()}
    except ExchangeError as e:
        return [*checks, _fail("markets", e)]
    held = [b for b in balances if b.total > 0 and b.currency != quote]
    if not held:
        checks.append(Check("balances", Status.WARN, f"no balance to sell into {quote}"))
    for balance in held:
        checks.append(sellable(balance, markets.get((balance.currency, quote)), quote))
    return checks


def sellable(balance: Balance, market: Market | None, quote: str) -> Check:
    name = f"balance.{balance.currency}"
    if market is None:
        return Check(
            name, Status.WARN, f"{balance.total} held; no {balance.currency}{quote} market"
        )
    rules = (
        f"{market.id} min {market.min_amount}, {market.amount_precision} decimals, "
        f"state {market.state}"
    )
    if not market.enabled:
        return Check(name, Status.WARN, f"{balance.available} available; {rules}: not traded")
    amount = quantize_down(balance.available, market.amount_precision)
    if amount < market.min_amount or amount <= 0:
        return Check(name, Status.WARN, f"{balance.available} available; {rules}: below minimum")
    return Check(name, Status.PASS, f"{balance.available} available; {rules}: sellable")
