from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import ExecutionRow

VALUES = [
    Decimal("0.000000012345678901"),
    Decimal("123456789.123456789"),
    Decimal("0"),
    Decimal("1E-18"),
    Decimal("99999999999999.999999999999999999"),
]


@pytest.mark.parametrize("value", VALUES, ids=str)
async def test_money_round_trips_exactly(
    sessions: async_sessionmaker[AsyncSession], value: Decimal
) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    async with sessions.begin() as session:
        session.add(
            ExecutionRow(
                id="e1",
                market="btcusdt",
                currency="btc",
                allocated=value,
                strategy="market",
                params={},
                state="queued",
                priority=Decimal(0),
                arrival_mid=None,
                sold=value,
                proceeds=value,
                fees=Decimal(0),
                shortfall_bps=None,
                created_at=at,
            )
        )

    async with sessions() as session:
        row = (await session.execute(select(ExecutionRow))).scalar_one()

    assert isinstance(row.allocated, Decimal)
    assert row.allocated == value
    assert row.sold.normalize() == value.normalize()
    assert str(row.allocated) == str(value) or row.allocated.normalize() == value.normalize()


async def test_float_money_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    row = ExecutionRow(
        id="e2",
        market="btcusdt",
        currency="btc",
        allocated=0.1,
        strategy="market",
        params={},
        state="queued",
        priority=Decimal(0),
        arrival_mid=None,
        sold=Decimal(0),
        proceeds=Decimal(0),
        fees=Decimal(0),
        shortfall_bps=None,
        created_at=at,
    )

    with pytest.raises(Exception, match="float"):
        async with sessions.begin() as session:
            session.add(row)
