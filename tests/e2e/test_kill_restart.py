"""SIGKILL a real ``sellbot run`` mid-TWAP against a standalone simulator, restart, and check
from both sides (the exchange's and the database's) that nothing was lost or duplicated."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.domain.orders import Order
from bot.exchange.safetrade.client import SafeTradeClient
from bot.sim.demo import demo_markets
from tests.e2e.helpers import DbState, read_db, sellbot_cmd, sellbot_env, standalone_simulator

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KEY, SECRET = "kill-test-key", "kill-test-secret-0123456789"
TWAP_ENV = {
    "SELLBOT_FORCE_STRATEGY": "twap",
    "SELLBOT_MIN_HORIZON_S": "12",
    "SELLBOT_MAX_HORIZON_S": "16",
    "SELLBOT_MIN_SLICES": "6",
    "SELLBOT_MAX_SLICES": "8",
    "SELLBOT_MAX_DAILY_VALUE": "1000000",
    "SELLBOT_SCHEDULE_INTERVAL_S": "3600",
}


async def _wait_for(
    clock: SystemClock, predicate: Callable[[], Awaitable[bool]], timeout_s: float, what: str
) -> None:
    deadline = clock.monotonic() + timeout_s
    while not await predicate():
        if clock.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await clock.sleep(0.2)


async def _kill_mid_twap_and_restart(
    clock: SystemClock, env: dict[str, str], db_url: str, cwd: Path
) -> None:
    bot = await asyncio.create_subprocess_exec(
        *sellbot_cmd("run"), env=env, cwd=cwd, stderr=asyncio.subprocess.DEVNULL
    )

    async def mid_twap() -> bool:
        state = await read_db(db_url)
        return len(state.fills) >= 2 and any(e.state == "running" for e in state.executions)

    await _wait_for(clock, mid_twap, 60, "a TWAP under way")
    await clock.sleep(random.Random(int(os.environ.get("KILL_SEED", "3"))).uniform(0, 2))
    bot.send_signal(signal.SIGKILL)
    await bot.wait()

    restart = await asyncio.create_subprocess_exec(
        *sellbot_cmd("run", "--once"), env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(restart.communicate(), timeout=120)
    assert restart.returncode == 0, err.decode()[-3000:]


async def test_sigkill_mid_twap_then_restart_completes_without_loss(
    db_url: str, tmp_path: Path
) -> None:
    clock = SystemClock()
    async with standalone_simulator(KEY, SECRET, cwd=tmp_path, env=sellbot_env(db_url)) as url:
        env = sellbot_env(
            db_url,
            SAFETRADE_BASE_URL=url,
            SAFETRADE_API_KEY=KEY,
            SAFETRADE_API_SECRET=SECRET,
            **TWAP_ENV,
        )
        client = SafeTradeClient(url, KEY, SECRET, clock=clock, rng=random.Random(7))
        try:
            await _kill_mid_twap_and_restart(clock, env, db_url, tmp_path)
            state = await read_db(db_url)
            on_exchange = [o for m in demo_markets() for o in await client.orders(m.market.id)]
            open_on_exchange = await client.open_orders()
        finally:
            await client.close()

    assert open_on_exchange == []
    _assert_exchange_and_database_agree(state, on_exchange)


def _assert_exchange_and_database_agree(state: DbState, exchange_orders: list[Order]) -> None:
    client_ids = [o.client_id for o in exchange_orders]
    assert len(client_ids) == len(set(client_ids)), "an order was duplicated on the exchange"
    assert {o.client_id for o in state.orders} >= set(client_ids)
    minimums = {m.market.id: m.market.min_amount for m in demo_markets()}
    for execution in state.executions:
        assert execution.state in {"completed", "partial"}, execution.state
        assert execution.sold == state.sold(execution.id)
        assert execution.sold <= execution.allocated
        if execution.state == "completed":
            assert execution.allocated - execution.sold <= minimums[execution.market]
        sold_on_exchange = sum(
            (
                o.filled
                for o in exchange_orders
                if o.client_id and o.client_id.startswith(f"sb-{execution.id}-")
            ),
            Decimal(0),
        )
        assert sold_on_exchange == execution.sold
