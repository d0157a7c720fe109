"""Two in-process daemons on one database and one simulator: only the leader trades; when it
stops, the standby takes over, reconciles, and resumes the sales without a duplicate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.bootstrap import build_app
from bot.clock import SystemClock, VirtualClock, real_sleep
from bot.domain.orders import Order, OrderRequest
from bot.exchange.forwarding import ForwardingExchange
from bot.exchange.gate import GatedExchange
from bot.exchange.port import Exchange
from bot.rand import make_rng
from bot.service.daemon import Daemon
from bot.service.leadership import Leadership
from bot.settings import Settings
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange

TTL = 30.0  # long: virtual time runs ahead of the real database calls here


class Recording(ForwardingExchange):
    """Pass everything to ``inner``; remember the client ids of the orders that reached it."""

    def __init__(self, inner: Exchange) -> None:
        super().__init__(inner)
        self.placed: list[str] = []

    async def place_order(self, request: OrderRequest) -> Order:
        self.placed.append(request.client_id)
        return await self.inner.place_order(request)


def _settings(db_url: str) -> Settings:
    env: dict[str, object] = {
        "DATABASE_URL": db_url,
        "SELLBOT_FORCE_STRATEGY": "twap",
        "SELLBOT_MIN_HORIZON_S": "60",
        "SELLBOT_MAX_HORIZON_S": "120",
        "SELLBOT_MIN_SLICES": "4",
        "SELLBOT_MAX_SLICES": "6",
        "SELLBOT_MAX_DAILY_VALUE": "100000000",
        "SELLBOT_LEASE_TTL_S": str(TTL),
        "SELLBOT_WEBSOCKET": "false",
        "SELLBOT_HTTP_PORT": "0",
        "SELLBOT_ORDER_POLL_INTERVAL_S": "1",
        "SELLBOT_SCHEDULE_INTERVAL_S": "3600",
    }
    return Settings(**env)  # type: ignore[arg-type]


def _daemon(
    name: str, db_url: str, clock: VirtualClock, engine: MatchingEngine
) -> tuple[Daemon, Recording]:
    sent = Recording(SimExchange(engine, DEMO_KEY, clock=clock))
    gate = GatedExchange(sent)
    app = build_app(_settings(db_url), clock=clock, rng=make_rng(1, name), exchange=gate)
    leadership = Leadership(app.sessions, clock, instance_id=name, ttl_s=TTL)
    return Daemon(app, gate, leadership=leadership), sent


async def _run_until(clock: VirtualClock, done: Callable[[], bool], max_s: float) -> None:
    """Move virtual time until ``done`` (real time passes for the scheduler and threads)."""
    for _ in range(int(max_s / 0.5)):
        if done():
            return
        await _pass(clock, 0.5)
    raise AssertionError("the condition was not reached in time")


async def _pass(clock: VirtualClock, seconds: float) -> None:
    """Move virtual time in small steps, letting real time pass for threads and sockets."""
    for _ in range(int(seconds / 0.5)):
        await clock.advance(0.5)
        await real_sleep(0.01)


async def test_only_the_leader_trades_and_the_standby_takes_over(db_url: str) -> None:
    clock = VirtualClock(SystemClock().time(), real_idle_s=0.02)  # the scheduler is real-time
    engine, _ = build_demo_engine(clock, 1)
    (a, sent_a), (b, sent_b) = (_daemon(n, db_url, clock, engine) for n in ("a", "b"))
    run_a = asyncio.create_task(a.run())
    await _run_until(clock, a.leadership.held, 10)
    run_b = asyncio.create_task(b.run())
    await _run_until(clock, lambda: len(sent_a.placed) >= 3, 120)
    await _pass(clock, TTL)

    assert not b.leadership.held()
    assert sent_b.placed == []  # the standby never tried to trade
    assert b.gate.refused == 0

    a.request_stop()  # the leader stops; its lease is released, the standby takes over
    assert await run_a == 0
    await _run_until(clock, b.leadership.held, TTL / 3 + 1)  # its next poll
    assert b.leadership.epoch == 2
    await _run_until(clock, lambda: bool(sent_b.placed) and not b.app.supervisor.active_ids, 600)
    b.request_stop()
    assert await run_b == 0

    assert sent_b.placed, "the new leader resumed the sales the old one left"
    assert not set(sent_a.placed) & set(sent_b.placed)
    on_exchange = [str(o.client_id) for o in engine.list_orders(DEMO_KEY, limit=1000)]
    assert len(on_exchange) == len(set(on_exchange)), "an order was sent twice"
    assert sorted(on_exchange) == sorted(sent_a.placed + sent_b.placed)


async def test_once_after_a_crash_waits_out_the_dead_leaders_lease(db_url: str) -> None:
    """A restart with --once right after a SIGKILL finds the dead leader's lease unexpired."""
    clock = VirtualClock(SystemClock().time(), real_idle_s=0.02)
    engine, _ = build_demo_engine(clock, 1)
    (dead, _), (once, _) = (_daemon(n, db_url, clock, engine) for n in ("dead", "once"))
    assert await dead.leadership.try_acquire()  # then it dies: the lease is never renewed
    once.once = True

    taking = asyncio.create_task(once._take_lease())
    await _run_until(clock, taking.done, TTL + 20)

    assert taking.result() is True
    assert once.leadership.epoch == 2
    await once.app.close()
    await dead.app.close()


async def test_once_while_a_live_leader_renews_is_refused(db_url: str) -> None:
    clock = VirtualClock(SystemClock().time(), real_idle_s=0.02)
    engine, _ = build_demo_engine(clock, 1)
    (live, _), (once, _) = (_daemon(n, db_url, clock, engine) for n in ("live", "once"))
    assert await live.leadership.try_acquire()
    keeper = asyncio.create_task(live.leadership.keep())
    once.once = True

    taking = asyncio.create_task(once._take_lease())
    await _run_until(clock, taking.done, 2 * TTL + 20)

    assert taking.result() is False  # the daemon then exits EXIT_NOT_LEADER
    assert live.leadership.held()
    keeper.cancel()
    await once.app.close()
    await live.app.close()
