"""A receiver that is down or slow costs notifications, never a sale.

The daemon's ``--once`` run (``build_app`` builds the Apprise notifier from
``SELLBOT_NOTIFY_URLS``) sells the demo account on the in-process simulator while its
notifications go to two local receivers: one answers 500, the other answers after 3 s.
"""

from __future__ import annotations

import asyncio

from bot.bootstrap import build_app
from bot.clock import SystemClock, VirtualClock, real_sleep
from bot.exchange.gate import GatedExchange
from bot.rand import make_rng
from bot.service.daemon import Daemon
from bot.settings import Settings, load_settings
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.exchange import SimExchange
from tests.e2e.helpers import read_db
from tests.notify.receiver import receiver


def _settings(db_url: str, notify_urls: str) -> Settings:
    env: dict[str, str] = {
        "DATABASE_URL": db_url,
        "SELLBOT_FORCE_STRATEGY": "market",
        "SELLBOT_MAX_DAILY_VALUE": "100000000",
        "SELLBOT_WEBSOCKET": "false",
        "SELLBOT_HTTP_PORT": "0",
        "SELLBOT_ORDER_POLL_INTERVAL_S": "1",
        "SELLBOT_NOTIFY_URLS": notify_urls,
    }
    return load_settings(_env_file=None, **env)


async def test_the_sales_complete_while_the_receivers_fail_or_dawdle(db_url: str) -> None:
    wall = SystemClock()
    clock = VirtualClock(wall.time(), real_idle_s=0.02)
    engine, _ = build_demo_engine(clock, 1)
    async with receiver(status=500) as down, receiver(delay_s=3.0) as slow:
        gate = GatedExchange(SimExchange(engine, DEMO_KEY, clock=clock))
        settings = _settings(db_url, f"{down.url()},{slow.url()}")
        app = build_app(settings, clock=clock, rng=make_rng(1, "app"), exchange=gate)
        daemon = Daemon(app, gate, once=True)
        run = asyncio.create_task(daemon.run())
        for _ in range(1000):
            if run.done():
                break
            await clock.advance(2.0)
            await real_sleep(0.002)
        code = await run
    state = await read_db(db_url)
    notifier = app.notifier

    assert code == 0
    assert len(state.executions) == 4
    assert {e.state for e in state.executions} == {"completed"}
    assert notifier.sent == 0  # the receiver that is down fails every message...
    assert notifier.dropped == 1 + 4  # ...so the cycle's and the 4 sales' events are counted
    assert down.attempts >= notifier.policy.attempts  # retried before dropping
    assert slow.attempts >= 1
    assert app.metrics.notify_dropped.get() == notifier.dropped  # sellbot_notify_dropped_total
    assert app.metrics.notify_queue_depth.get() == 0
