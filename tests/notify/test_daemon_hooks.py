"""The daemon tells its story: started, the cycle's sales, each sale, the kill switch, stopped.

One daemon (the scheduler in real time, the exchange in virtual time) sells the demo account
on the in-process simulator; the operator flips the kill switch; SIGTERM's stop follows. The
receiver sees each event once, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.bootstrap import build_app
from bot.clock import SystemClock, VirtualClock, real_sleep
from bot.exchange.gate import GatedExchange
from bot.rand import make_rng
from bot.service.daemon import Daemon
from bot.settings import load_settings
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.exchange import SimExchange
from tests.notify.receiver import Receiver, receiver


async def _until(clock: VirtualClock, done: Callable[[], bool], steps: int = 300) -> None:
    for _ in range(steps):
        if done():
            return
        await clock.advance(5.0)
        await real_sleep(0.01)
    raise AssertionError("not reached in time")


def _lines(recv: Receiver) -> list[str]:
    """Every event received, one ``title: text`` line each, batches unpacked."""
    lines: list[str] = []
    for m in recv.messages:
        if m["title"].endswith(" events"):
            lines += [line.removeprefix("- ") for line in m["message"].splitlines()]
        else:
            lines.append(f"{m['title'].removeprefix('sellbot: ')}: {m['message']}")
    return lines


def _sales(lines: list[str]) -> list[str]:
    """The lines of ended sales: finished, or partial/failed (a thin book may leave some)."""
    return [
        line for line in lines if line.startswith(("sale finished", "sale partial", "sale failed"))
    ]


async def test_the_daemon_notifies_its_life_and_its_sales(db_url: str) -> None:
    clock = VirtualClock(SystemClock().time(), real_idle_s=0.02)
    engine, _ = build_demo_engine(clock, 1)
    async with receiver() as recv:
        settings = load_settings(
            _env_file=None,
            DATABASE_URL=db_url,
            SELLBOT_FORCE_STRATEGY="market",
            SELLBOT_MAX_DAILY_VALUE="100000000",
            SELLBOT_WEBSOCKET="false",
            SELLBOT_HTTP_PORT="0",
            SELLBOT_ORDER_POLL_INTERVAL_S="1",
            SELLBOT_SCHEDULE_INTERVAL_S="3600",
            SELLBOT_LEASE_TTL_S="600",  # virtual time runs far ahead of the lease's real renewals
            SELLBOT_NOTIFY_URLS=recv.url(),
        )
        gate = GatedExchange(SimExchange(engine, DEMO_KEY, clock=clock))
        app = build_app(settings, clock=clock, rng=make_rng(1, "app"), exchange=gate)
        daemon = Daemon(app, gate)
        run = asyncio.create_task(daemon.run())
        sold = lambda: len(_sales(_lines(recv))) == 4  # noqa: E731
        await _until(clock, sold)
        await app.controls.set_paused(True, clock.now())
        await _until(clock, lambda: any(line.startswith("paused") for line in _lines(recv)))
        daemon.request_stop()
        await _until(clock, run.done)  # the notifier drains on the clock
        assert await run == 0
    lines = _lines(recv)

    assert lines[0] == "daemon started: daemon started (live), leading; a cycle every 3600 s"
    assert lines[1].startswith("sales started: cycle ")
    assert "started 4 sales" in lines[1]
    sales = _sales(lines)
    assert len(sales) == 4
    assert all(" sold " in line and "(execution " in line for line in sales)
    assert sum(line.startswith("sale finished: sold ") for line in sales) >= 2
    assert lines[-2].startswith("paused: kill switch on")
    assert lines[-1] == "daemon stopped: daemon stopped"
    assert len(lines) == 1 + 1 + 4 + 1 + 1
