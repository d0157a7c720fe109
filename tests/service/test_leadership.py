"""The leader lease: one holder per database, takeover after the TTL, fencing at the port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import VirtualClock
from bot.db.engine import create_engine, session_factory
from bot.db.leases import LeaseRepository
from bot.db.models import DaemonRow, LeaseRow
from bot.domain.orders import OrderRequest, OrderType, Side
from bot.exchange.errors import RateLimited
from bot.exchange.gate import GatedExchange
from bot.service.leadership import Leadership
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.exchange import SimExchange

TTL = 3.0
STEP = 0.5
BROKEN_DB = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing_listens_here"


@pytest.fixture
def vclock() -> VirtualClock:
    return VirtualClock(real_idle_s=0.03)  # database calls run on threads and sockets


@pytest.fixture
async def engines(db_url: str) -> AsyncIterator[Callable[[], AsyncEngine]]:
    """Open engines on ``db_url`` (one per daemon, as two processes would); dispose after."""
    made: list[AsyncEngine] = []

    def make() -> AsyncEngine:
        made.append(create_engine(db_url))
        return made[-1]

    yield make
    for engine in made:
        await engine.dispose()


def _daemon(make: Callable[[], AsyncEngine], clock: VirtualClock, name: str) -> Leadership:
    return Leadership(session_factory(make()), clock, instance_id=name, ttl_s=TTL, host="h", pid=1)


async def _advance(clock: VirtualClock, seconds: float) -> None:
    for _ in range(round(seconds / STEP)):
        await clock.advance(STEP)


def _sell(client_id: str) -> OrderRequest:
    return OrderRequest(client_id, "ethusdt", Side.SELL, OrderType.MARKET, amount=Decimal("0.1"))


async def _roles(make: Callable[[], AsyncEngine]) -> dict[str, str]:
    async with session_factory(make())() as session:
        return {r.instance_id: r.role for r in (await session.execute(select(DaemonRow))).scalars()}


async def test_only_one_of_two_daemons_holds_the_lease(
    engines: Callable[[], AsyncEngine], vclock: VirtualClock
) -> None:
    a, b = _daemon(engines, vclock, "a"), _daemon(engines, vclock, "b")

    taken = await asyncio.gather(a.try_acquire(), b.try_acquire())

    assert sorted(taken) == [False, True]
    leader, standby = (a, b) if taken[0] else (b, a)
    assert leader.held()
    assert leader.epoch == 1
    assert leader.role() == "leader"
    assert not standby.held()
    assert standby.role() == "standby"
    assert not await standby.try_acquire()  # still held: renewing is not needed yet
    assert await _roles(engines) == {leader.instance_id: "leader", standby.instance_id: "standby"}


async def test_standby_takes_over_within_the_ttl_and_the_epoch_grows(
    engines: Callable[[], AsyncEngine], vclock: VirtualClock
) -> None:
    a, b = _daemon(engines, vclock, "a"), _daemon(engines, vclock, "b")
    assert await a.try_acquire()
    keeper = asyncio.create_task(a.keep())
    stop = asyncio.Event()
    standby = asyncio.create_task(b.wait_until_leader(stop))
    await _advance(vclock, 2 * TTL)  # the leader renews: the standby waits
    assert a.held()
    assert not standby.done()

    keeper.cancel()  # the leader dies (no release, no more renewals)
    died_at = vclock.now()
    await _advance(vclock, TTL + STEP)

    assert standby.done()
    assert standby.result() is True
    assert b.held()
    assert b.epoch == 2
    lease = await LeaseRepository(session_factory(engines())).current()
    assert lease is not None
    assert lease.holder == "b"
    assert lease.epoch == 2
    async with session_factory(engines())() as session:
        row = await session.get(LeaseRow, "leader")
        assert row is not None
        taken_after = row.acquired_at.replace(tzinfo=None) - died_at.replace(tzinfo=None)
    assert taken_after <= timedelta(seconds=TTL + 0.05)
    assert not await a.renew()  # the old leader finds the new holder and gives up
    assert a.epoch is None
    assert not a.held()
    assert await _roles(engines) == {"a": "standby", "b": "leader"}


async def test_a_leader_that_cannot_renew_is_fenced_within_the_ttl(
    engines: Callable[[], AsyncEngine], vclock: VirtualClock
) -> None:
    leader = _daemon(engines, vclock, "a")
    assert await leader.try_acquire()
    broken = create_engine(BROKEN_DB)  # the database is partitioned away from the leader
    leader.repo = LeaseRepository(session_factory(broken))
    sim_engine, _ = build_demo_engine(vclock, 1)
    gate = GatedExchange(SimExchange(sim_engine, DEMO_KEY, clock=vclock), fence=leader.held)
    keeper = asyncio.create_task(leader.keep())

    await _advance(vclock, TTL - 2 * STEP)
    assert leader.held()
    assert not keeper.done()
    await _advance(vclock, 2 * STEP)

    assert not leader.held()
    with pytest.raises(RateLimited, match="not the leader"):
        await gate.place_order(_sell("sb-fence-1"))
    assert gate.refused == 1
    assert sim_engine.list_orders(DEMO_KEY, market="ethusdt", limit=10) == []
    assert keeper.done()
    assert keeper.result() == "not_renewed_in_time"
    await broken.dispose()


async def test_a_leader_places_orders_through_the_gate(
    engines: Callable[[], AsyncEngine], vclock: VirtualClock
) -> None:
    leader = _daemon(engines, vclock, "a")
    sim_engine, _ = build_demo_engine(vclock, 1)
    gate = GatedExchange(SimExchange(sim_engine, DEMO_KEY, clock=vclock), fence=leader.held)
    with pytest.raises(RateLimited):  # not yet the leader
        await gate.place_order(_sell("sb-fence-2"))

    assert await leader.try_acquire()
    order = await gate.place_order(_sell("sb-fence-2"))

    assert order.client_id == "sb-fence-2"
