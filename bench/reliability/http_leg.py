"""HTTP leg of the fault campaign: a real ``sellbot run`` over HTTP and WebSocket, in real time.

Faults only HTTP has: connection resets (the server drops the socket) and WebSocket drops
(every ``ws_drop_every_s`` the simulator closes every stream). On top: 5xx, 429 with
Retry-After, lost order answers and latency (up to ``max_latency_s``: real seconds here,
so smaller than the in-process leg's 2 s). The daemon runs with its WebSocket streams on,
balances are topped up every ``sale_every_s``; then it is stopped (SIGTERM), faults are
cleared, and a ``sellbot run --once`` finishes what is left before the comparison.
"""

from __future__ import annotations

import asyncio
import signal
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.reliability.campaign import build_engine
from bench.reliability.crashes import KEY, SECRET, _env, _spawn, _verdict
from bench.reliability.invariants import InvariantReport
from bench.reliability.meter import Tick, silent
from bot.clock import SystemClock
from bot.db.migrate import upgrade
from bot.domain.decisions import StrategyName
from bot.rand import make_rng
from bot.sim.faults import FaultPlan
from bot.sim.server import SimServer

HTTP_COVERS = (
    "real `sellbot run` → `SafeTradeClient` → `SimServer` over HTTP with WebSocket streams on; "
    "10% 5xx, 5% 429, 2% lost order answers, 1% connection resets, latency U(0, 0.3 s) real, "
    "every WebSocket closed by the server every 3 s; SIGTERM, then faults off and a "
    "`--once` run finishes the rest"
)


async def _drop_websockets(server: SimServer, clock: SystemClock, every_s: float) -> int:
    drops = 0
    try:
        while True:
            await clock.sleep(every_s)
            for conn in list(server.hub._conns):  # the simulator's own connections
                await conn.ws.close()
                drops += 1
    except asyncio.CancelledError:
        return drops


async def run_http_leg(
    sales: int, *, seed: int = 1, markets: int = 3, sale_every_s: float = 4.0,
    ws_drop_every_s: float = 3.0, max_latency_s: float = 0.3, progress: Tick = silent,
) -> tuple[InvariantReport, dict[str, object]]:  # fmt: skip
    """Put ``sales`` balances up for sale under HTTP faults; return invariants and counters.

    ``progress`` is told how many balances are up for sale as each is put up."""
    clock = SystemClock()
    rng = make_rng(seed, "http_leg")
    engine, listed = build_engine(clock, markets, seed)
    plan = FaultPlan(
        seed=f"http/{seed}", p_5xx=0.10, p_429=0.05, retry_after_s=1.0, p_latency=1.0,
        max_latency_s=max_latency_s, p_reset=0.01, p_lost_response=0.02,
    )  # fmt: skip
    with TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'http.db'}"
        await upgrade(db_url)
        server_cm = SimServer(engine, credentials={KEY: SECRET}, clock=clock, port=0, faults=plan)
        async with server_cm as server:
            env = _env(db_url, server.base_url, StrategyName.TWAP, {"SELLBOT_WEBSOCKET": "true"})
            env.pop("SELLBOT_FORCE_STRATEGY")  # the rule advisor chooses
            bot = await _spawn(env, Path(tmp))
            dropper = asyncio.create_task(_drop_websockets(server, clock, ws_drop_every_s))
            put_up = 0
            while put_up < sales:
                for m in listed:
                    if put_up < sales and engine.balance(KEY, m.base).total < m.min_amount:
                        engine.deposit(KEY, m.base, Decimal(rng.randint(20, 80)))
                        put_up += 1
                        progress(put_up)
                await clock.sleep(sale_every_s)
            await clock.sleep(15.0)
            dropper.cancel()
            drops = await dropper
            bot.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(bot.communicate(), timeout=60)
            injected = dict(plan.counters)
            plan.clear()
            final = await _spawn(env, Path(tmp), "--once")
            await asyncio.wait_for(final.communicate(), timeout=300)
            report = await _verdict(db_url, engine, listed, clock)
            unsold = [m.id for m in listed if engine.balance(KEY, m.base).total >= m.min_amount]
    report.sales = put_up
    report.sales_completed = put_up - len(unsold)
    extra: dict[str, object] = {
        "faults injected (5xx / 429 / reset / lost answer / latency)|": " / ".join(
            str(injected.get(k, 0))
            for k in ("status_5xx", "rate_limited", "reset", "lost_response", "latency")
        ),
        "WebSocket connections dropped|": drops,
        "daemon exit codes (SIGTERM run, --once run)|": f"{bot.returncode}, {final.returncode}",
    }
    if bot.returncode != 0 or final.returncode != 0:
        extra["verdict"] = "FAIL"
        report.details.append(err.decode()[-2000:])
    return report, extra
