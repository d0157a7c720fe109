"""``CurlTransport``: curl_cffi impersonating a browser, whose TLS fingerprint Cloudflare passes.

The impersonated browser's User-Agent is part of that fingerprint, so ours is dropped from
every request. Timeouts are curl's: ``timeout_s`` for a whole request (connecting within
``min(timeout_s, 5)``) and for a WebSocket handshake. curl_cffi sends no WebSocket heartbeat
of its own: an idle connection is pinged every ``heartbeat_s`` (Cloudflare closes one idle for
100 s) and TCP keep-alive finds a peer that vanished.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from io import BytesIO
from typing import Any, Final

from curl_cffi import CurlError, CurlOpt, CurlWsFlag
from curl_cffi.curl import CURL_WRITEFUNC_ERROR
from curl_cffi.requests import AsyncSession, AsyncWebSocket, WebSocketTimeout
from multidict import CIMultiDict, CIMultiDictProxy

from bot.exchange.errors import MalformedResponse
from bot.exchange.safetrade import endpoints
from bot.exchange.safetrade.transport import (
    HEARTBEAT_S,
    HttpReply,
    TransportError,
    TransportName,
    WsConnection,
)

IMPERSONATE: Final = "chrome"  # curl_cffi's newest Chrome fingerprint
_KEEPALIVE: Final[dict[CurlOpt, Any]] = {
    CurlOpt.TCP_KEEPALIVE: 1,
    CurlOpt.TCP_KEEPIDLE: 30,
    CurlOpt.TCP_KEEPINTVL: 10,
}


def browser_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return ``headers`` without a User-Agent: the impersonated browser sends its own."""
    ua = endpoints.HEADER_USER_AGENT.lower()
    return {k: v for k, v in headers.items() if k.lower() != ua}


def parse_head(raw: bytes) -> tuple[int | None, Mapping[str, str]]:
    """Return the status and headers of the last response head in curl's header lines."""
    status: int | None = None
    headers: CIMultiDict[str] = CIMultiDict()
    for line in raw.decode("latin-1").split("\r\n"):
        if line.startswith("HTTP/"):
            parts = line.split(maxsplit=2)
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            headers = CIMultiDict()
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    return status, CIMultiDictProxy(headers)


class _Body:
    """Collect a response body as curl writes it; stop the transfer past ``max_body``."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.parts: list[bytes] = []
        self.size = 0
        self.overflow = False

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self.max_body:
            self.overflow = True
            return CURL_WRITEFUNC_ERROR  # curl aborts the transfer
        self.parts.append(chunk)
        return len(chunk)


class CurlTransport:
    """curl_cffi: one lazily opened ``AsyncSession`` impersonating ``impersonate``."""

    name: TransportName = "curl_cffi"

    def __init__(
        self,
        timeout_s: float,
        impersonate: str = IMPERSONATE,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        max_clients: int = 16,  # curl handles; each open WebSocket holds one
    ) -> None:
        connect_s = min(timeout_s, 5.0)
        self._timeout = (connect_s, timeout_s - connect_s)  # curl: connect, and the rest
        self._impersonate = impersonate
        self._heartbeat_s = heartbeat_s
        self._max_clients = max_clients
        self._session: AsyncSession[Any] | None = None

    def _http(self) -> AsyncSession[Any]:
        if self._session is None:
            self._session = AsyncSession(
                impersonate=self._impersonate,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
                trust_env=False,  # as aiohttp: no proxy from the environment
                max_clients=self._max_clients,
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None,
        data: str | None,
        headers: Mapping[str, str],
        max_body: int,
    ) -> HttpReply:
        body = _Body(max_body)
        try:
            response = await self._http().request(
                method,  # type: ignore[arg-type]  # a Literal of the HTTP methods there
                url,
                params={k: str(v) for k, v in params.items()} if params else None,
                data=data,
                headers=browser_headers(headers),
                content_callback=body.write,
            )
        except (CurlError, TimeoutError, OSError) as e:
            if body.overflow:
                raise MalformedResponse(f"body larger than {max_body} bytes") from None
            raise TransportError(type(e).__name__) from e
        reply_headers = CIMultiDict(
            (k, v) for k, v in response.headers.multi_items() if v is not None
        )
        return HttpReply(
            response.status_code, CIMultiDictProxy(reply_headers), b"".join(body.parts)
        )

    @contextlib.asynccontextmanager
    async def ws_connect(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[WsConnection]:
        head = BytesIO()  # curl writes the handshake's response head here, refused or not
        try:
            ws = await self._http().ws_connect(
                url,
                headers=browser_headers(headers),
                curl_options={CurlOpt.HEADERDATA: head, **_KEEPALIVE},
            )
        except (CurlError, TimeoutError, OSError) as e:
            status, reply_headers = parse_head(head.getvalue())
            raise TransportError(type(e).__name__, status=status, headers=reply_headers) from e
        try:
            yield _CurlWs(ws, self._heartbeat_s)
        finally:
            with contextlib.suppress(CurlError):
                await ws.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()  # closes its open WebSockets too
            self._session = None


class _CurlWs:
    def __init__(self, ws: AsyncWebSocket, heartbeat_s: float) -> None:
        self._ws = ws
        self._heartbeat_s = heartbeat_s

    async def send_text(self, data: str) -> None:
        try:
            await self._ws.send_str(data)
        except CurlError as e:
            raise TransportError(type(e).__name__) from e

    async def receive_text(self) -> str | None:
        while True:
            try:
                payload, flags = await self._ws.recv(timeout=self._heartbeat_s)
            except WebSocketTimeout:
                if not await self._ping():
                    return None
                continue
            except CurlError:  # closed (WebSocketClosed), or the connection failed
                return None
            if flags & CurlWsFlag.CLOSE or not flags & CurlWsFlag.TEXT:
                return None
            try:
                return payload.decode("utf-8")
            except UnicodeDecodeError:
                return None  # a protocol error, as aiohttp's reader treats it

    async def _ping(self) -> bool:
        try:
            await self._ws.ping()
        except CurlError:
            return False
        return True

    async def close(self) -> None:
        with contextlib.suppress(CurlError):
            await self._ws.close()
