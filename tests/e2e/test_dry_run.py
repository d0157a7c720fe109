"""SELLBOT_DRY_RUN: the whole pipeline on live public data, fills only in the local engine."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.exchange.safetrade.client import SafeTradeClient
from bot.sim.demo import demo_markets
from tests.e2e.helpers import read_db, sellbot_cmd, sellbot_env, standalone_simulator

pytestmark = pytest.mark.e2e

KEY, SECRET = "dry-run-key", "dry-run-secret-0123456789"


async def test_dry_run_sells_on_paper_and_sends_no_order(db_url: str, tmp_path: Path) -> None:
    async with standalone_simulator(KEY, SECRET, cwd=tmp_path, env=sellbot_env(db_url)) as url:
        client = SafeTradeClient(url, KEY, SECRET, clock=SystemClock(), rng=random.Random(1))
        try:
            before = await client.balances()
            bot = await asyncio.create_subprocess_exec(
                *sellbot_cmd("run", "--once"),
                env=sellbot_env(
                    db_url,
                    SAFETRADE_BASE_URL=url,
                    SAFETRADE_API_KEY=KEY,
                    SAFETRADE_API_SECRET=SECRET,
                    SELLBOT_DRY_RUN="true",
                    SELLBOT_FORCE_STRATEGY="market",
                    SELLBOT_MAX_DAILY_VALUE="1000000",
                ),
                cwd=tmp_path,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(bot.communicate(), timeout=120)
            after = await client.balances()
            orders_on_exchange = [
                o for m in demo_markets() for o in await client.orders(m.market.id)
            ]
        finally:
            await client.close()

    assert bot.returncode == 0, err.decode()[-3000:]
    assert "dry_run" in err.decode()
    state = await read_db(db_url)
    assert any(e.sold > 0 for e in state.executions), "the paper account sold something"
    assert all(e.sold == state.sold(e.id) for e in state.executions)
    assert orders_on_exchange == []
    assert {(b.currency, b.available) for b in after} == {(b.currency, b.available) for b in before}
