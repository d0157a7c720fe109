"""Operator commands: status, history, orders, cancel, pause, resume (they read the database).

They act on the daemon's database and never create or migrate one: a database that does not
exist or is not at the head revision fails the command (exit 1). Each names the database it
acted on (password masked) and says how old the newest daemon heartbeat in it is.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial, wraps
from typing import Any, TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.db import reports
from bot.db.engine import session_factory
from bot.db.repositories import ControlRepository
from bot.db.schema_check import DatabaseUnavailable, open_at_head
from bot.db.urls import mask_url
from bot.settings import Settings, secret_values

Handler = Callable[[Settings], Coroutine[Any, Any, int]]

NO_CREDENTIALS = (
    "sellbot: --cancel-open needs SAFETRADE_API_KEY and SAFETRADE_API_SECRET "
    "(the orders are cancelled through the exchange)"
)
DRY_RUN = "sellbot: --cancel-open does nothing in dry-run mode (its orders are paper orders)"


# what "now" is for heartbeat ages and the kill switch's timestamp (tests set a VirtualClock)
clock: Clock = SystemClock()


class UnknownExecution(Exception):
    pass


@asynccontextmanager
async def _sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = await open_at_head(settings.database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def _on_existing_database(handler: Handler) -> Handler:
    """Turn a missing or unmigrated database into one line on stderr and exit code 1."""

    @wraps(handler)
    async def run(settings: Settings) -> int:
        try:
            return await handler(settings)
        except DatabaseUnavailable as e:
            print(f"sellbot: {e}; nothing done", file=sys.stderr)
            return 1

    return run


def _recent_s(settings: Settings) -> float:
    """Return how old a heartbeat may be and still count as a live daemon."""
    return 3 * settings.lease_ttl_s


async def _announce(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], out: TextIO
) -> reports.Presence:
    """Print the database acted on and its newest daemon heartbeat (a warning if none)."""
    db = mask_url(settings.database_url)
    found = await reports.presence(sessions, clock.now())
    print(f"database: {db}", file=out)
    newest = found.newest
    if newest is None:
        print(
            f"warning: no daemon heartbeat in {db}: is the daemon using another database?",
            file=sys.stderr,
        )
    elif newest.age_s > _recent_s(settings):
        print(
            f"warning: the newest daemon heartbeat in {db} is {newest.describe()}: "
            "is the daemon running?",
            file=sys.stderr,
        )
    else:
        print(f"daemon heartbeat: {newest.describe()}", file=out)
    return found


def _emit(tables: dict[str, reports.Table], as_json: bool) -> None:
    if as_json:
        print(json.dumps({k: t.as_dicts() for k, t in tables.items()}, indent=2))
        return
    for title, table in tables.items():
        print(f"{title.replace('_', ' ')}:")
        print(table.render())
        print()


def _status_json(
    settings: Settings,
    found: reports.Presence,
    paused: bool,
    tables: dict[str, reports.Table],
) -> str:
    doc: dict[str, Any] = {
        "database": mask_url(settings.database_url),
        "kill_switch": "paused" if paused else "off",
        "leader": found.leader.as_dict() if found.leader else None,
        "daemons": [d.as_dict() for d in found.daemons],
    }
    doc |= {k: t.as_dicts() for k, t in tables.items()}
    return json.dumps(doc, indent=2)


async def _status(settings: Settings, *, as_json: bool, limit: int) -> int:
    async with _sessions(settings) as sessions:
        found = await _announce(settings, sessions, sys.stderr if as_json else sys.stdout)
        tables = {"standby_daemons": reports.standby_table(found, _recent_s(settings))}
        tables |= await reports.status(sessions, limit)
        paused = await ControlRepository(sessions).is_paused()
    if as_json:
        print(_status_json(settings, found, paused, tables))
        return 0
    print(f"kill switch: {'PAUSED' if paused else 'off'}")
    print(f"leader: {found.leader.describe() if found.leader else 'none'}\n")
    _emit(tables, as_json)
    return 0


async def _history(settings: Settings, *, as_json: bool, limit: int) -> int:
    async with _sessions(settings) as sessions:
        await _announce(settings, sessions, sys.stderr if as_json else sys.stdout)
        table = await reports.history(sessions, limit)
    _emit({"finished_executions": table}, as_json)
    return 0


async def _orders(settings: Settings, *, execution_id: str, as_json: bool) -> int:
    async with _sessions(settings) as sessions:
        await _announce(settings, sessions, sys.stderr if as_json else sys.stdout)
        if await reports.execution_exists(sessions, execution_id) is None:
            print(f"sellbot: no execution {execution_id!r}")
            return 2
        table = await reports.orders_of(sessions, execution_id)
    _emit({"orders": table}, as_json)
    return 0


async def _cancel_open(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> int:
    from bot.bootstrap import build_exchange  # lazy: only this option needs a client
    from bot.cli.ops_cancel import cancel_open
    from bot.logs import configure_logging
    from bot.metrics import Metrics

    configure_logging(  # the client logs its requests: to stderr, secrets masked
        fmt=settings.log_format, level=settings.log_level, secrets=secret_values(settings)
    )
    exchange = build_exchange(settings, SystemClock(), Metrics())
    try:
        failed = await cancel_open(sessions, exchange, print)
    finally:
        await exchange.close()
    return 1 if failed else 0


async def _set_paused(settings: Settings, *, paused: bool, cancel_open: bool = False) -> int:
    if cancel_open and (settings.dry_run or not settings.has_credentials):
        print(DRY_RUN if settings.dry_run else NO_CREDENTIALS, file=sys.stderr)
        return 2
    async with _sessions(settings) as sessions:
        await _announce(settings, sessions, sys.stdout)
        await ControlRepository(sessions).set_paused(paused, clock.now())
        print("paused: no new orders will be placed" if paused else "resumed")
        if cancel_open:
            return await _cancel_open(settings, sessions)
        resting = len(await reports.open_orders(sessions)) if paused else 0
    if resting:
        print(
            f"{resting} open order(s) stay on the book until their executor ends or is "
            "cancelled; `sellbot pause --cancel-open` cancels them"
        )
    return 0


async def _cancel(settings: Settings, *, execution_id: str) -> int:
    async with _sessions(settings) as sessions:
        await _announce(settings, sessions, sys.stdout)
        row = await reports.execution_exists(sessions, execution_id)
        if row is None:
            print(f"sellbot: no execution {execution_id!r}")
            return 2
        await ControlRepository(sessions).set(f"cancel:{execution_id}", "requested", clock.now())
    print(f"cancel requested for {execution_id}; the daemon cancels it and its open orders")
    return 0


def handler_for(args: argparse.Namespace) -> Handler | None:
    """Return the handler for an operator command on the database, or None."""
    on_db: dict[str, Callable[[], Handler]] = {
        "status": lambda: partial(_status, as_json=args.json, limit=args.limit),
        "history": lambda: partial(_history, as_json=args.json, limit=args.limit),
        "orders": lambda: partial(_orders, execution_id=args.execution, as_json=args.json),
        "pause": lambda: partial(_set_paused, paused=True, cancel_open=args.cancel_open),
        "resume": lambda: partial(_set_paused, paused=False),
        "cancel": lambda: partial(_cancel, execution_id=args.execution_id),
    }
    make = on_db.get(args.command)
    return _on_existing_database(make()) if make else None
