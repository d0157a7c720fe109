"""Run the real ``sellbot`` process and read what it left in the database."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bot.db.engine import create_engine, session_factory
from bot.db.models import ExecutionRow, FillRow, OrderRow

ROOT = Path(__file__).resolve().parents[2]

FAST_ENV = {
    "SELLBOT_MIN_HORIZON_S": "3",
    "SELLBOT_MAX_HORIZON_S": "8",
    "SELLBOT_MIN_SLICES": "2",
    "SELLBOT_MAX_SLICES": "4",
    "SELLBOT_ORDER_POLL_INTERVAL_S": "0.3",
    "SELLBOT_HTTP_PORT": "0",
    "SELLBOT_LOG_FORMAT": "json",
    "SELLBOT_SHUTDOWN_TIMEOUT_S": "5",
}


def sellbot_env(db_url: str, **extra: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SELLBOT_", "SAFETRADE_", "CEREBRAS_", "DATABASE_URL"))
    }
    return {**base, **FAST_ENV, "DATABASE_URL": db_url, **extra}


def sellbot_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def run_sellbot(
    *args: str, env: dict[str, str], cwd: Path, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sellbot_cmd(*args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@dataclass
class DbState:
    executions: list[ExecutionRow]
    orders: list[OrderRow]
    fills: list[FillRow]

    def fills_of(self, execution_id: str) -> list[FillRow]:
        return [f for f in self.fills if f.execution_id == execution_id]

    def sold(self, execution_id: str) -> Decimal:
        return sum((f.amount for f in self.fills_of(execution_id)), Decimal(0))

    def proceeds(self, execution_id: str) -> Decimal:
        return sum((f.amount * f.price for f in self.fills_of(execution_id)), Decimal(0))


async def read_db(db_url: str) -> DbState:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            executions = list((await session.execute(select(ExecutionRow))).scalars())
            orders = list((await session.execute(select(OrderRow))).scalars())
            fills = list((await session.execute(select(FillRow))).scalars())
    finally:
        await engine.dispose()
    return DbState(executions, orders, fills)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def standalone_simulator(
    key: str, secret: str, *, cwd: Path, env: dict[str, str]
) -> AsyncIterator[str]:
    """Run ``sellbot sim serve`` as its own process; yield its base URL; stop it after."""
    port = free_port()
    sim = await asyncio.create_subprocess_exec(
        *sellbot_cmd("sim", "serve", "--port", str(port), "--api-key", key, "--api-secret", secret),
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert sim.stdout is not None
        await asyncio.wait_for(sim.stdout.readline(), timeout=30)  # listening
        yield f"http://127.0.0.1:{port}/api/v2"
    finally:
        sim.send_signal(signal.SIGTERM)
        await sim.wait()
