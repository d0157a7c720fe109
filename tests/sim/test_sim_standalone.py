"""The standalone server: prints where it listens, serves, and keeps balances in a state file."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import aiohttp
import pytest

from bot.clock import VirtualClock
from bot.sim.standalone import serve_forever


async def test_serve_forever_serves_and_saves_balances(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "sim-state.json"
    clock = VirtualClock()
    task = asyncio.create_task(serve_forever("127.0.0.1", 0, 9, {"k1": "s1"}, state, clock=clock))
    url = ""
    for _ in range(500):
        await asyncio.sleep(0.01)  # noqa: TID251 (real I/O: wait for the server to listen)
        out = capsys.readouterr().out
        if "http://" in out:
            url = out.split(" on ", 1)[1].split(" ", 1)[0]
            break

    async with aiohttp.ClientSession() as session, session.get(url + "/public/markets") as r:
        markets = await r.json()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    assert url.endswith("/api/v2")
    assert {m["id"] for m in markets} >= {"btcusdt", "qubicusdt", "lunausdt"}
    saved = json.loads(state.read_text())
    assert saved["k1"]["btc"] == "0.08"
