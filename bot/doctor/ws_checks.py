"""The WebSocket half of ``sellbot doctor``: handshakes, and the first message of each stream.

It connects, subscribes and reads; the only frames it sends are subscriptions. How each
outcome is graded:

- ``ws.public`` FAIL when the public handshake fails: refused, a block page, or no WebSocket
  served at all (connection refused, 404 on the upgrade). The daemon would still trade over
  REST, but a preflight is asked for what the exchange is expected to serve.
- ``ws.private`` FAIL when the private handshake fails (401/403: the key was refused).
- A book stream with no message in the timeout: WARN, as the daemon then polls REST for that
  market's book; PASS when the other book kind (``depth`` or ``ob-inc``) delivered, as the
  daemon keeps whichever kind answers first.
- ``global.tickers`` with no message: WARN (it publishes on a timer).
- ``{market}.trades`` and the private streams with no message: PASS "(no activity: normal)",
  as they publish only when something trades or an order of the account changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from bot.clock import Clock
from bot.exchange.safetrade import endpoints
from bot.exchange.safetrade.blocks import USER_AGENT_HEADERS, handshake_block
from bot.exchange.safetrade.transport import TransportError, TransportSwitch, WsConnection

from .report import Check, Status

PRIVATE_STREAMS: Final = (endpoints.STREAM_ORDER, endpoints.STREAM_TRADE, endpoints.STREAM_BALANCE)
_OB_SNAP: Final = ".ob-snap"
_OB_INC: Final = ".ob-inc"
_DEPTH: Final = ".depth"

Signer = Callable[[], Mapping[str, str]]  # fresh auth headers for one handshake


@dataclass
class _Seen:
    """What one connection delivered before the timeout."""

    first_ms: dict[str, float] = field(default_factory=dict)  # subscription -> ms to first
    acked: set[str] = field(default_factory=set)  # named in a ``success`` answer
    closed_ms: float | None = None  # the server ended the connection this early


def public_streams(market: str | None) -> list[str]:
    """Return the public subscriptions the daemon makes, for ``market`` (None: tickers only)."""
    streams = [endpoints.STREAM_TICKERS]
    if market is not None:
        streams += [
            endpoints.stream_ob_inc(market),  # its first frame is an ``ob-snap``
            endpoints.stream_depth(market),
            endpoints.stream_trades(market),
        ]
    return streams


def _subscription(key: str, streams: list[str]) -> str | None:
    """Return the subscription a message key answers (an ``ob-snap`` answers ``ob-inc``)."""
    if key in streams:
        return key
    if key.endswith(_OB_SNAP):
        inc = key.removesuffix(_OB_SNAP) + _OB_INC
        return inc if inc in streams else None
    return None


def _note(seen: _Seen, text: str, streams: list[str], elapsed_ms: float) -> None:
    try:
        message = json.loads(text)
    except ValueError:
        return
    if not isinstance(message, dict):
        return
    success = message.get("success")
    if isinstance(success, dict) and isinstance(success.get(endpoints.WS_STREAMS), list):
        seen.acked |= {s for s in success[endpoints.WS_STREAMS] if isinstance(s, str)}
    for key in message:
        stream = _subscription(str(key), streams)
        if stream is not None:
            seen.first_ms.setdefault(stream, elapsed_ms)


async def _first_messages(
    ws: WsConnection, streams: list[str], clock: Clock, timeout_s: float
) -> _Seen:
    """Read until every stream delivered, the connection ended, or ``timeout_s`` passed."""
    seen = _Seen()
    started = clock.monotonic()

    def elapsed_ms() -> float:
        return (clock.monotonic() - started) * 1000

    async def read() -> None:
        while len(seen.first_ms) < len(streams):
            text = await ws.receive_text()
            if text is None:
                seen.closed_ms = elapsed_ms()
                return
            _note(seen, text, streams, elapsed_ms())

    reader = asyncio.create_task(read())
    timer = asyncio.create_task(clock.sleep(timeout_s))
    try:
        await asyncio.wait({reader, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, timer):
            task.cancel()
        for task in (reader, timer):
            with contextlib.suppress(asyncio.CancelledError):
                await task  # a reader's TransportError propagates
    return seen


async def _session(
    switch: TransportSwitch,
    url: str,
    headers: Callable[[], Mapping[str, str]],
    streams: list[str],
    clock: Clock,
    timeout_s: float,
) -> _Seen:
    """Connect, subscribe, read first messages.

    In mode ``auto`` a challenged handshake is tried once more on curl_cffi, as the stream does.

    Raises:
        TransportError: the handshake failed (or the connection broke right after it).
    """
    while True:
        transport = switch.current()
        try:
            async with transport.ws_connect(url, {**USER_AGENT_HEADERS, **headers()}) as ws:
                subscribe = {
                    endpoints.WS_EVENT: endpoints.WS_SUBSCRIBE,
                    endpoints.WS_STREAMS: streams,
                }
                await ws.send_text(json.dumps(subscribe))
                return await _first_messages(ws, streams, clock, timeout_s)
        except TransportError as e:
            block = handshake_block(e)
            challenged = block is not None and block.reason == endpoints.REASON_CHALLENGE
            moved = switch.current() is not transport or switch.on_challenge()
            if not (challenged and moved):
                raise


def _handshake_failure(name: str, e: TransportError, url: str) -> Check:
    block = handshake_block(e)
    if block is not None:
        return Check(name, Status.FAIL, f"handshake refused: {block.reason}")
    if e.status is None or e.status == 404:
        return Check(name, Status.FAIL, f"no WebSocket: {e} at {url}")
    if e.status in (401, 403):
        return Check(name, Status.FAIL, f"handshake refused: HTTP {e.status} (credentials?)")
    return Check(name, Status.FAIL, f"handshake failed: {e}")


def _waited(seen: _Seen, timeout_s: float) -> str:
    if seen.closed_ms is not None:
        return f"no message: the server closed the connection after {seen.closed_ms:.0f} ms"
    return f"no message in {timeout_s:g} s"


def _quiet(name: str, stream: str, seen: _Seen, timeout_s: float) -> Check:
    """A stream that publishes on activity only: silence is normal, a closed socket is not."""
    if seen.closed_ms is not None:
        return Check(name, Status.WARN, _waited(seen, timeout_s))
    acked = ", subscription acknowledged" if stream in seen.acked else ""
    return Check(name, Status.PASS, f"{_waited(seen, timeout_s)} (no activity: normal{acked})")


def _public_line(stream: str, seen: _Seen, timeout_s: float) -> Check:
    name = f"ws.{stream}"
    if stream in seen.first_ms:
        return Check(name, Status.PASS, f"first message after {seen.first_ms[stream]:.0f} ms")
    waited = _waited(seen, timeout_s)
    if stream.endswith((_OB_INC, _DEPTH)):
        market, _, kind = stream.rpartition(".")
        other = market + (_DEPTH if kind == "ob-inc" else _OB_INC)
        if other in seen.first_ms:
            return Check(name, Status.PASS, f"{waited}; {other} serves the book")
        return Check(name, Status.WARN, f"{waited}: the daemon polls REST for {market}'s book")
    if stream == endpoints.STREAM_TICKERS:
        return Check(name, Status.WARN, waited)
    return _quiet(name, stream, seen, timeout_s)


async def public(
    switch: TransportSwitch, base_url: str, market: str | None, clock: Clock, timeout_s: float
) -> list[Check]:
    """Check the public handshake and the first message of each stream the daemon uses."""
    url = endpoints.ws_url(base_url, private=False)
    streams = public_streams(market)
    try:
        seen = await _session(switch, url, dict, streams, clock, timeout_s)
    except TransportError as e:
        return [_handshake_failure("ws.public", e, url)]
    checks = [Check("ws.public", Status.PASS, "handshake ok")]
    return checks + [_public_line(s, seen, timeout_s) for s in streams]


async def private(
    switch: TransportSwitch, base_url: str, sign: Signer, clock: Clock, timeout_s: float
) -> list[Check]:
    """Check the signed handshake and the account streams (quiet unless the account trades)."""
    url = endpoints.ws_url(base_url, private=True)
    streams = list(PRIVATE_STREAMS)
    try:
        seen = await _session(switch, url, sign, streams, clock, timeout_s)
    except TransportError as e:
        return [_handshake_failure("ws.private", e, url)]
    checks = [Check("ws.private", Status.PASS, "handshake ok")]
    for stream in streams:
        name = f"ws.{stream}"
        if stream in seen.first_ms:
            first = f"first message after {seen.first_ms[stream]:.0f} ms"
            checks.append(Check(name, Status.PASS, first))
        else:
            checks.append(_quiet(name, stream, seen, timeout_s))
    return checks
