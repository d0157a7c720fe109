"""Shared fixtures: virtual clock, seeded rng, databases (SQLite always, PostgreSQL when set).

``TEST_DATABASE_URL`` (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) adds a
PostgreSQL run of every database test; each pytest process works in a database of its own,
created here and dropped at the end, so parallel runs never collide.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import VirtualClock
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade

FAKE_SAFETRADE_KEY = "TESTKEY-sellbot-9f8e7d6c"
FAKE_SAFETRADE_SECRET = "TESTSECRET-sellbot-0a1b2c3d4e5f"
FAKE_CEREBRAS_KEY = "csk-TESTCEREBRAS-5a6b7c8d"


def _pg_admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def _db_kinds() -> list[str]:
    return ["sqlite", "postgres"] if _pg_admin_url() else ["sqlite"]


async def _pg_exec(url: str, sql: str) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(
        user=u.username, password=u.password, host=u.host, port=u.port or 5432, database=u.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """Create a private PostgreSQL database for this pytest process (None without PG)."""
    admin = _pg_admin_url()
    if admin is None:
        if os.environ.get("SELLBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail("SELLBOT_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        yield None
        return
    name = f"sellbot_t{os.getpid()}"
    try:
        asyncio.run(_pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_pg_exec(admin, f'CREATE DATABASE "{name}"'))
    except OSError as e:  # unreachable: fail loudly, never skip
        pytest.fail(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _reset_pg(url: str) -> None:
    await _pg_exec(url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


@pytest.fixture(params=_db_kinds())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None) -> str:
    """A migrated, empty database URL: SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        assert pg_database is not None
        url = pg_database
        await _reset_pg(url)
    await upgrade(url)
    return url


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)
