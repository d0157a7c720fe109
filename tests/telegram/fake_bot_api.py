"""A local Telegram Bot API server for the real python-telegram-bot client to poll.

It serves ``/bot<token>/<method>``: ``getMe``, ``deleteWebhook`` (dropping queued updates
when asked), ``getUpdates`` (long polling: held until an update is queued or its timeout
ends) and ``sendMessage`` (recorded). Any other method answers 404 as Telegram does, so an
unexpected call shows up. A request with another token answers 401 Unauthorized.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

BOT_ID = 7000001
EPOCH = 1_767_225_600  # message dates: any fixed time


@dataclass(frozen=True, slots=True)
class Sent:
    chat_id: int
    text: str
    parse_mode: str | None


def _value(raw: str) -> Any:
    """PTB posts form fields, JSON-encoding everything that is not a string."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class FakeBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[str] = []  # method names, in order
        self.sent: list[Sent] = []
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what a test does -----------------------------------------------------------------

    async def say(self, chat_id: int, text: str, *, edited: bool = False) -> None:
        """Queue a message from ``chat_id`` (a command when it starts with a slash), or an edit."""
        word = text.split()[0] if text.split() else ""
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(word)}]
            if word.startswith("/")
            else []
        )
        update = {
            "update_id": self._next_update,
            "edited_message" if edited else "message": {
                "message_id": self._next_update,
                "date": EPOCH,
                "chat": {"id": chat_id, "type": "private", "first_name": "operator"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "operator"},
                "text": text,
                "entities": entities,
            },
        }
        self._next_update += 1
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()

    async def reply_to(self, chat_id: int, timeout_s: float = 5.0) -> Sent:
        """Wait for the next message the bot sends to ``chat_id`` and take it."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: any(s.chat_id == chat_id for s in self.sent))
            sent = next(s for s in self.sent if s.chat_id == chat_id)
            self.sent.remove(sent)
            return sent

    async def polled(self, timeout_s: float = 5.0) -> None:
        """Wait until the bot has asked for updates at least once."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: "getUpdates" in self.calls)

    # --- the Bot API ----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = {k: _value(v) for k, v in (await request.post()).items() if isinstance(v, str)}
        async with self._changed:
            self.calls.append(method)
            self._changed.notify_all()
        if method == "getMe":
            return _ok(
                {"id": BOT_ID, "is_bot": True, "first_name": "sellbot", "username": "sellbot_bot"}
            )
        if method == "deleteWebhook":
            if params.get("drop_pending_updates"):
                self._updates.clear()
            return _ok(True)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        if method == "sendMessage":
            return _ok(await self._send_message(params))
        return _error(404, "Not Found: method not found")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
            return [u for u in self._updates if u["update_id"] >= offset]

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        sent = Sent(int(params["chat_id"]), str(params["text"]), params.get("parse_mode"))
        async with self._changed:
            self.sent.append(sent)
            self._changed.notify_all()
        return {
            "message_id": 100_000 + len(self.calls),
            "date": EPOCH,
            "chat": {"id": sent.chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "sellbot"},
            "text": sent.text,
        }


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )
