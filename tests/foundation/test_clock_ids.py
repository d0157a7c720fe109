import asyncio

import pytest

from bot.bench.clock import SoleTaskClock
from bot.clock import ClockStalled, VirtualClock
from bot.ids import client_order_id, parse_client_order_id
from bot.rand import make_rng


async def test_virtual_clock_wakes_sleepers_in_time_order() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []
    t0 = clock.time()

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.time() - t0))

    tasks = [asyncio.create_task(sleeper("b", 20)), asyncio.create_task(sleeper("a", 10))]
    await clock.advance(15)
    assert woke == [("a", 10)]
    await clock.advance(10)
    await asyncio.gather(*tasks)

    assert woke == [("a", 10), ("b", 20)]
    assert clock.time() - t0 == 25


async def test_run_jumps_time_until_done() -> None:
    clock = VirtualClock()
    t0 = clock.time()

    async def job() -> int:
        for _ in range(100):
            await clock.sleep(60)
        return 7

    assert await clock.run(job()) == 7
    assert clock.time() - t0 == 6000


async def test_a_sole_task_clock_moves_time_as_its_one_chain_sleeps() -> None:
    clock = SoleTaskClock()
    seen: list[float] = []
    t0 = clock.time()

    async def write(seconds: float) -> None:  # a task the chain starts and awaits
        await clock.sleep(seconds)
        seen.append(clock.time() - t0)

    async def job() -> int:
        for _ in range(3):
            await clock.sleep(60)
            seen.append(clock.time() - t0)
        await asyncio.shield(asyncio.ensure_future(write(5)))
        await clock.sleep_until(t0)  # in the past: time never goes back
        return 7

    assert await clock.run(job()) == 7
    assert seen == [60, 120, 180, 185]
    assert clock.time() - t0 == 185
    assert clock.wakeups == 4


async def test_a_sole_task_clock_stops_a_chain_past_its_deadline() -> None:
    clock = SoleTaskClock()

    async def forever() -> None:
        while True:
            await clock.sleep(3600)

    with pytest.raises(ClockStalled):
        await clock.run(forever(), max_virtual_s=86_400)


def test_client_ids_are_deterministic_and_parseable() -> None:
    cid = client_order_id("abc123", 4)

    assert cid == client_order_id("abc123", 4)
    assert parse_client_order_id(cid) == ("abc123", 4)
    assert parse_client_order_id("foreign") is None


def test_named_rng_streams_are_independent_and_reproducible() -> None:
    a1, a2, b = make_rng(1, "a"), make_rng(1, "a"), make_rng(1, "b")

    seq_a = [a1.random() for _ in range(5)]

    assert seq_a == [a2.random() for _ in range(5)]
    assert seq_a != [b.random() for _ in range(5)]
