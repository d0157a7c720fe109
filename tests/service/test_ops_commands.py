"""Operator commands act on the daemon's database or on none: never on a fresh one they made.

Each runs through ``bot.cli.main`` in a worker thread (it calls ``asyncio.run``), while the
test's own loop serves the simulator and writes the rows a daemon would have written.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.cli import ops as cli_ops
from bot.clock import SystemClock, VirtualClock
from bot.db.engine import create_engine
from bot.db.models import DaemonRow, ExecutionRow, LeaseRow, OrderRow
from bot.db.repositories import ControlRepository
from bot.db.urls import mask_url
from bot.domain.orders import OrderRequest, OrderState, OrderType, Side
from bot.exchange.safetrade.client import SafeTradeClient
from bot.sim.demo import DEMO_KEY, DEMO_SECRET, build_demo_engine
from bot.sim.server import SimServer
from tests.conftest import _db_kinds, _reset_pg

NOW = VirtualClock(start=1_800_000_000.0).now()


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env, and a relative default database would land here
    for name in ("SAFETRADE_API_KEY", "SAFETRADE_API_SECRET", "SAFETRADE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SELLBOT_DRY_RUN", "false")
    monkeypatch.setattr(cli_ops, "clock", VirtualClock(start=NOW.timestamp()))


async def _cli(
    capsys: pytest.CaptureFixture[str], database_url: str, *argv: str
) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", database_url)
        code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _beat(instance_id: str, role: str, age_s: float) -> DaemonRow:
    at = NOW - timedelta(seconds=age_s)
    return DaemonRow(
        instance_id=instance_id, role=role, host="box", pid=4242, started_at=at, heartbeat_at=at
    )


async def _add(sessions: async_sessionmaker[AsyncSession], *rows: object) -> None:
    async with sessions.begin() as session:
        session.add_all(rows)


async def test_pause_on_a_missing_sqlite_file_fails_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "data" / "sellbot.db"
    url = f"sqlite+aiosqlite:///{path}"

    code, out, err = await _cli(capsys, url, "pause")

    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert url in err
    assert "does not exist" in err
    assert not path.exists()
    assert not path.parent.exists()


@pytest.fixture(params=_db_kinds())
async def unmigrated_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None
) -> str:
    """A database that exists but has no sellbot schema (PostgreSQL with a password set)."""
    if request.param == "sqlite":
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE unrelated (x INTEGER)")
        conn.close()
        return f"sqlite+aiosqlite:///{path}"
    assert pg_database is not None
    await _reset_pg(pg_database)
    with_password = make_url(pg_database).set(password="Pg-Secret-77")
    return with_password.render_as_string(hide_password=False)


@pytest.mark.parametrize("command", [["pause"], ["status", "--json"], ["cancel", "e1"]])
async def test_an_unmigrated_database_fails_the_command_and_stays_unmigrated(
    unmigrated_url: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await _cli(capsys, unmigrated_url, *command)

    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert mask_url(unmigrated_url) in err
    assert "no schema" in err
    assert "Pg-Secret-77" not in err
    engine = create_engine(unmigrated_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    assert "alembic_version" not in tables
    assert "controls" not in tables


async def test_pause_names_the_database_and_warns_when_no_daemon_beats(
    db_url: str, sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await _cli(capsys, db_url, "pause")

    assert code == 0
    assert f"database: {mask_url(db_url)}\n" in out
    assert "paused: no new orders will be placed" in out
    assert err == (
        f"warning: no daemon heartbeat in {mask_url(db_url)}: "
        "is the daemon using another database?\n"
    )
    assert await ControlRepository(sessions).is_paused()


async def test_pause_says_how_old_the_daemon_heartbeat_is(
    db_url: str, sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await _add(sessions, _beat("daemon-a", "leader", 20))

    code, out, err = await _cli(capsys, db_url, "pause")

    assert code == 0
    assert "daemon heartbeat: 20s ago (daemon-a, leader, box pid 4242)" in out
    assert err == ""


async def test_a_stale_heartbeat_is_a_warning(
    db_url: str, sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await _add(sessions, _beat("daemon-a", "leader", 2 * 3600))

    code, _, err = await _cli(capsys, db_url, "resume")

    assert code == 0
    assert "newest daemon heartbeat" in err
    assert "is 2h ago (daemon-a" in err
    assert "is the daemon running?" in err


def _lease(holder: str, epoch: int, expires_in_s: float) -> LeaseRow:
    return LeaseRow(
        name="leader",
        holder=holder,
        epoch=epoch,
        acquired_at=NOW - timedelta(hours=1),
        renewed_at=NOW - timedelta(seconds=4),
        expires_at=NOW + timedelta(seconds=expires_in_s),
    )


async def test_status_shows_the_leader_and_the_live_standbys(
    db_url: str, sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await _add(
        sessions,
        _lease("daemon-a", 3, expires_in_s=11),
        _beat("daemon-a", "leader", 4),
        _beat("daemon-b", "standby", 6),
        _beat("daemon-c", "standby", 3600),  # stopped long ago: not a standby any more
    )

    code, out, err = await _cli(capsys, db_url, "status")
    json_code, doc, _ = await _cli(capsys, db_url, "status", "--json")

    assert (code, json_code, err) == (0, 0, "")
    assert (
        "leader: daemon-a (epoch 3), lease renewed 4s ago, expires in 11s; heartbeat 4s ago"
    ) in out
    standbys = out.split("standby daemons:\n", 1)[1].split("\n\n", 1)[0]
    assert "daemon-b" in standbys
    assert "6s ago" in standbys
    assert "daemon-c" not in standbys
    status = json.loads(doc)
    assert status["database"] == mask_url(db_url)
    assert status["leader"] == {
        "holder": "daemon-a",
        "epoch": 3,
        "expired": False,
        "renewed_age_s": 4.0,
        "expires_in_s": 11.0,
        "heartbeat_age_s": 4.0,
    }
    assert [d["instance_id"] for d in status["standby_daemons"]] == ["daemon-b"]
    assert [d["instance_id"] for d in status["daemons"]] == ["daemon-a", "daemon-b", "daemon-c"]


async def test_status_shows_no_leader_when_the_lease_expired(
    db_url: str, sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await _add(sessions, _lease("daemon-a", 7, expires_in_s=-30))

    code, out, _ = await _cli(capsys, db_url, "status")
    _, doc, _ = await _cli(capsys, db_url, "status", "--json")

    assert code == 0
    assert "leader: none (the lease of daemon-a expired 30s ago)" in out
    assert json.loads(doc)["leader"]["expired"] is True


@pytest.fixture
async def simulator() -> AsyncIterator[SimServer]:
    clock = SystemClock()  # the client signs with wall-clock nonces
    engine, credentials = build_demo_engine(clock, 7)
    async with SimServer(engine, credentials=credentials, clock=clock, port=0) as server:
        yield server


def _order_rows(resting_id: str) -> list[object]:
    execution = ExecutionRow(
        id="e1", market="btcusdt", currency="btc", allocated=Decimal("0.002"),
        allocated_value=None, strategy="passive", params={}, state="running",
        priority=Decimal(1), arrival_mid=None, sold=Decimal(0), proceeds=Decimal(0),
        fees=Decimal(0), shortfall_bps=None, decision_id=None, created_at=NOW,
        started_at=NOW, finished_at=None,
    )  # fmt: skip

    def order(seq: int, exchange_id: str | None, state: str) -> OrderRow:
        return OrderRow(
            client_id=f"e1-{seq}", execution_id="e1", seq=seq, exchange_id=exchange_id,
            market="btcusdt", side="sell", type="limit", price=Decimal("130000"),
            amount=Decimal("0.001"), filled=Decimal(0), avg_price=None, state=state,
            created_at=NOW, updated_at=NOW, sent_at=NOW,
        )  # fmt: skip

    # e1-1 rests on the book; e1-2 was written but never reached the exchange
    return [execution, order(1, resting_id, "open"), order(2, None, "pending")]


async def test_pause_cancel_open_cancels_resting_orders_on_the_exchange(
    db_url: str,
    sessions: async_sessionmaker[AsyncSession],
    simulator: SimServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = SafeTradeClient(
        simulator.base_url, DEMO_KEY, DEMO_SECRET, clock=SystemClock(), rng=random.Random(1)
    )
    try:
        resting = await client.place_order(
            OrderRequest("e1-1", "btcusdt", Side.SELL, OrderType.LIMIT, Decimal("0.001"),
                         Decimal("130000"))
        )  # fmt: skip
        await _add(sessions, *_order_rows(resting.id))
        monkeypatch.setenv("SAFETRADE_BASE_URL", simulator.base_url)
        monkeypatch.setenv("SAFETRADE_API_KEY", DEMO_KEY)
        monkeypatch.setenv("SAFETRADE_API_SECRET", DEMO_SECRET)

        code, out, _ = await _cli(capsys, db_url, "pause", "--cancel-open")
        after = await client.get_order(resting.id)
    finally:
        await client.close()

    assert code == 0
    assert resting.state is OrderState.OPEN
    assert after.state is OrderState.CANCELLED
    assert f"e1-1 (btcusdt, 0.001 at 130000): exchange id {resting.id}, now cancelled" in out
    assert "e1-2 (btcusdt, 0.001 at 130000): not on the exchange" in out
    assert "2 open order(s) in the database: 1 cancelled, 1 not on the book, 0 failed" in out
    assert await ControlRepository(sessions).is_paused()


async def test_pause_without_cancel_open_says_the_orders_stay(
    db_url: str, sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await _add(sessions, *_order_rows("77"))

    code, out, _ = await _cli(capsys, db_url, "pause")

    assert code == 0
    assert "2 open order(s) stay on the book until their executor ends or is cancelled" in out


async def test_cancel_open_without_credentials_is_a_usage_error(
    db_url: str, sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await _cli(capsys, db_url, "pause", "--cancel-open")

    assert code == 2
    assert out == ""
    assert "SAFETRADE_API_KEY" in err
    assert not await ControlRepository(sessions).is_paused()
