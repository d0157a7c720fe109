"""Waiting for the database at start: bounded back-off, one clear line if it never comes."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from bot.clock import VirtualClock, real_sleep
from bot.db.migrate import upgrade
from bot.db.wait import MAX_PAUSE_S, DatabaseUnavailable, wait_for_database
from tests.conftest import _pg_exec

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Wait-Secret-4242"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _closed_pg_url() -> str:
    return f"postgresql+asyncpg://sellbot:{PASSWORD}@127.0.0.1:{_closed_port()}/sellbot"


async def test_unreachable_server_backs_off_up_to_the_deadline_then_one_line(
    clock: VirtualClock,
) -> None:
    with capture_logs() as logs, pytest.raises(DatabaseUnavailable) as info:
        await clock.run(wait_for_database(_closed_pg_url(), wait_s=60, clock=clock))

    waits = [e for e in logs if e["event"] == "database_unavailable"]
    pauses = [e["retry_in_s"] for e in waits]
    assert pauses[:5] == [0.5, 1.0, 2.0, 4.0, MAX_PAUSE_S]
    assert max(pauses) == MAX_PAUSE_S
    assert sum(pauses) == pytest.approx(60)  # gave up at the deadline: not sooner, not later
    assert clock.monotonic() == pytest.approx(60)
    assert all(e["log_level"] == "warning" and "ConnectionRefused" in e["reason"] for e in waits)
    message = str(info.value)
    assert "\n" not in message
    assert f"({len(waits) + 1} tries over 60 s)" in message
    assert "ConnectionRefusedError" in message
    assert PASSWORD not in message + repr(logs)
    assert "sellbot:********@127.0.0.1" in message


async def test_zero_wait_tries_once(clock: VirtualClock) -> None:
    with pytest.raises(DatabaseUnavailable, match=r"\(1 try\)"):
        await clock.run(wait_for_database(_closed_pg_url(), wait_s=0, clock=clock))

    assert clock.monotonic() == 0


async def test_a_database_created_during_the_wait_is_used(
    clock: VirtualClock, pg_database: str | None
) -> None:
    if pg_database is None:
        pytest.skip("needs TEST_DATABASE_URL")
    name = f"{make_url(pg_database).database}_late"
    late = make_url(pg_database).set(database=name).render_as_string(hide_password=False)
    await _pg_exec(pg_database, f'DROP DATABASE IF EXISTS "{name}"')
    try:
        with capture_logs() as logs:
            waiting = asyncio.create_task(wait_for_database(late, wait_s=60, clock=clock))
            for _ in range(500):  # until the first try failed and the waiter sleeps
                if clock.sleepers:
                    break
                await real_sleep(0.01)
            assert clock.sleepers == 1
            await _pg_exec(pg_database, f'CREATE DATABASE "{name}"')
            await clock.advance(MAX_PAUSE_S)
            await asyncio.wait_for(waiting, timeout=10)

        events = [(e["event"], e.get("reason", "")) for e in logs]
        assert events[0][0] == "database_unavailable"
        assert "InvalidCatalogNameError" in events[0][1]
        assert "does not exist" in events[0][1]
        assert ("database_ready", "") in events
    finally:
        await _pg_exec(pg_database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_sqlite_under_a_missing_directory_is_created(
    clock: VirtualClock, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'not' / 'yet' / 'sellbot.db'}"

    await clock.run(wait_for_database(url, wait_s=60, clock=clock))
    await upgrade(url)

    assert (tmp_path / "not" / "yet" / "sellbot.db").is_file()
    assert clock.monotonic() == 0


async def test_sqlite_that_cannot_be_made_fails_at_once(
    clock: VirtualClock, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    url = f"sqlite+aiosqlite:///{tmp_path / 'a-file' / 'sellbot.db'}"

    with pytest.raises(DatabaseUnavailable) as info:
        await clock.run(wait_for_database(url, wait_s=60, clock=clock))

    assert clock.monotonic() == 0  # a local file does not come up later: no waiting
    assert "(1 try): FileExistsError" in str(info.value)  # its folder is a file


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        (("run", "--simulate", "--once"), "sellbot: refusing to start: "),
        (("db", "upgrade"), "sellbot: "),
    ],
)
def test_a_command_exits_1_with_one_line_when_the_database_never_comes(
    command: tuple[str, ...], prefix: str
) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SELLBOT_", "SAFETRADE_"))}
    env = {**base, "DATABASE_URL": _closed_pg_url(), "SELLBOT_DB_WAIT_S": "1"}

    result = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT / "tests",  # no .env here
        check=False,
    )

    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(prefix + "database postgresql+asyncpg://sellbot:***")
    assert re.search(r"\((1 try|\d+ tries over 1 s)\): ConnectionRefusedError", last), last
    assert "Traceback" not in result.stderr
    assert "database_unavailable" in result.stderr  # the wait was logged while it lasted
    assert PASSWORD not in result.stdout + result.stderr
