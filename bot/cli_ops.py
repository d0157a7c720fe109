"""Operator commands: status, history, orders, cancel, pause, resume (they read the database)."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.repositories import ControlRepository
from bot.service import reports
from bot.settings import Settings

Handler = Callable[[Settings], Coroutine[Any, Any, int]]


class UnknownExecution(Exception):
    pass


@asynccontextmanager
async def _sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def _emit(tables: dict[str, reports.Table], as_json: bool) -> None:
    if as_json:
        print(json.dumps({k: t.as_dicts() for k, t in tables.items()}, indent=2))
        return
    for title, table in tables.items():
        print(f"{title.replace('_', ' ')}:")
        print(table.render())
        print()


async def _status(settings: Settings, *, as_json: bool, limit: int) -> int:
    async with _sessions(settings) as sessions:
        tables = await reports.status(sessions, limit)
        paused = await ControlRepository(sessions).is_paused()
    if not as_json:
        print(f"kill switch: {'PAUSED' if paused else 'off'}\n")
    _emit(tables, as_json)
    return 0


async def _history(settings: Settings, *, as_json: bool, limit: int) -> int:
    async with _sessions(settings) as sessions:
        table = await reports.history(sessions, limit)
    _emit({"finished_executions": table}, as_json)
    return 0


async def _orders(settings: Settings, *, execution_id: str, as_json: bool) -> int:
    async with _sessions(settings) as sessions:
        if await reports.execution_exists(sessions, execution_id) is None:
            print(f"sellbot: no execution {execution_id!r}")
            return 2
        table = await reports.orders_of(sessions, execution_id)
    _emit({"orders": table}, as_json)
    return 0


async def _set_paused(settings: Settings, *, paused: bool) -> int:
    async with _sessions(settings) as sessions:
        await ControlRepository(sessions).set_paused(paused, SystemClock().now())
    print("paused: no new orders will be placed" if paused else "resumed")
    return 0


async def _cancel(settings: Settings, *, execution_id: str) -> int:
    async with _sessions(settings) as sessions:
        row = await reports.execution_exists(sessions, execution_id)
        if row is None:
            print(f"sellbot: no execution {execution_id!r}")
            return 2
        await ControlRepository(sessions).set(
            f"cancel:{execution_id}", "requested", SystemClock().now()
        )
    print(f"cancel requested for {execution_id}; the daemon cancels it and its open orders")
    return 0


async def _advise(settings: Settings, *, simulate: bool) -> int:
    from bot.service.advise_cmd import run_advise

    return await run_advise(settings, simulate=simulate)


async def _sim(settings: Settings, *, args: argparse.Namespace) -> int:
    from bot.service.sim_serve import serve

    return await serve(
        settings,
        host=args.host,
        port=args.port,
        seed=args.seed,
        api_key=args.api_key,
        api_secret=args.api_secret,
    )


async def _bench(
    settings: Settings,
    *,
    quick: bool,
    seeds: int | None,
    json_path: str | None,
    plot_path: str | None,
) -> int:
    from bot.bench.command import run_bench  # lazy: the benchmark is not needed to operate

    print(run_bench(quick=quick, seeds=seeds, json_path=json_path, plot_path=plot_path))
    return 0


def handler_for(args: argparse.Namespace) -> Handler | None:
    """Return the handler for an operator command, or None if this build lacks it."""
    table: dict[str, Callable[[], Handler]] = {
        "status": lambda: partial(_status, as_json=args.json, limit=args.limit),
        "history": lambda: partial(_history, as_json=args.json, limit=args.limit),
        "orders": lambda: partial(_orders, execution_id=args.execution, as_json=args.json),
        "pause": lambda: partial(_set_paused, paused=True),
        "resume": lambda: partial(_set_paused, paused=False),
        "cancel": lambda: partial(_cancel, execution_id=args.execution_id),
        "bench": lambda: partial(
            _bench,
            quick=args.quick,
            seeds=args.seeds,
            json_path=args.json_path,
            plot_path=args.plot_path,
        ),
        "advise": lambda: partial(_advise, simulate=args.simulate),
        "sim": lambda: partial(_sim, args=args),
    }
    make = table.get(args.command)
    return make() if make else None
