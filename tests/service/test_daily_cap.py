"""SELLBOT_MAX_DAILY_VALUE: queued, overnight and concurrent sales cannot spend the cap twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from bench.reliability.cap_leg import CapDesk, cap_desk
from bot.clock import DEFAULT_EPOCH
from bot.db.execution_store import SqlExecutionStore
from bot.db.models import ExecutionRow
from bot.db.repositories import DailyLedger
from bot.domain.decisions import Decision, StrategyName
from bot.domain.executions import Execution, ExecutionState
from bot.execution.memory_store import MemoryExecutionStore
from bot.service.cycle import run_prioritisation_cycle

CAP = Decimal(2500)
MID = Decimal(10)  # every market of the desk starts at a mid of 10 usdt and barely moves
# what a sale's value can drift from allocated × MID: the bid sits under the mid, prices walk
TOLERANCE = Decimal("1.01")


async def _allocated_at_mid(desk: CapDesk) -> Decimal:
    """Return the quote value of everything allocated so far, at the markets' start mid."""
    return sum((r.allocated for r in await desk.rows()), Decimal(0)) * MID


async def test_queued_sales_count_against_the_cap(tmp_path: Path) -> None:
    balances = [Decimal(100)] * 5  # about 1,000 usdt each
    async with cap_desk(tmp_path, cap=CAP, balances=balances, slots=1) as desk:
        with capture_logs() as logs:
            for _ in range(3):  # the reviewer's three cycles: the first sale is still running
                await desk.cycle()
                await desk.wait(60.0)
        rows = await desk.rows()
        states = Counter(r.state for r in rows)
        allocated_value = await _allocated_at_mid(desk)
        committed = await desk.committed()

    assert states["running"] == 1, states  # one slot: the others still wait
    assert states["queued"] >= 1, states
    assert allocated_value <= CAP * TOLERANCE, allocated_value
    assert sum(r.allocated_value or Decimal(0) for r in rows) <= CAP
    assert all(r.allocated_value is not None for r in rows)
    assert committed.at_allocation <= CAP
    # the running sale's proceeds may pass its value at allocation if the price rose since
    assert committed.value <= CAP * TOLERANCE
    reduced = [e for e in logs if e["event"] == "sale_reduced_daily_cap"]
    skipped = [e for e in logs if e["event"] == "sale_skipped_daily_cap"]
    assert len(reduced) == 1
    assert reduced[0]["cap"] == "2500"
    assert skipped
    assert {e["cap"] for e in skipped} == {"2500"}
    assert Decimal(skipped[-1]["committed"]) > CAP - Decimal(1)


async def test_sale_started_before_midnight_still_counts_today(tmp_path: Path) -> None:
    start = DEFAULT_EPOCH - 30.0  # 23:59:30
    balances = [Decimal(300), Decimal(100)]  # 3,000 and 1,000 usdt: the cap takes the first
    async with cap_desk(tmp_path, cap=CAP, balances=balances, start=start) as desk:
        first = await desk.cycle()
        await desk.wait(60.0)  # 00:00:30: the TWAP (horizon ≥ 300 s) is still selling
        running = [r for r in await desk.rows() if r.state == "running"]
        after_midnight = await desk.cycle()
        allocated_value = await _allocated_at_mid(desk)

    assert len(first.started) == 1
    assert first.skipped == {desk.markets[1].base: "daily_cap"}
    assert [r.id for r in running] == first.started
    assert after_midnight.started == []
    assert after_midnight.skipped[desk.markets[1].base] == "daily_cap"
    assert allocated_value <= CAP * TOLERANCE


async def test_concurrent_cycles_cannot_both_spend_the_budget(tmp_path: Path) -> None:
    balances = [Decimal(100)] * 5
    async with cap_desk(tmp_path, cap=CAP, balances=balances, slots=1) as desk:
        both = asyncio.gather(
            run_prioritisation_cycle(desk.app), run_prioritisation_cycle(desk.app)
        )
        results = await desk.run(both)
        rows = await desk.rows()
        allocated_value = await _allocated_at_mid(desk)

    assert sum(len(r.started) for r in results) == 3  # 1,000 + 1,000 + 500
    assert allocated_value <= CAP * TOLERANCE, allocated_value
    assert max(Counter(r.market for r in rows).values()) == 1


def _execution(
    n: int,
    state: ExecutionState,
    created_at: datetime,
    *,
    allocated_value: Decimal | None,
    arrival_mid: Decimal | None = None,
    proceeds: Decimal = Decimal(0),
    finished_at: datetime | None = None,
) -> Execution:
    return Execution(
        id=f"e{n}",
        market=f"m{n}usdt",
        currency=f"m{n}",
        allocated=Decimal(10),
        decision=Decision(strategy=StrategyName.TWAP, horizon_s=600),
        state=state,
        created_at=created_at,
        arrival_mid=arrival_mid,
        allocated_value=allocated_value,
        proceeds=proceeds,
        finished_at=finished_at,
    )


def _ledger_rows(midnight: datetime) -> tuple[list[Execution], Decimal]:
    """Return executions around ``midnight`` and what the cap must count of them."""
    before, after = midnight - timedelta(hours=1), midnight + timedelta(hours=1)
    done = ExecutionState.COMPLETED
    rows = [
        # running since yesterday: counted today at its allocated value
        _execution(1, ExecutionState.RUNNING, before, allocated_value=Decimal(100)),
        # queued today: no arrival mid yet, still counted
        _execution(2, ExecutionState.QUEUED, after, allocated_value=Decimal(70)),
        # proceeds beyond the allocated value count as proceeds
        _execution(
            3, ExecutionState.RUNNING, after, allocated_value=Decimal(5), proceeds=Decimal(8)
        ),
        # legacy rows (no allocated_value): allocated × arrival mid, else nothing
        _execution(4, ExecutionState.RUNNING, after, allocated_value=None, arrival_mid=MID),
        _execution(5, ExecutionState.QUEUED, after, allocated_value=None),
        # finished yesterday: yesterday's budget
        _execution(
            6, done, before, allocated_value=Decimal(50), proceeds=Decimal(49), finished_at=before
        ),
        # started yesterday, finished today: its proceeds count today
        _execution(
            7, done, before, allocated_value=Decimal(30), proceeds=Decimal(29), finished_at=after
        ),
    ]
    return rows, Decimal(100 + 70 + 8 + 100 + 0 + 29)


async def test_ledger_counts_unfinished_sales_of_any_day(
    sessions: async_sessionmaker[AsyncSession], clock: object
) -> None:
    midnight = datetime(2026, 1, 2, tzinfo=UTC)
    rows, expected = _ledger_rows(midnight)
    sql = SqlExecutionStore(sessions, clock)  # type: ignore[arg-type]
    memory = MemoryExecutionStore()
    for execution in rows:
        await sql.create_execution(execution)
        await memory.create_execution(execution)

    assert await DailyLedger(sessions).value_since(midnight) == expected
    assert await memory.value_since(midnight) == expected
    assert (await sql.get_execution("e1")).allocated_value == Decimal(100)
    async with sessions() as session:
        legacy = await session.get(ExecutionRow, "e4")
    assert legacy is not None
    assert legacy.allocated_value is None
