"""No API key, secret or Cerebras key ever reaches a log line or a database column.

A real ``sellbot run --once`` at DEBUG sells against a simulator that knows the fake SafeTrade
credentials, with the fake Cerebras key pointed at a closed port (so the LLM call fails and
falls back, the path most likely to echo a request); in-process client calls, including
refused ones, log at DEBUG too. Then every captured line and every text/JSON column of
every table is searched for the three values.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.reliability.campaign import build_engine
from bot.clock import SystemClock
from bot.db.engine import create_engine, session_factory
from bot.db.models import Base
from bot.exchange.errors import ExchangeError
from bot.exchange.safetrade.client import SafeTradeClient
from bot.logs import configure_logging
from bot.sim.server import SimServer
from tests.conftest import FAKE_CEREBRAS_KEY, FAKE_SAFETRADE_KEY, FAKE_SAFETRADE_SECRET
from tests.e2e.helpers import free_port, sellbot_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRETS = (FAKE_SAFETRADE_KEY, FAKE_SAFETRADE_SECRET, FAKE_CEREBRAS_KEY)


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def _every_text_value(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    values: list[str] = []
    try:
        async with session_factory(engine)() as session:
            for table in Base.metadata.sorted_tables:
                for row in (await session.execute(select(table))).all():
                    values += [_text(v) for v in row if isinstance(v, str | dict | list)]
    finally:
        await engine.dispose()
    return values


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


async def _run_daemon(db_url: str, base_url: str, tmp_path: Path) -> tuple[int, str]:
    env = sellbot_env(
        db_url,
        SAFETRADE_BASE_URL=base_url,
        SAFETRADE_API_KEY=FAKE_SAFETRADE_KEY,
        SAFETRADE_API_SECRET=FAKE_SAFETRADE_SECRET,
        CEREBRAS_API_KEY=FAKE_CEREBRAS_KEY,
        CEREBRAS_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
        SELLBOT_LLM_TIMEOUT_S="1",
        SELLBOT_LOG_LEVEL="DEBUG",
        SELLBOT_MIN_ORDER_VALUE="1",
        SELLBOT_MAX_DAILY_VALUE="1000000",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--once",
        env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode()


async def _client_calls(base_url: str) -> str:
    buf = io.StringIO()
    configure_logging(fmt="json", level="DEBUG", secrets=SECRETS, stream=buf)
    clock = SystemClock()
    good = SafeTradeClient(
        base_url, FAKE_SAFETRADE_KEY, FAKE_SAFETRADE_SECRET, clock=clock, rng=random.Random(1)
    )
    bad = SafeTradeClient(
        base_url, FAKE_SAFETRADE_KEY, "wrong-" + FAKE_SAFETRADE_SECRET, clock=clock,
        rng=random.Random(2),
    )  # fmt: skip
    try:
        await good.balances()
        await good.open_orders()
        for call in (bad.balances(), good.get_order("999999")):
            try:
                await call
            except ExchangeError as e:
                buf.write(f"{type(e).__name__}: {e}\n")
    finally:
        await good.close()
        await bad.close()
    return buf.getvalue()


async def test_no_secret_in_any_log_line_or_database_column(
    db_url: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    clock = SystemClock()
    engine, markets = build_engine(clock, 2, seed=5)
    for m in markets:
        engine.deposit(FAKE_SAFETRADE_KEY, m.base, Decimal(25))
    credentials = {FAKE_SAFETRADE_KEY: FAKE_SAFETRADE_SECRET}
    async with SimServer(engine, credentials=credentials, clock=clock, port=0) as server:
        code, daemon_log = await _run_daemon(db_url, server.base_url, tmp_path)
        client_log = await _client_calls(server.base_url)
    captured = capfd.readouterr()
    stored = await _every_text_value(db_url)

    assert code == 0, daemon_log[-3000:]
    assert "fallback" in daemon_log  # the LLM was tried and failed over to the rules
    assert '"level": "debug"' in daemon_log  # DEBUG lines were produced and scanned
    assert len(stored) > 10  # executions, orders, decisions, events were written
    for name, text in {
        "daemon": daemon_log, "client": client_log, "captured": captured.out + captured.err,
        "database": "\n".join(stored),
    }.items():  # fmt: skip
        assert _leaks(text) == [], f"secret found in {name} output"
