"""How bytes reach the exchange: one seam, two transports, and the switch between them.

``AiohttpTransport`` is a plain Python HTTP client; Cloudflare can tell it from a browser by its
TLS fingerprint and answer challenge pages. ``CurlTransport`` (``transport_curl``) impersonates
a browser with curl_cffi. ``TransportSwitch`` holds the one the REST client and the WebSocket
stream share (``SAFETRADE_HTTP_CLIENT``): fixed, or ``auto``, which starts on aiohttp and moves
to curl_cffi for the rest of the process at the first challenge.

Both transports answer the same way: an ``HttpReply`` for any HTTP status, ``MalformedResponse``
for a body over ``max_body``, ``TransportError`` when no answer came (refused, reset, timed out)
or a WebSocket handshake was refused (then with its ``status`` and ``headers``). A WebSocket's
``receive_text`` returns None once the connection ended, however it ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

import aiohttp
import structlog
from multidict import CIMultiDict, CIMultiDictProxy

from bot.exchange.errors import MalformedResponse

log = structlog.get_logger()

TransportName = Literal["aiohttp", "curl_cffi"]
MODES: Final = ("aiohttp", "curl_cffi", "auto")
HEARTBEAT_S: Final = 30.0  # an idle WebSocket is pinged this often (Cloudflare drops it at 100 s)
_CHUNK = 64 * 1024
_EMPTY: Final[Mapping[str, str]] = CIMultiDictProxy(CIMultiDict())


class TransportError(Exception):
    """No HTTP answer came (or a WebSocket handshake was refused with ``status``)."""

    def __init__(
        self, error: str, *, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(error if status is None else f"{error}: HTTP {status}")
        self.error = error  # the underlying exception's type name
        self.status = status
        self.headers: Mapping[str, str] = headers if headers is not None else _EMPTY


@dataclass(frozen=True, slots=True)
class HttpReply:
    """One HTTP answer, whatever its status; header lookups ignore case."""

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)


class WsConnection(Protocol):
    async def send_text(self, data: str) -> None:
        """Send one text frame. Raises: TransportError (the connection is gone)."""

    async def receive_text(self) -> str | None:
        """Return the next text frame, or None once the connection ended or sent non-text."""

    async def close(self) -> None: ...


class Transport(Protocol):
    name: TransportName

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
        """Send one request. Raises: TransportError, MalformedResponse (body over max_body)."""

    def ws_connect(
        self, url: str, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[WsConnection]:
        """Open a WebSocket for the ``async with`` block. Raises: TransportError."""

    async def close(self) -> None: ...


async def read_limited(chunks: AsyncIterable[bytes], max_body: int) -> bytes:
    """Join ``chunks``. Raises: MalformedResponse (more than ``max_body`` bytes)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_body:
            raise MalformedResponse(f"body larger than {max_body} bytes")
        parts.append(chunk)
    return b"".join(parts)


class AiohttpTransport:
    """aiohttp: one lazily opened session; an injected one is the caller's to close."""

    name: TransportName = "aiohttp"

    def __init__(self, timeout_s: float, session: aiohttp.ClientSession | None = None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(timeout_s, 5.0))
        self._session = session
        self._owns_session = session is None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, headers={"Accept": "application/json"}
            )
            self._owns_session = True
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
        try:
            async with self._http().request(
                method, url, params=params, data=data, headers=dict(headers)
            ) as response:
                body = await read_limited(response.content.iter_chunked(_CHUNK), max_body)
                return HttpReply(response.status, response.headers, body)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise TransportError(type(e).__name__) from e

    @asynccontextmanager
    async def ws_connect(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[WsConnection]:
        try:
            ws = await self._http().ws_connect(url, headers=dict(headers), heartbeat=HEARTBEAT_S)
        except aiohttp.WSServerHandshakeError as e:
            # aiohttp keeps the refused handshake's status and headers, not its body
            raise TransportError(
                type(e).__name__, status=e.status, headers=e.headers or _EMPTY
            ) from e
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise TransportError(type(e).__name__) from e
        try:
            yield _AiohttpWs(ws)
        finally:
            await ws.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()


class _AiohttpWs:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    async def send_text(self, data: str) -> None:
        try:
            await self._ws.send_str(data)
        except (aiohttp.ClientError, OSError) as e:  # a closed socket raises ConnectionResetError
            raise TransportError(type(e).__name__) from e

    async def receive_text(self) -> str | None:
        msg = await self._ws.receive()
        if msg.type is not aiohttp.WSMsgType.TEXT:
            return None  # closed, closing, errored (ws.exception()), or binary
        text: str = msg.data
        return text

    async def close(self) -> None:
        await self._ws.close()


class TransportSwitch:
    """The transport in use, and in mode ``auto`` the one move from aiohttp to curl_cffi."""

    def __init__(
        self,
        mode: str,
        timeout_s: float,
        *,
        aiohttp_session: aiohttp.ClientSession | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown HTTP client {mode!r}; use one of {', '.join(MODES)}")
        self.mode = mode
        self._timeout_s = timeout_s
        self._aiohttp = AiohttpTransport(timeout_s, aiohttp_session)
        self._curl: Transport | None = None
        self._current: Transport = self._curl_transport() if mode == "curl_cffi" else self._aiohttp

    def current(self) -> Transport:
        return self._current

    def on_challenge(self) -> bool:
        """Move to curl_cffi after a challenge (mode ``auto``, once); return whether it moved."""
        if self.mode != "auto" or self._current.name == "curl_cffi":
            return False
        before = self._current.name
        self._current = self._curl_transport()
        log.warning("exchange_transport_switched", **{"from": before, "to": self._current.name})
        return True

    def _curl_transport(self) -> Transport:
        if self._curl is None:
            # imported here: loading curl_cffi loads its own libcurl, needless on aiohttp alone
            from bot.exchange.safetrade.transport_curl import CurlTransport

            self._curl = CurlTransport(self._timeout_s)
        return self._curl

    async def close(self) -> None:
        """Close both transports (an injected aiohttp session stays open)."""
        await self._aiohttp.close()
        if self._curl is not None:
            await self._curl.close()
