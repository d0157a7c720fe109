"""``sellbot run --once`` first finishes what an earlier run left, then sells the rest."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bench.reliability.campaign import build_engine
from bench.reliability.crashes import KEY, SECRET, _env
from bot.clock import SystemClock
from bot.db.engine import create_engine, session_factory
from bot.db.execution_store import SqlExecutionStore
from bot.domain.decisions import Decision, StrategyName
from bot.domain.executions import Execution, ExecutionState
from bot.sim.server import SimServer
from tests.e2e.helpers import read_db

pytestmark = pytest.mark.e2e


async def _leave_a_running_execution(db_url: str, market: str, currency: str, mid: Decimal) -> None:
    clock = SystemClock()
    engine = create_engine(db_url)
    try:
        await SqlExecutionStore(session_factory(engine), clock).create_execution(
            Execution(
                id="leftover0001",
                market=market,
                currency=currency,
                allocated=Decimal(10),
                decision=Decision(StrategyName.MARKET, horizon_s=5, reason="earlier run"),
                state=ExecutionState.RUNNING,
                created_at=clock.now(),
                started_at=clock.now(),
                arrival_mid=mid,
            )
        )
    finally:
        await engine.dispose()


async def test_once_resumes_the_leftover_then_sells_the_rest_of_the_balance(
    db_url: str, tmp_path: Path
) -> None:
    clock = SystemClock()
    engine, (market,) = build_engine(clock, 1, seed=7)
    engine.deposit(KEY, market.base, Decimal(40))
    mid = engine.order_book(market.id, 5).mid
    assert mid is not None
    await _leave_a_running_execution(db_url, market.id, market.base, mid)

    async with SimServer(engine, credentials={KEY: SECRET}, clock=clock, port=0) as server:
        env = _env(db_url, server.base_url, StrategyName.MARKET, {})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--once",
            env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), timeout=120)

    assert proc.returncode == 0, err.decode()[-3000:]
    state = await read_db(db_url)
    leftover = next(e for e in state.executions if e.id == "leftover0001")
    assert (leftover.state, leftover.sold) == ("completed", Decimal(10))
    others = [e for e in state.executions if e.id != "leftover0001"]
    assert sum((e.sold for e in others), Decimal(0)) == Decimal(30)
    assert engine.balance(KEY, market.base).total == 0
