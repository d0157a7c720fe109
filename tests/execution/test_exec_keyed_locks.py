"""Per-order locks serialise work on one order and are forgotten once nobody uses them."""

from __future__ import annotations

import asyncio

from bot.execution.keyed_locks import KeyedLocks


async def test_holders_of_one_key_take_turns_and_other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    release = asyncio.Event()
    log: list[str] = []

    async def first() -> None:
        async with locks.hold("a"):
            log.append("a1+")
            await release.wait()
            log.append("a1-")

    async def second() -> None:
        async with locks.hold("a"):
            log.append("a2")

    async def other() -> None:
        async with locks.hold("b"):
            log.append(f"b with {len(locks)} keys in use")
            release.set()

    await asyncio.gather(first(), second(), other())

    assert log == ["a1+", "b with 2 keys in use", "a1-", "a2"]
    assert len(locks) == 0


async def test_no_lock_is_kept_after_use_even_when_the_holder_fails() -> None:
    locks = KeyedLocks()

    async def fail() -> None:
        async with locks.hold("x"):
            raise RuntimeError("boom")

    for i in range(100):
        async with locks.hold(f"order-{i}"):
            assert len(locks) == 1
    results = await asyncio.gather(fail(), fail(), return_exceptions=True)

    assert all(isinstance(r, RuntimeError) for r in results)
    assert len(locks) == 0
