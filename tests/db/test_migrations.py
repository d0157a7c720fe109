from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.db.engine import create_engine
from bot.db.models import Base


def _diff(connection: Connection) -> list[object]:
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_create_every_table(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(_tables)
    await engine.dispose()

    expected = {"balance_snapshots", "decisions", "executions", "orders", "fills", "events"}
    assert expected <= tables


async def test_models_and_migrations_agree(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    await engine.dispose()

    assert diff == []
