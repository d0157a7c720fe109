"""The simulator over HTTP: SafeTrade REST (its path families, ``routes.py``) and WebSocket
under ``/api/v2``.

Middlewares, outermost first: faults (from a ``FaultPlan``: block pages first), errors
(``SimError`` → JSON ``{"errors": [code]}``), authentication of private paths. ``SimServer``
runs the app on 127.0.0.1 (port 0 picks a free port) as an async context manager.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType

from aiohttp import web

from bot.clock import Clock
from bot.sim.auth import Authenticator
from bot.sim.engine import MatchingEngine
from bot.sim.faults import BlockKind, Fault, FaultPlan
from bot.sim.records import SimError
from bot.sim.rest import API_KEY, RestApi
from bot.sim.routes import API_PREFIX, PRIVATE_PREFIXES, SERVED, route_defs, select
from bot.sim.websocket import WebSocketHub

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PRIVATE = (*(API_PREFIX + p for p in PRIVATE_PREFIXES), f"{API_PREFIX}/websocket/private")
_ORDER_WRITES = (f"{API_PREFIX}/trade/market/orders", f"{API_PREFIX}/peatio/market/orders")
_MAINTENANCE_PAGE = "<html><body><h1>502 Bad Gateway</h1>maintenance</body></html>"
# What Cloudflare answers in front of safe.trade (shapes as public clients report them)
_CHALLENGE_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    '<meta http-equiv="refresh" content="390"></head><body><noscript>Enable JavaScript and '
    'cookies to continue</noscript><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/'
    'chl_page/v1"></script></body></html>'
)
_GEO_BLOCK_PAGE = (
    "<!DOCTYPE html><html><head><title>SafeTrade</title></head><body><h1>Sorry</h1>"
    "<p>SafeTrade does not currently allow trading or new signups for Canadians.</p>"
    "</body></html>"
)


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"errors": [code]}, status=status)


def _is_write(request: web.Request) -> bool:
    return request.method == "POST" and request.path.startswith(_ORDER_WRITES)


class _Middlewares:
    def __init__(
        self, engine: MatchingEngine, auth: Authenticator, clock: Clock, faults: FaultPlan | None
    ) -> None:
        self.engine = engine
        self.auth = auth
        self.clock = clock
        self.faults = faults

    @web.middleware
    async def faults_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        plan = self.faults
        if plan is None:
            return await handler(request)
        blocked = plan.block(request.headers.get("User-Agent"))
        if blocked is not None:
            return _block_page(blocked, plan.counters[blocked])
        plan.apply_maintenance(self.engine)
        fault = plan.draw(write=_is_write(request))
        if fault.latency_s > 0:
            await self.clock.sleep(fault.latency_s)
        if fault.kind == "none":
            return await handler(request)
        if fault.kind == "lost_response":
            response = await handler(request)
            return await self._lose(request, plan, response)
        return self._inject(request, fault)

    def _inject(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "reset":
            return _reset(request)
        if fault.kind == "rate_limited":
            return web.json_response(
                {"errors": ["too_many_requests"]},
                status=429,
                headers={"Retry-After": str(int(fault.retry_after_s))},
            )
        if fault.status == 502:
            return web.Response(status=502, text=_MAINTENANCE_PAGE, content_type="text/html")
        return _error(fault.status or 500, "server.internal_error")

    async def _lose(
        self, request: web.Request, plan: FaultPlan, response: web.StreamResponse
    ) -> web.StreamResponse:
        if plan.lost_mode == "reset":
            return _reset(request)
        if plan.lost_mode == "timeout":
            await self.clock.sleep(plan.lost_timeout_s)
            return response
        if plan.lost_mode == "challenge":
            return _block_page("challenge", plan.counters["lost_response"])
        return _error(500, "server.internal_error")

    @web.middleware
    async def errors_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except SimError as e:
            return _error(e.status, e.code)

    @web.middleware
    async def auth_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(_PRIVATE):
            key = self.auth.verify(request.headers)
            self.engine.account(key)
            request[API_KEY] = key
        return await handler(request)


def _reset(request: web.Request) -> web.StreamResponse:
    """Drop the connection without an answer."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)  # never delivered: the transport is gone


def _block_page(kind: BlockKind, serial: int) -> web.Response:
    """Answer as Cloudflare does: 403, HTML, ``server: cloudflare``, a ``cf-ray`` id."""
    headers = {"Server": "cloudflare", "CF-RAY": f"{serial:016x}-YYZ"}
    if kind == "challenge":
        headers["cf-mitigated"] = "challenge"
    page = _CHALLENGE_PAGE if kind == "challenge" else _GEO_BLOCK_PAGE
    return web.Response(status=403, text=page, content_type="text/html", headers=headers)


async def _not_found(request: web.Request) -> web.Response:
    return _error(404, "record.not_found")


def build_app(
    engine: MatchingEngine,
    *,
    credentials: Mapping[str, str],
    clock: Clock,
    faults: FaultPlan | None = None,
    nonce_window_s: float = 5.0,
    ws_interval_s: float = 1.0,
    families: Iterable[str] | None = None,
    websocket: bool = True,
) -> tuple[web.Application, WebSocketHub]:
    """Return the aiohttp application and its WebSocket hub.

    ``families`` chooses the REST path families served (``trade``, ``peatio``, ``seed``);
    None serves all three. ``websocket=False`` serves no WebSocket (its paths answer 404).

    Raises:
        ValueError: an unknown family, or an empty choice.
    """
    served = select(RestApi(engine, clock), families)
    auth = Authenticator(credentials, clock, window_s=nonce_window_s)
    mw = _Middlewares(engine, auth, clock, faults)
    app = web.Application(middlewares=[mw.faults_mw, mw.errors_mw, mw.auth_mw])
    app[SERVED] = served
    app.add_routes(route_defs(served))
    hub = WebSocketHub(engine, clock, interval_s=ws_interval_s)
    if websocket:
        app.add_routes(hub.routes())
    app.add_routes([web.route("*", "/{tail:.*}", _not_found)])
    app.on_shutdown.append(hub.shutdown)
    return app, hub


class SimServer:
    """Run the simulator on a local port: ``async with SimServer(...) as srv: srv.base_url``."""

    def __init__(
        self,
        engine: MatchingEngine,
        *,
        credentials: Mapping[str, str],
        clock: Clock,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        nonce_window_s: float = 5.0,
        ws_interval_s: float = 1.0,
        families: Iterable[str] | None = None,
        websocket: bool = True,
    ) -> None:
        """``families``, ``websocket``: what is served, see ``build_app``."""
        self.engine = engine
        self.faults = faults
        self.host = host
        self.port = port
        self.app, self.hub = build_app(
            engine,
            credentials=credentials,
            clock=clock,
            faults=faults,
            nonce_window_s=nonce_window_s,
            ws_interval_s=ws_interval_s,
            families=families,
            websocket=websocket,
        )
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/v2"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/api/v2/websocket"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
