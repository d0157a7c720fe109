"""Open an existing database whose schema is at head, without creating or migrating anything.

The operator commands act on the daemon's database; a wrong ``DATABASE_URL`` must fail
loudly, not create a fresh SQLite file and act on that.
"""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.db.engine import _sqlite_pragmas, create_engine
from bot.db.migrate import alembic_config
from bot.db.urls import mask_url, url_passwords


class DatabaseUnavailable(Exception):
    """The database does not exist, cannot be opened, or its schema is not at head."""


def _sqlite_engine(url: str) -> AsyncEngine:
    """Open an existing SQLite file read-write; a missing file is an error, never created."""
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:":
        raise DatabaseUnavailable(f"database {mask_url(url)} is in memory: nothing to act on")
    path = Path(database)
    if not path.is_file():
        raise DatabaseUnavailable(f"database {mask_url(url)} does not exist ({path.resolve()})")
    uri = parsed.set(database=path.resolve().as_uri(), query={"mode": "rw", "uri": "true"})
    engine = create_async_engine(uri)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def _clean(error: BaseException, url: str) -> str:
    text = (str(error).splitlines() or [""])[0][:200]
    for password in url_passwords(url):
        text = text.replace(password, "********")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def open_at_head(url: str) -> AsyncEngine:
    """Return an engine on ``url`` after checking its schema is at the head revision.

    Raises:
        DatabaseUnavailable: with one line for the operator, the password masked.
    """
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = _sqlite_engine(url) if is_sqlite else create_engine(url)
    heads = tuple(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(_revisions)
    except (OSError, SQLAlchemyError) as e:
        await engine.dispose()
        raise DatabaseUnavailable(f"cannot open database {mask_url(url)}: {_clean(e, url)}") from e
    if set(current) != set(heads):
        await engine.dispose()
        head = ", ".join(heads)
        where = f"revision {', '.join(current)}, not head {head}" if current else "no schema"
        raise DatabaseUnavailable(
            f"database {mask_url(url)} has {where} (is DATABASE_URL the daemon's database? "
            "`sellbot db upgrade` migrates it)"
        )
    return engine
