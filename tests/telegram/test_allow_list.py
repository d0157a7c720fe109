"""Only allow-listed chats are answered; the token appears in no log line and no reply."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.db.models import EventRow
from bot.db.repositories import ControlRepository
from bot.logs import MASK, configure_logging
from bot.settings import load_settings, secret_values
from tests.telegram.conftest import OPERATOR, STRANGER, TOKEN, Chat


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything logged (DEBUG and up, JSON), through the daemon's redacting pipeline."""
    settings = load_settings(
        _env_file=None,
        SELLBOT_TELEGRAM_BOT_TOKEN=TOKEN,
        SELLBOT_TELEGRAM_CHAT_IDS=str(OPERATOR),
    )
    assert settings.telegram_enabled
    out = io.StringIO()
    configure_logging(fmt="json", level="DEBUG", secrets=secret_values(settings), stream=out)
    yield out
    configure_logging(fmt="console", level="INFO")


def _records(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_a_stranger_gets_nothing_and_the_attempt_is_logged_without_its_text(
    logs: io.StringIO, chat: Chat
) -> None:
    await chat.fake.say(STRANGER, "/pause")
    await chat.fake.say(STRANGER, "hello, my secret plan")
    await chat.ask("/status")  # updates are handled in order: the stranger's came first

    assert [s for s in chat.fake.sent if s.chat_id == STRANGER] == []
    assert not await ControlRepository(chat.sessions).is_paused()
    refused = [r for r in _records(logs) if r["event"] == "telegram_chat_refused"]
    assert [r["chat_id"] for r in refused] == [STRANGER, STRANGER]
    assert "secret plan" not in logs.getvalue()
    async with chat.sessions() as session:
        events = list(await session.scalars(select(EventRow).order_by(EventRow.id)))
    assert [(e.kind, e.data) for e in events[:2]] == [
        ("telegram_refused", {"chat_id": STRANGER})
    ] * 2
    assert [e.kind for e in events[2:]] == ["telegram_command"]  # the operator's /status


async def test_the_token_appears_in_no_log_line_and_no_reply(logs: io.StringIO, chat: Chat) -> None:
    replies = [await chat.ask(text) for text in ("/status", "/help", "/cancel x", "/nope")]
    await chat.fake.say(STRANGER, "/status")
    await chat.ask("/history")

    text = logs.getvalue()
    assert "getUpdates" in text  # the client logged its requests to the Bot API ...
    assert f"bot{MASK}/" in text  # ... with the token in their URL masked
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text
    assert all(TOKEN not in r.text for r in replies)
