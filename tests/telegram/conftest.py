"""A running control channel on a migrated database, polling a local fake Bot API."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import VirtualClock
from bot.telegram.channel import TelegramChannel
from bot.telegram.commands import ControlCommands
from tests.telegram.fake_bot_api import FakeBotApi, Sent

TOKEN = "7000001:AAHtestTOKEN-sellbot-5f4e3d2c1b"
OPERATOR = 424242
STRANGER = 999_000_111


@dataclass
class Chat:
    """The fake Telegram, the channel that polls it, and the database behind it."""

    fake: FakeBotApi
    channel: TelegramChannel
    sessions: async_sessionmaker[AsyncSession]
    clock: VirtualClock

    async def ask(self, text: str, chat_id: int = OPERATOR) -> Sent:
        await self.fake.say(chat_id, text)
        return await self.fake.reply_to(chat_id)


@pytest.fixture
async def chat(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Chat]:
    fake = FakeBotApi(TOKEN)
    await fake.start()
    clock = VirtualClock(start=1_800_000_000.0)
    channel = TelegramChannel(
        token=TOKEN,
        chat_ids={OPERATOR},
        api_url=fake.url,
        commands=ControlCommands(sessions, clock, quote="usdt"),
        clock=clock,
        rng=random.Random(7),
        poll_timeout_s=2,
    )
    await channel.start()
    try:
        await channel.started.wait()
        yield Chat(fake, channel, sessions, clock)
    finally:
        await channel.stop()
        await fake.close()
