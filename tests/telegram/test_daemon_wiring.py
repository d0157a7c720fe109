"""The daemon builds the channel only when configured, answers once it leads, stops it on exit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.bootstrap import build_app, build_telegram
from bot.clock import SystemClock, VirtualClock
from bot.db.repositories import ControlRepository
from bot.exchange.gate import GatedExchange
from bot.rand import make_rng
from bot.service.daemon import Daemon
from bot.service.leadership import Leadership
from bot.settings import Settings
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.exchange import SimExchange
from tests.telegram.conftest import OPERATOR, TOKEN
from tests.telegram.fake_bot_api import FakeBotApi


def _settings(db_url: str, **telegram: str) -> Settings:
    env: dict[str, object] = {
        "DATABASE_URL": db_url,
        "SELLBOT_WEBSOCKET": "false",
        "SELLBOT_HTTP_PORT": "0",
        "SELLBOT_SCHEDULE_INTERVAL_S": "3600",
        "SELLBOT_LEASE_TTL_S": "30",
    }
    return Settings(_env_file=None, **(env | telegram))  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi(TOKEN)
    await api.start()
    yield api
    await api.close()


@pytest.mark.parametrize(
    "telegram",
    [
        {},
        {"SELLBOT_TELEGRAM_BOT_TOKEN": TOKEN},
        {"SELLBOT_TELEGRAM_CHAT_IDS": str(OPERATOR)},
        {"SELLBOT_TELEGRAM_BOT_TOKEN": "", "SELLBOT_TELEGRAM_CHAT_IDS": str(OPERATOR)},
    ],
)
def test_off_unless_both_a_token_and_a_chat_id_are_set(
    db_url: str, sessions: async_sessionmaker[AsyncSession], telegram: dict[str, str]
) -> None:
    settings = _settings(db_url, **telegram)

    assert build_telegram(settings, sessions, VirtualClock()) is None


def test_chat_ids_parse_from_a_comma_list(db_url: str) -> None:
    settings = _settings(
        db_url, SELLBOT_TELEGRAM_BOT_TOKEN=TOKEN, SELLBOT_TELEGRAM_CHAT_IDS="424242, -1001234,"
    )

    assert settings.telegram_chat_ids == frozenset({424242, -1001234})
    assert settings.telegram_enabled


async def test_the_leading_daemon_answers_and_stops_the_channel_on_exit(
    db_url: str, fake: FakeBotApi
) -> None:
    clock = VirtualClock(SystemClock().time(), real_idle_s=0.02)
    settings = _settings(
        db_url,
        SELLBOT_TELEGRAM_BOT_TOKEN=TOKEN,
        SELLBOT_TELEGRAM_CHAT_IDS=str(OPERATOR),
        SELLBOT_TELEGRAM_API_URL=fake.url,
    )
    engine, _ = build_demo_engine(clock, 1)
    gate = GatedExchange(SimExchange(engine, DEMO_KEY, clock=clock))
    app = build_app(settings, clock=clock, rng=make_rng(1, "t"), exchange=gate)
    assert app.telegram is not None
    await ControlRepository(app.sessions).set_paused(True, clock.now())  # no sale in this test
    leadership = Leadership(app.sessions, clock, instance_id="d1", ttl_s=30)
    daemon = Daemon(app, gate, leadership=leadership)

    running = asyncio.create_task(daemon.run())
    await asyncio.wait_for(app.telegram.started.wait(), 10)
    await fake.say(OPERATOR, "/status")
    reply = await fake.reply_to(OPERATOR)
    daemon.request_stop()
    code = await running

    assert code == 0
    assert "kill switch: PAUSED" in reply.text
    assert "leader: d1 (epoch 1)" in reply.text
    assert not app.telegram.app.running
    assert fake.calls[-1] == "getUpdates"  # the last one marks the fetched updates read
