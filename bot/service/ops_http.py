"""Health and metrics over HTTP: ``/healthz``, ``/readyz``, ``/metrics``.

``/metrics`` serves ``generate_latest`` of the app's own registry (``bot.metrics``), after
bringing the gauges read at scrape time up to date: the stream's health and this daemon's
leadership (role and lease epoch).

An exchange check that raises ``ExchangeBlocked`` makes ``/readyz`` say why: its ``exchange``
entry is then ``{"ready": false, "blocked": "<reason>"}`` instead of ``false``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from bot.clock import Clock
from bot.exchange.errors import ExchangeBlocked
from bot.metrics import Metrics

Check = Callable[[], Awaitable[bool]]
Verdict = bool | str  # a str: not ready, the exchange is blocked for this reason


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """The WebSocket stream's part of ``/readyz``: ready or not, and what it was judged on."""

    ready: bool
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass
class ReadinessChecks:
    """What ``/readyz`` asks; with a ``clock``, one exchange answer serves ``exchange_cache_s``."""

    database: Check
    exchange: Check
    scheduler: Callable[[], bool]
    timeout_s: float = 3.0
    role: Callable[[], str] | None = None  # "leader" or "standby"; only a leader is ready
    epoch: Callable[[], int | None] | None = None  # the lease epoch held, for /metrics
    stream: Callable[[], StreamStatus] | None = None  # None: no stream configured
    clock: Clock | None = None
    exchange_cache_s: float = 0.0


async def _run_check(check: Check, timeout_s: float) -> Verdict:
    try:
        return await asyncio.wait_for(check(), timeout_s)
    except asyncio.CancelledError:
        raise
    except ExchangeBlocked as e:
        return e.reason
    except Exception:  # a failing dependency means "not ready", not a crash
        return False


class CachedCheck:
    """Run ``check`` at most once per ``ttl_s`` on ``clock``; callers meanwhile share its answer."""

    def __init__(self, check: Check, clock: Clock, ttl_s: float, timeout_s: float) -> None:
        self._check, self._clock = check, clock
        self._ttl_s, self._timeout_s = ttl_s, timeout_s
        self._lock = asyncio.Lock()
        self._answer: tuple[float, Verdict] | None = None
        self.runs = 0

    async def __call__(self) -> Verdict:
        async with self._lock:  # concurrent requests wait for the one call in flight
            now = self._clock.monotonic()
            if self._answer is not None and now - self._answer[0] < self._ttl_s:
                return self._answer[1]
            self.runs += 1
            ok = await _run_check(self._check, self._timeout_s)
            self._answer = (now, ok)
            return ok


def _exchange_check(checks: ReadinessChecks) -> Callable[[], Awaitable[Verdict]]:
    if checks.clock is None or checks.exchange_cache_s <= 0:
        return lambda: _run_check(checks.exchange, checks.timeout_s)
    return CachedCheck(checks.exchange, checks.clock, checks.exchange_cache_s, checks.timeout_s)


def refresh_scraped(metrics: Metrics, checks: ReadinessChecks) -> None:
    """Set the gauges that are read when scraped: stream health, leadership."""
    if checks.stream is not None:
        stream = checks.stream()  # also brings the stream's own gauges and counters up to date
        metrics.stream_ready.set(1.0 if stream.ready else 0.0)
        age = stream.detail.get("last_message_age_s")
        if isinstance(age, int | float):
            metrics.stream_last_message_age.set(float(age))
    if checks.role is not None:
        metrics.leader.set(1.0 if checks.role() == "leader" else 0.0)
    if checks.epoch is not None:
        metrics.lease_epoch.set(float(checks.epoch() or 0))


def create_ops_app(metrics: Metrics, checks: ReadinessChecks) -> web.Application:
    exchange_ok = _exchange_check(checks)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        db_ok, ex_ok = await asyncio.gather(
            _run_check(checks.database, checks.timeout_s), exchange_ok()
        )
        result: dict[str, object] = {
            "database": db_ok is True,
            "exchange": ex_ok if isinstance(ex_ok, bool) else {"ready": False, "blocked": ex_ok},
            "scheduler": checks.scheduler(),
        }
        ready = db_ok is True and ex_ok is True and bool(result["scheduler"])
        if checks.stream is not None:
            stream = checks.stream()
            result["stream"] = {"ready": stream.ready, **stream.detail}
            ready = ready and stream.ready
        if checks.role is not None:  # a standby is healthy but not ready
            result["role"] = checks.role()
            ready = ready and result["role"] == "leader"
        return web.json_response({"ready": ready, **result}, status=200 if ready else 503)

    async def metrics_view(_request: web.Request) -> web.Response:
        refresh_scraped(metrics, checks)
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    return app


class OpsServer:
    """The ops endpoint on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self,
        app: web.Application,
        host: str = "0.0.0.0",  # noqa: S104 -- the container exposes the ops port
        port: int = 8080,
    ) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self._host, self._port = host, port
        self.port: int | None = None

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server  # the only way to read the bound port
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        await self._runner.cleanup()
