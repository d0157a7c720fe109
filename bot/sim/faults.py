"""``FaultPlan``: what goes wrong, and how often, between the bot and the simulator.

Per request, drawn from the plan's own seeded rng: added latency (uniform up to
``max_latency_s``, slept on the injected clock), then at most one of HTTP 5xx, 429 with
``Retry-After``, connection reset, or, for order writes only, "accepted but response lost"
(the order IS placed, then the answer is dropped, turned into a 500, or delayed past the
client's timeout). ``force(kind)`` queues a fault for the next eligible request, for tests.
``maintenance`` lists markets whose state is set to disabled while they are in it.

In front of all that, as Cloudflare stands in front of safe.trade: ``challenge_default_ua``
answers a challenge page to a plain HTTP client's User-Agent (aiohttp's, requests', or none),
``challenge_all`` to every request, ``geo_block`` a region-block page to every request; on
REST and on the WebSocket handshake. ``challenge_non_browser`` challenges every client that is
not a real browser, as Cloudflare's TLS-fingerprint test does; the simulator speaks plain HTTP
and sees no TLS handshake, so the User-Agent is the only fingerprint it has: a browser's names
``Mozilla/5.0`` and one of ``Chrome/``, ``Firefox/``, ``Safari/``, and is not our own
``Mozilla/5.0 (compatible; sellbot/x)``; a browser-impersonating client (curl_cffi) passes.
``lost_mode="challenge"`` places the order and answers a challenge page instead.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.domain.market import MarketState
from bot.rand import make_rng

if TYPE_CHECKING:
    from bot.sim.engine import MatchingEngine

FaultKind = Literal["none", "status_5xx", "rate_limited", "reset", "lost_response"]
LostMode = Literal["reset", "status_500", "timeout", "challenge"]
BlockKind = Literal["challenge", "geo_block"]
# Python/3.11 aiohttp/3.9.5, python-requests/2.31, or no User-Agent at all
_PLAIN_CLIENT = re.compile(r"^(?:Python/\S+ aiohttp/|python-requests/|$)")
_BROWSER_ENGINES = ("Chrome/", "Firefox/", "Safari/")
_OUR_USER_AGENT = "compatible; sellbot"


def is_browser(user_agent: str | None) -> bool:
    """Return whether a User-Agent is a real browser's (not ours, not a plain HTTP client's)."""
    ua = user_agent or ""
    return (
        "Mozilla/5.0" in ua
        and any(engine in ua for engine in _BROWSER_ENGINES)
        and _OUR_USER_AGENT not in ua
    )


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind = "none"
    latency_s: float = 0.0
    status: int = 0
    retry_after_s: float = 0.0


@dataclass
class FaultPlan:
    """Probabilities of each fault per request; ``counters`` counts what was injected."""

    seed: int | str | None = 0
    p_5xx: float = 0.0
    p_429: float = 0.0
    retry_after_s: float = 1.0
    p_latency: float = 0.0
    max_latency_s: float = 0.0
    p_reset: float = 0.0
    p_lost_response: float = 0.0
    lost_mode: LostMode = "status_500"
    lost_timeout_s: float = 60.0
    html_5xx_share: float = 0.0  # share of 5xx answered with a proxy's HTML page
    challenge_default_ua: bool = False
    challenge_all: bool = False
    challenge_non_browser: bool = False  # stands in for Cloudflare's TLS-fingerprint test
    geo_block: bool = False
    maintenance: set[str] = field(default_factory=set)
    counters: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = make_rng(self.seed, "sim.faults")
        self._forced: deque[FaultKind] = deque()
        self._disabled: set[str] = set()

    def force(self, kind: FaultKind) -> None:
        """Inject ``kind`` on the next eligible request (lost responses need an order write)."""
        self._forced.append(kind)

    def clear(self) -> None:
        """Stop injecting: zero every probability and drop forced faults."""
        self.p_5xx = self.p_429 = self.p_latency = self.p_reset = self.p_lost_response = 0.0
        self._forced.clear()
        self.maintenance.clear()
        self.challenge_default_ua = self.challenge_all = self.geo_block = False
        self.challenge_non_browser = False

    def block(self, user_agent: str | None) -> BlockKind | None:
        """Return the page standing in front of the exchange for this request, if any."""
        kind: BlockKind
        if self.geo_block:
            kind = "geo_block"
        elif (
            self.challenge_all
            or (self.challenge_default_ua and _PLAIN_CLIENT.match(user_agent or ""))
            or (self.challenge_non_browser and not is_browser(user_agent))
        ):
            kind = "challenge"
        else:
            return None
        self.counters[kind] += 1
        return kind

    def draw(self, *, write: bool = False) -> Fault:
        """Return the fault for one request (``write``: it places an order)."""
        rng = self._rng
        latency = 0.0
        if self.p_latency > 0 and rng.random() < self.p_latency:
            latency = rng.uniform(0.0, self.max_latency_s)
            self.counters["latency"] += 1
        kind = self._forced_kind(write)
        if kind is None:
            kind = self._random_kind(write)
        if kind == "none":
            return Fault(latency_s=latency)
        self.counters[kind] += 1
        status = 0
        if kind == "status_5xx":
            status = 502 if rng.random() < self.html_5xx_share else 500
        elif kind == "rate_limited":
            status = 429
        return Fault(kind, latency, status, self.retry_after_s)

    def _forced_kind(self, write: bool) -> FaultKind | None:
        if not self._forced:
            return None
        if self._forced[0] == "lost_response" and not write:
            return None
        return self._forced.popleft()

    def _random_kind(self, write: bool) -> FaultKind:
        u = self._rng.random()
        for kind, p in (
            ("status_5xx", self.p_5xx),
            ("rate_limited", self.p_429),
            ("reset", self.p_reset),
            ("lost_response", self.p_lost_response if write else 0.0),
        ):
            if u < p:
                return kind  # type: ignore[return-value]
            u -= p
        return "none"

    def apply_maintenance(self, engine: MatchingEngine) -> None:
        """Disable the markets in ``maintenance`` and re-enable those taken out of it."""
        for market in self.maintenance - self._disabled:
            engine.set_market_state(market, MarketState.DISABLED)
            self._disabled.add(market)
            self.counters["maintenance"] += 1
        for market in self._disabled - self.maintenance:
            engine.set_market_state(market, MarketState.ENABLED)
            self._disabled.discard(market)
