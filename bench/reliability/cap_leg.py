"""Daily-cap leg: many cycles, one slot, a cap well below the account; the cap must hold.

The daemon's ``App`` (``build_app``: SQLite store, rule advisor, supervisor, limiter) runs
``cycles`` prioritisation cycles 60 s apart in virtual time over an in-process simulator
holding several balances worth more than ``SELLBOT_MAX_DAILY_VALUE``; with one slot most
sales wait queued for minutes, which is when a queued sale used to count as nothing. After
every cycle (and once every sale has ended) it measures the committed value over all the
run's executions: proceeds of finished ones plus max(proceeds, allocated value) of the rest.

python -m bench.reliability.cap_leg --out build/reliability    # writes cap.json

Progress (cycles done / total, elapsed, remaining in wall-clock seconds) goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from bench.reliability.campaign import _market as campaign_market
from bench.reliability.campaign import _settings as campaign_settings
from bench.reliability.campaign import quiet_logs
from bench.reliability.meter import Tick, on_stderr, silent
from bench.reliability.report import save
from bench.reliability.vtime import DbActivity, drive
from bot.advisor.rules import RuleAdvisor
from bot.bootstrap import App, build_app
from bot.clock import DEFAULT_EPOCH, VirtualClock
from bot.db.migrate import upgrade
from bot.db.models import ExecutionRow
from bot.domain.decisions import StrategyName
from bot.domain.executions import ExecutionState, committed_value
from bot.domain.market import Market
from bot.exchange.cached import CachedExchange
from bot.rand import make_rng
from bot.service.cycle import CycleResult, run_prioritisation_cycle
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange

T = TypeVar("T")

KEY = "cap"
CYCLE_INTERVAL_S = 60.0
# base units on markets priced about 10 usdt: about 2,760 usdt in all
BALANCES: tuple[Decimal, ...] = tuple(Decimal(n) for n in (40, 36, 32, 30, 28, 26, 24, 22, 20, 18))
CAP = Decimal(1500)
COVERS = (
    "the daemon's App over an in-process simulator (10 balances worth about 2,760 usdt, "
    "SQLite), SELLBOT_MAX_DAILY_VALUE 1,500, one execution slot, TWAP forced so sales wait "
    "queued for the slot, `run_prioritisation_cycle` every 60 s virtual, spent balances "
    "topped up every 10 cycles; after each cycle and at the end, the committed value: "
    "proceeds of finished sales + max(proceeds, allocated value) of unfinished ones, and the "
    "same at allocation prices (each sale at no more than its value when allocated)"
)


@dataclass
class CapDesk:
    """An ``App`` over a simulator account, driven in virtual time."""

    clock: VirtualClock
    engine: MatchingEngine
    markets: list[Market]
    app: App
    db: DbActivity

    async def run(self, aw: Awaitable[T]) -> T:
        """Run ``aw``, moving virtual time only while the loop and the database are idle."""
        return await drive(self.clock, aw, self.db)

    async def cycle(self) -> CycleResult:
        return await self.run(run_prioritisation_cycle(self.app))

    async def wait(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass with the sales running."""
        await self.run(self.clock.sleep(seconds))

    async def rows(self) -> list[ExecutionRow]:
        async with self.app.sessions() as session:
            return list((await session.scalars(select(ExecutionRow))).all())

    async def committed(self) -> Committed:
        """Return the committed value over every execution in the database."""
        rows = await self.rows()
        return Committed(
            sum((_committed(r) for r in rows), Decimal(0)),
            sum((_at_allocation(r) for r in rows), Decimal(0)),
        )

    def top_up(self, balances: Sequence[Decimal]) -> None:
        """Deposit each balance again on the markets whose balance has been sold."""
        for market, amount in zip(self.markets, balances, strict=True):
            if self.engine.balance(KEY, market.base).total < market.min_amount:
                self.engine.deposit(KEY, market.base, amount)


@dataclass(frozen=True, slots=True)
class Committed:
    """The daily cap's ledger over a run, as proceeds came in and at allocation prices.

    ``value`` counts finished sales at their proceeds and unfinished ones at max(proceeds,
    allocated value); ``at_allocation`` counts each sale at no more than its value when it
    was allocated, so a price that rose while the sale ran does not count.
    """

    value: Decimal
    at_allocation: Decimal


def _at_allocation(row: ExecutionRow) -> Decimal:
    value = row.allocated_value
    if value is None:  # a row from before allocated_value was stored
        value = row.allocated * (row.arrival_mid or Decimal(0))
    return min(row.proceeds, value) if ExecutionState(row.state).terminal else value


def _committed(row: ExecutionRow) -> Decimal:
    return committed_value(
        terminal=ExecutionState(row.state).terminal,
        proceeds=row.proceeds,
        allocated=row.allocated,
        allocated_value=row.allocated_value,
        arrival_mid=row.arrival_mid,
    )


