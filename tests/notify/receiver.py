"""A local JSON webhook for Apprise's ``json://`` targets: real HTTP, no mocks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.clock import real_sleep


@dataclass
class Receiver:
    """Record every POSTed message; answer ``status`` after ``delay_s`` of real time."""

    status: int = 200
    delay_s: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    attempts: int = 0
    port: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.json()
        if self.delay_s:
            await real_sleep(self.delay_s)
        if self.status == 200:
            self.messages.append(body)
            self.paths.append(request.path)
        return web.Response(status=self.status, text="ok")

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    @property
    def texts(self) -> list[str]:
        return [f"{m['title']}\n{m['message']}" for m in self.messages]


@asynccontextmanager
async def receiver(status: int = 200, delay_s: float = 0.0) -> AsyncIterator[Receiver]:
    """Serve a ``Receiver`` on a free local port."""
    recv = Receiver(status=status, delay_s=delay_s)
    app = web.Application()
    app.router.add_post("/{tail:.*}", recv.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recv.port = int(runner.addresses[0][1])
    try:
        yield recv
    finally:
        await runner.cleanup()


def free_port() -> int:
    """Return a local port nothing listens on (a receiver that is down)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
