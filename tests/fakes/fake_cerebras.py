"""A local Cerebras chat-completions server with scripted answers, for the real SDK to call.

``AsyncCerebras(base_url=fake.base_url)`` posts to ``/v1/chat/completions`` here. Each request
takes the next scripted ``Reply``: a content string (good JSON, JSON that breaks the schema,
prose …), an HTTP error with headers (429 + Retry-After, 500), or a slow answer. Requests are
recorded for assertions. With the script empty the server answers 500, so a missing script
shows up as a failure, not as a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Reply:
    content: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    @classmethod
    def answer(cls, payload: dict[str, Any]) -> Reply:
        return cls(content=json.dumps(payload))

    @classmethod
    def text(cls, text: str) -> Reply:
        return cls(content=text)

    @classmethod
    def error(cls, status: int, **headers: str) -> Reply:
        return cls(status=status, headers={k.replace("_", "-"): v for k, v in headers.items()})

    @classmethod
    def slow(cls, delay_s: float, payload: dict[str, Any]) -> Reply:
        return cls(content=json.dumps(payload), delay_s=delay_s)


class FakeCerebras:
    """The chat-completions endpoint on 127.0.0.1, port chosen by the OS."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def will(self, *replies: Reply) -> None:
        self.script.extend(replies)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        self._release.set()  # let slow handlers finish at once
        if self._runner is not None:
            await self._runner.cleanup()

    async def _completions(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        reply = self.script.popleft() if self.script else Reply.error(500)
        if reply.delay_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), timeout=reply.delay_s)
        if reply.status != 200:
            body = {"error": {"message": "scripted failure", "type": "fake", "code": reply.status}}
            return web.json_response(body, status=reply.status, headers=reply.headers)
        return web.json_response(_completion(reply.content, self.requests[-1].get("model", "")))


def _completion(content: str | None, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 200, "completion_tokens": 40, "total_tokens": 240},
    }
