"""Health and metrics over HTTP: ``/healthz``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.service.metrics import Metrics

Check = Callable[[], Awaitable[bool]]


@dataclass
class ReadinessChecks:
    database: Check
    exchange: Check
    scheduler: Callable[[], bool]
    timeout_s: float = 3.0


async def _run_check(check: Check, timeout_s: float) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout_s)
    except asyncio.CancelledError:
        raise
    except Exception:  # a failing dependency means "not ready", not a crash
        return False


def create_ops_app(metrics: Metrics, checks: ReadinessChecks) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        db_ok, ex_ok = await asyncio.gather(
            _run_check(checks.database, checks.timeout_s),
            _run_check(checks.exchange, checks.timeout_s),
        )
        result = {"database": db_ok, "exchange": ex_ok, "scheduler": checks.scheduler()}
        status = 200 if all(result.values()) else 503
        return web.json_response({"ready": status == 200, **result}, status=status)

    async def metrics_view(_request: web.Request) -> web.Response:
        return web.Response(text=metrics.render(), content_type="text/plain", charset="utf-8")

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
