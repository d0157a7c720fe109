"""Wait for the database at start: a server that is not up yet gets bounded back-off.

A PostgreSQL (or any server) database that refuses, times out or does not exist yet is tried
again with doubling pauses (0.5 s up to 5 s), one warning line per try, until ``wait_s`` has
passed; then :class:`DatabaseUnavailable` carries one line for the operator. A SQLite file is
local: if it cannot be opened (say its folder cannot be made) waiting will not help, so the
first failure is final.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import Clock
from bot.db.engine import create_engine
from bot.db.urls import mask_url
from bot.logs import get_logger

log = get_logger("sellbot.db")

FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 5.0
PROBE_TIMEOUT_S = 10.0  # a host that drops packets must not hold one try for minutes


class DatabaseUnavailable(Exception):
    """The database did not answer in time; ``str()`` is one line for the operator."""


async def probe(url: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Open one connection to ``url`` and run ``SELECT 1``, in at most ``timeout_s`` (real time)."""
    engine = create_engine(url)
    try:
        async with asyncio.timeout(timeout_s), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def _reason(error: BaseException) -> str:
    """One line: the driver's own error (asyncpg's, not SQLAlchemy's wrappers) and its text."""
    shown = error
    orig = getattr(error, "orig", None)
    if isinstance(orig, BaseException):
        shown = orig.__cause__ or orig
    words = " ".join(str(shown).split()) or "no detail"
    return f"{type(shown).__name__}: {words}"[:300]


async def wait_for_database(url: str, *, wait_s: float, clock: Clock) -> None:
    """Return once ``url`` answers; raise :class:`DatabaseUnavailable` after ``wait_s``."""
    is_file = make_url(url).get_backend_name() == "sqlite"
    shown = mask_url(url)
    deadline = clock.monotonic() + wait_s
    pause = FIRST_PAUSE_S
    attempt = 0
    while True:
        attempt += 1
        left = deadline - clock.monotonic()
        try:
            await probe(url, timeout_s=max(1.0, min(PROBE_TIMEOUT_S, left)))
        except (OSError, SQLAlchemyError) as e:  # TimeoutError is an OSError
            reason = _reason(e)
        else:
            if attempt > 1:
                log.info("database_ready", database=shown, attempts=attempt)
            return
        left = deadline - clock.monotonic()
        if is_file or left <= 0:
            tries = "1 try" if attempt == 1 else f"{attempt} tries over {wait_s:g} s"
            raise DatabaseUnavailable(f"database {shown} unavailable ({tries}): {reason}")
        pause = min(pause, left)
        log.warning(
            "database_unavailable",
            database=shown,
            attempt=attempt,
            retry_in_s=round(pause, 2),
            gives_up_in_s=round(left, 1),
            reason=reason,
        )
        await clock.sleep(pause)
        pause = min(pause * 2, MAX_PAUSE_S)
