"""The real ``sellbot`` process: a simulated run end to end, SIGTERM, refusal without keys."""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.exchange.safetrade.client import SafeTradeClient
from tests.e2e.helpers import (
    read_db,
    run_sellbot,
    sellbot_cmd,
    sellbot_env,
    standalone_simulator,
)

pytestmark = pytest.mark.e2e

TERMINAL = {"completed", "partial", "cancelled", "failed"}


async def test_simulated_once_run_sells_and_leaves_a_consistent_database(
    db_url: str, tmp_path: Path
) -> None:
    result = run_sellbot("run", "--simulate", "--once", env=sellbot_env(db_url), cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    state = await read_db(db_url)
    assert state.executions, "the demo account has sellable balances"
    for execution in state.executions:
        assert execution.state in TERMINAL
        assert execution.sold == state.sold(execution.id)
        assert execution.proceeds == state.proceeds(execution.id)
        assert execution.sold <= execution.allocated
    assert any(e.state == "completed" and e.sold > 0 for e in state.executions)
    assert [o.client_id for o in state.orders if o.state in ("pending", "unknown", "open")] == []
    assert "Traceback" not in result.stderr
    assert "stream_started" in result.stderr  # the WebSocket streams were used


def test_run_without_credentials_refuses_to_start(tmp_path: Path) -> None:
    env = sellbot_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")

    result = run_sellbot("run", env=env, cwd=tmp_path, timeout_s=60)

    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_sigterm_during_an_execution_exits_cleanly_within_10s(
    db_url: str, tmp_path: Path
) -> None:
    env = sellbot_env(
        db_url,
        SELLBOT_MIN_HORIZON_S="120",
        SELLBOT_MAX_HORIZON_S="300",
        SELLBOT_FORCE_STRATEGY="twap",
        SELLBOT_MIN_SLICES="10",
        SELLBOT_MAX_SLICES="20",
    )
    clock = SystemClock()  # a real process needs real time
    proc = await asyncio.create_subprocess_exec(
        *sellbot_cmd("run", "--simulate"),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = clock.monotonic() + 60
        while not (await read_db(db_url)).fills:  # wait until an execution is under way
            if clock.monotonic() > deadline:
                pytest.fail("no fill within 60 s")
            await clock.sleep(0.3)

        sent = clock.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=15)
        took = clock.monotonic() - sent
        stderr = err.decode()
    finally:
        if proc.returncode is None:
            proc.kill()

    assert proc.returncode == 0, stderr[-3000:]
    assert took < 10
    assert "daemon_stopped" in stderr
    state = await read_db(db_url)
    assert [o.client_id for o in state.orders if o.state in ("pending", "unknown", "open")] == []
    for execution in state.executions:
        assert execution.sold == state.sold(execution.id)
        assert execution.sold <= execution.allocated


async def test_sigterm_can_leave_open_orders_for_the_next_start(
    db_url: str, tmp_path: Path
) -> None:
    key, secret = "leave-key", "leave-secret-0123456789"
    clock = SystemClock()
    async with standalone_simulator(key, secret, cwd=tmp_path, env=sellbot_env(db_url)) as url:
        env = sellbot_env(
            db_url,
            SAFETRADE_BASE_URL=url,
            SAFETRADE_API_KEY=key,
            SAFETRADE_API_SECRET=secret,
            SELLBOT_FORCE_STRATEGY="limit",
            SELLBOT_MIN_HORIZON_S="120",
            SELLBOT_MAX_HORIZON_S="300",
            SELLBOT_CANCEL_ON_SHUTDOWN="false",
            SELLBOT_MAX_DAILY_VALUE="1000000",
        )
        proc = await asyncio.create_subprocess_exec(
            *sellbot_cmd("run"), env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
        )
        deadline = clock.monotonic() + 60
        while not any(o.state == "open" for o in (await read_db(db_url)).orders):
            if clock.monotonic() > deadline:
                proc.kill()
                pytest.fail("no resting order within 60 s")
            await clock.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=15)
        left = [o for o in (await read_db(db_url)).orders if o.state == "open"]
        client = SafeTradeClient(url, key, secret, clock=clock, rng=random.Random(3))
        try:
            open_on_exchange = {o.client_id for o in await client.open_orders()}
        finally:
            await client.close()

    assert proc.returncode == 0, err.decode()[-2000:]
    assert "interrupt_left_orders_open" in err.decode()
    assert left
    assert {o.client_id for o in left} <= open_on_exchange
