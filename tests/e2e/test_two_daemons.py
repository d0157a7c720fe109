"""Two real ``sellbot run`` processes on one database against a standalone simulator: the
leader is SIGKILLed mid-TWAP, the standby takes the lease over within the TTL, reconciles,
finishes the sale, and no order reaches the exchange twice."""

from __future__ import annotations

import asyncio
import functools
import random
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bench.reliability.leader_leg import leader_of
from bot.clock import SystemClock
from bot.exchange.safetrade.client import SafeTradeClient
from bot.sim.demo import demo_markets
from tests.e2e.helpers import read_db, sellbot_cmd, sellbot_env, standalone_simulator

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KEY, SECRET = "two-daemons-key", "two-daemons-secret-0123456789"
TTL_S = 2.0
ENV = {
    "SELLBOT_FORCE_STRATEGY": "twap",
    "SELLBOT_MIN_HORIZON_S": "6",
    "SELLBOT_MAX_HORIZON_S": "8",
    "SELLBOT_MIN_SLICES": "4",
    "SELLBOT_MAX_SLICES": "5",
    "SELLBOT_MAX_DAILY_VALUE": "1000000",
    "SELLBOT_SCHEDULE_INTERVAL_S": "3600",
    "SELLBOT_LEASE_TTL_S": str(TTL_S),
}


async def _until(
    clock: SystemClock, probe: Callable[[], Awaitable[object]], timeout_s: float, what: str
) -> None:
    deadline = clock.monotonic() + timeout_s
    while not await probe():
        if clock.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await clock.sleep(0.05)


async def test_sigkilled_leader_is_replaced_by_the_standby_without_duplicates(
    db_url: str, tmp_path: Path
) -> None:
    clock = SystemClock()
    async with standalone_simulator(KEY, SECRET, cwd=tmp_path, env=sellbot_env(db_url)) as url:
        env = sellbot_env(
            db_url, SAFETRADE_BASE_URL=url, SAFETRADE_API_KEY=KEY, SAFETRADE_API_SECRET=SECRET,
            **ENV,
        )  # fmt: skip
        spawn = functools.partial(
            asyncio.create_subprocess_exec, *sellbot_cmd("run"), env=env, cwd=tmp_path,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        leader = await spawn()
        await _until(clock, functools.partial(leader_of, db_url), 60, "a leader")
        standby = await spawn()
        try:

            async def mid_twap() -> bool:
                state = await read_db(db_url)
                return len(state.fills) >= 2 and any(e.state == "running" for e in state.executions)

            await _until(clock, mid_twap, 60, "a TWAP under way")
            held = await leader_of(db_url)
            assert held is not None
            assert held[0] == leader.pid  # the first daemon leads, the second stands by
            leader.send_signal(signal.SIGKILL)
            killed_at = clock.time()
            await leader.wait()

            async def taken_over() -> bool:
                now = await leader_of(db_url)
                return now is not None and now[0] == standby.pid and now[1] == 2

            await _until(clock, taken_over, 3 * TTL_S + 10, "the standby to take over")
            new = await leader_of(db_url)
            assert new is not None
            assert new[2] - killed_at <= TTL_S + 1.0  # poll and write latency

            async def all_done() -> bool:
                state = await read_db(db_url)
                return all(e.state in {"completed", "partial"} for e in state.executions)

            await _until(clock, all_done, 90, "the new leader to finish the sales")
        finally:
            for proc in (leader, standby):
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                    await proc.wait()
        assert standby.returncode == 0
        client = SafeTradeClient(url, KEY, SECRET, clock=clock, rng=random.Random(7))
        try:
            on_exchange = [o for m in demo_markets() for o in await client.orders(m.market.id)]
        finally:
            await client.close()

    state = await read_db(db_url)
    client_ids = [o.client_id for o in on_exchange]
    assert len(client_ids) == len(set(client_ids)), "an order was duplicated on the exchange"
    assert {o.client_id for o in state.orders} >= set(client_ids)
    for execution in state.executions:
        assert execution.sold == state.sold(execution.id)
        assert execution.sold <= execution.allocated