@asynccontextmanager
async def cap_desk(
    workdir: Path,
    *,
    cap: Decimal,
    balances: Sequence[Decimal] = BALANCES,
    slots: int = 1,
    seed: int = 1,
    start: float = DEFAULT_EPOCH,
    strategy: StrategyName | None = StrategyName.TWAP,
) -> AsyncIterator[CapDesk]:
    """Yield a desk with one market per balance; stop its sales and close it after."""
    clock = VirtualClock(start)
    engine = MatchingEngine(clock, make_rng(seed, "sim.engine"), fee_rate=Decimal("0.002"))
    markets = []
    for i, amount in enumerate(balances):
        market, params = campaign_market(i)
        engine.add_market(market, params, seed=f"{seed}/{i}")
        engine.deposit(KEY, market.base, amount)
        markets.append(market)
    db_url = f"sqlite+aiosqlite:///{workdir / 'cap.db'}"
    await upgrade(db_url)
    settings = campaign_settings(db_url, seed, len(markets)).model_copy(
        update={
            "max_daily_value": cap,
            "max_concurrent_executions": slots,
            "force_strategy": strategy,
        }
    )
    app = build_app(
        settings,
        clock=clock,
        rng=make_rng(seed, "app"),
        exchange=CachedExchange(SimExchange(engine, KEY, clock=clock), clock),
        advisor=RuleAdvisor(settings.limits()),
    )
    desk = CapDesk(clock, engine, markets, app, DbActivity(app.engine))
    try:
        yield desk
    finally:
        await desk.run(app.supervisor.stop(timeout_s=30.0))
        await app.close()


async def run_cap_leg(
    cycles: int = 30,
    *,
    cap: Decimal = CAP,
    balances: Sequence[Decimal] = BALANCES,
    top_up_every: int = 10,
    seed: int = 1,
    strategy: StrategyName = StrategyName.TWAP,
    workdir: Path | None = None,
    progress: Tick = silent,
) -> dict[str, Any]:
    """Run the leg; return its figures (money as strings), ``exceeded`` 1 if the cap broke.

    ``progress`` is told how many cycles are done after each."""
    stats: Counter[str] = Counter()
    peaks: list[Committed] = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        desk_ = cap_desk(Path(tmp), cap=cap, balances=balances, seed=seed, strategy=strategy)
        async with desk_ as desk:
            start = desk.clock.time()
            for i in range(cycles):
                if i and i % top_up_every == 0:
                    desk.top_up(balances)
                result = await desk.cycle()
                stats["started"] += len(result.started)
                stats["skipped_daily_cap"] += list(result.skipped.values()).count("daily_cap")
                peaks.append(await desk.committed())
                await desk.wait(CYCLE_INTERVAL_S)
                progress(i + 1)
            await desk.run(desk.app.supervisor.wait_all())
            peaks.append(await desk.committed())
            rows = await desk.rows()
            stats["virtual_s"] = round(desk.clock.time() - start)
    return _figures(cycles, cap, balances, peaks, rows, stats)


def _figures(
    cycles: int,
    cap: Decimal,
    balances: Sequence[Decimal],
    peaks: list[Committed],
    rows: list[ExecutionRow],
    stats: Counter[str],
) -> dict[str, Any]:
    peak = max(p.value for p in peaks)
    peak_at_allocation = max(p.at_allocation for p in peaks)
    states = Counter(r.state for r in rows)
    return {
        "cycles": cycles,
        "cap": str(cap),
        "peak_committed": str(peak),
        "peak_committed_at_allocation": str(peak_at_allocation),
        "final_committed": str(peaks[-1].value),
        # the cap is checked at allocation prices: a price rising under a running sale is
        # not a breach, and shows as peak_committed above peak_committed_at_allocation
        "exceeded": int(peak_at_allocation > cap),
        "exceeded_with_price_moves": int(peak > cap),
        "account_value": str(sum(balances, Decimal(0)) * Decimal(10)),
        "sales_started": stats["started"],
        "executions": len(rows),
        "executions_completed": states["completed"],
        "skipped_daily_cap": stats["skipped_daily_cap"],
        "proceeds": str(sum((r.proceeds for r in rows), Decimal(0))),
        "virtual_s": stats["virtual_s"],
    }


def leg_extra(figures: dict[str, Any]) -> dict[str, object]:
    """Return the report table's rows for ``figures`` (``label|target`` → cell)."""
    return {
        "daily cap: cycles (sales started)|": f"{figures['cycles']} ({figures['sales_started']})",
        "daily cap: peak committed at allocation prices / cap|≤ cap": (
            f"{figures['peak_committed_at_allocation']} / {figures['cap']}"
        ),
        "daily cap: peak committed with price moves|": figures["peak_committed"],
        "daily cap: sales skipped by the cap (all cycles)|": figures["skipped_daily_cap"],
        "verdict": "FAIL" if figures["exceeded"] else "PASS",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("build/reliability"))
    args = parser.parse_args(argv)
    quiet_logs()
    with on_stderr(args.cycles) as progress:
        figures = asyncio.run(run_cap_leg(args.cycles, seed=args.seed, progress=progress))
    save(args.out, "cap", title="daily cap", covers=COVERS, extra=leg_extra(figures))
    sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    return 1 if figures["exceeded"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
