"""ConcurrencyLimiter: global cap, one per market, priority order, cancellation."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.execution.limiter import ConcurrencyLimiter


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)  # noqa: TID251 (yield to the loop; no time passes)


async def test_limiter_caps_running_and_grants_by_priority() -> None:
    limiter = ConcurrencyLimiter(2)
    order: list[str] = []

    async def job(market: str, prio: int, gate: asyncio.Event) -> None:
        async with limiter.slot(market, priority=Decimal(prio), key=market):
            order.append(market)
            await gate.wait()

    gates = {m: asyncio.Event() for m in ["a", "b", "c", "d", "e"]}
    tasks = [
        asyncio.create_task(job("a", 1, gates["a"])),
        asyncio.create_task(job("b", 1, gates["b"])),
    ]
    await _settle()
    tasks += [
        asyncio.create_task(job("c", 1, gates["c"])),
        asyncio.create_task(job("d", 9, gates["d"])),
        asyncio.create_task(job("e", 5, gates["e"])),
    ]
    await _settle()

    assert order == ["a", "b"]
    assert limiter.queued == ["d", "e", "c"]
    gates["a"].set()
    await _settle()
    assert order == ["a", "b", "d"]
    gates["b"].set()
    gates["d"].set()
    await _settle()
    assert order == ["a", "b", "d", "e", "c"]
    gates["e"].set()
    gates["c"].set()
    await asyncio.gather(*tasks)
    assert limiter.running == {}


async def test_limiter_runs_one_per_market_without_blocking_other_markets() -> None:
    limiter = ConcurrencyLimiter(3)
    gate = asyncio.Event()
    started: list[str] = []

    async def job(market: str, key: str, prio: int) -> None:
        async with limiter.slot(market, priority=Decimal(prio), key=key):
            started.append(key)
            await gate.wait()

    first = asyncio.create_task(job("btc", "btc-1", 1))
    await _settle()
    second = asyncio.create_task(job("btc", "btc-2", 100))
    other = asyncio.create_task(job("eth", "eth-1", 1))
    await _settle()

    assert started == ["btc-1", "eth-1"]
    assert limiter.queued == ["btc-2"]
    gate.set()
    await asyncio.gather(first, second, other)
    assert started == ["btc-1", "eth-1", "btc-2"]


async def test_limiter_cancelled_waiter_leaves_the_queue() -> None:
    limiter = ConcurrencyLimiter(1)
    await limiter.acquire("a")
    waiter = asyncio.create_task(limiter.acquire("b", key="b"))
    await _settle()

    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    assert limiter.queued == []
    limiter.release("a")
    await limiter.acquire("c")
    assert limiter.running == {"c": "c"}


def test_limiter_rejects_a_zero_cap() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ConcurrencyLimiter(0)
