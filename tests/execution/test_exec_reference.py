"""The slippage reference cannot be pushed: no sale starts or steps on a one-sided, crossed or
pushed book (issue 14, item 5), on the in-process simulator in virtual time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

from structlog.testing import capture_logs

from bench.reliability.book_leg import DistortingExchange
from bot.clock import VirtualClock
from bot.domain.decisions import StrategyName
from bot.domain.executions import ExecutionState
from bot.execution.guards import ExecutionGuards, reference_check
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.runner import ExecutionRunner
from tests.execution.exec_helpers import BOT_KEY, Desk, Runners, make_book, make_execution

D = Decimal
MAX_DEV = D(500)


def _refusals(store: MemoryExecutionStore, execution_id: str) -> list[dict[str, str]]:
    return [
        e.data for e in store.events if e.kind == "book_refused" and e.execution_id == execution_id
    ]


def test_reference_check_names_each_bad_book_and_passes_a_sane_one() -> None:
    sane = make_book([("1.00", "5")], [("1.01", "5")])
    assert reference_check(sane, D("1.005"), D("1.005"), MAX_DEV) is None
    assert reference_check(make_book([], []), None, None, MAX_DEV) == "empty_book"
    assert reference_check(make_book([("0.5", "1")], []), None, None, MAX_DEV) == "one_sided_book"
    assert reference_check(make_book([], [("1.01", "1")]), None, None, MAX_DEV) == "one_sided_book"
    crossed = make_book([("1.00", "5")], [("0.99", "5")])
    assert reference_check(crossed, None, None, MAX_DEV) == "crossed_book"
    pushed = make_book([("0.80", "5")], [("0.81", "5")])  # mid 0.805, 20% under 1.005
    assert reference_check(pushed, D("1.005"), None, MAX_DEV) == "mid_below_last_trade"
    assert reference_check(pushed, None, D("1.005"), MAX_DEV) == "mid_below_scoring_price"
    assert reference_check(pushed, D("0.83"), None, MAX_DEV) is None  # 3% under: a real move
    assert reference_check(sane, D("0.80"), D("0.80"), MAX_DEV) is None  # above: bound only rises


async def test_no_sale_starts_on_a_thin_book_with_no_asks_and_a_lone_low_bid(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.bid("0.5000", "100")  # the only order on the book
    execution = make_execution("thin1", strategy=StrategyName.MARKET, horizon_s=60)

    with capture_logs() as logs:
        result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.FAILED
    assert result.note == "book_refused:one_sided_book"
    assert result.arrival_mid is None
    assert result.sold == 0
    assert await store.orders_for("thin1") == []
    assert await desk.bot_open_orders() == []
    assert desk.engine.balance(BOT_KEY, "abc").available == D(1_000_000)
    assert [e["reason"] for e in _refusals(store, "thin1")] == ["one_sided_book"]
    refused = [line for line in logs if line["event"] == "book_refused"]
    assert refused[0]["reason"] == "one_sided_book"
    assert refused[0]["phase"] == "arrival"
    assert refused[0]["execution_id"] == "thin1"


async def test_a_sale_waits_for_a_sane_book_then_starts_from_its_mid(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.bid("1.0000", "100")
    start = clock.time()

    async def asks_return() -> None:
        await clock.sleep(10)
        desk.ask("1.0100", "5")

    execution = make_execution("wait1", strategy=StrategyName.MARKET, allocated="5", horizon_s=60)
    result, _ = await clock.run(asyncio.gather(runner.run(execution), asks_return()))

    assert result.state is ExecutionState.COMPLETED
    assert result.arrival_mid == D("1.0050")
    assert result.started_at is not None
    assert result.started_at.timestamp() >= start + 10
    orders = await store.orders_for("wait1")
    assert orders
    assert min(o.created_at.timestamp() for o in orders) >= start + 10


async def test_a_pushed_book_is_refused(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.bid("1.0000", "5")
    desk.ask("1.0100", "5")
    desk.buy("1")  # the last trade: 1.01
    desk.clear()
    desk.bid("0.8000", "100")  # the book pushed 20% down, with no trade
    desk.ask("0.8100", "100")
    execution = make_execution("push1", strategy=StrategyName.LIMIT, horizon_s=60)

    result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.FAILED
    assert result.note == "book_refused:mid_below_last_trade"
    assert result.arrival_mid is None
    assert await store.orders_for("push1") == []
    assert _refusals(store, "push1")[0]["last"] == "1.0100"


async def test_no_sale_starts_on_a_mid_far_below_the_scoring_price(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.bid("1.0000", "100")
    desk.ask("1.0100", "100")
    scored = make_execution("score1", strategy=StrategyName.MARKET, allocated="10", horizon_s=60)
    execution = replace(scored, allocated_value=D("12.5"))  # valued at 1.25 when scored

    result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.FAILED
    assert result.note == "book_refused:mid_below_scoring_price"
    assert await store.orders_for("score1") == []


async def test_a_crossed_book_places_nothing_that_step(
    desk: Desk, store: MemoryExecutionStore, clock: VirtualClock, runners: Runners
) -> None:
    desk.bid("1.0000", "100")
    desk.ask("1.0100", "100")
    exchange = DistortingExchange(desk.engine, BOT_KEY, clock=clock)
    exchange.distortion = "crossed"
    runner = runners(exchange=exchange)
    start = clock.time()
    running = replace(
        make_execution("cross1", strategy=StrategyName.MARKET, horizon_s=60),
        state=ExecutionState.RUNNING,
        arrival_mid=D("1.0050"),
        started_at=clock.now(),
    )

    async def uncross() -> None:
        await clock.sleep(9)
        exchange.distortion = None

    result, _ = await clock.run(asyncio.gather(runner.run(running), uncross()))

    assert exchange.orders_on_bad_books == 0
    orders = await store.orders_for("cross1")
    assert orders
    assert min(o.created_at.timestamp() for o in orders) >= start + 9
    assert result.state is ExecutionState.COMPLETED
    assert result.note == "book_refused:crossed_book"
    assert [(e["phase"], e["reason"]) for e in _refusals(store, "cross1")] == [
        ("step", "crossed_book")
    ]


async def test_a_normal_book_sells_as_before(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.bid("1.0000", "100")
    desk.ask("1.0100", "5")
    execution = make_execution("norm1", strategy=StrategyName.MARKET, allocated="10")

    result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.COMPLETED
    assert result.note == ""
    assert result.arrival_mid == D("1.0050")
    assert result.sold == D(10)
    assert result.proceeds == D(10)
    assert _refusals(store, "norm1") == []


async def test_the_final_sweep_refuses_a_one_sided_book(
    desk: Desk,
    store: MemoryExecutionStore,
    clock: VirtualClock,
    guards: ExecutionGuards,
    runners: Runners,
) -> None:
    desk.bid("1.0000", "100")
    desk.ask("1.0100", "100")
    runner = runners(guards=replace(guards, final_sweep="cross"))
    execution = make_execution(
        "sweep1", strategy=StrategyName.LIMIT, horizon_s=60, limit_offset_bps=D(50)
    )

    async def asks_vanish() -> None:
        await clock.sleep(45)
        desk.clear()
        desk.bid("1.0000", "100")  # bids only: the sweep would cross into them

    result, _ = await clock.run(asyncio.gather(runner.run(execution), asks_vanish()))

    assert result.sold == 0
    assert result.state is ExecutionState.PARTIAL
    assert result.note == "book_refused:one_sided_book"
    orders = await store.orders_for("sweep1")
    assert all(o.price is not None and o.price > D(1) for o in orders)  # none swept
    assert [(e["phase"], e["reason"]) for e in _refusals(store, "sweep1")] == [
        ("step", "one_sided_book")
    ]
