"""Async handlers behind the CLI commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from bot.settings import Settings

Handler = Callable[[Settings], Coroutine[Any, Any, int]]


async def db_upgrade(settings: Settings) -> int:
    import sys

    from bot.clock import SystemClock
    from bot.db.migrate import upgrade
    from bot.db.urls import mask_url
    from bot.db.wait import DatabaseUnavailable, wait_for_database
    from bot.logs import configure_logging
    from bot.settings import secret_values

    # stdout says what was done; the wait's log lines go to stderr, secrets masked
    configure_logging(
        fmt=settings.log_format, level=settings.log_level, secrets=secret_values(settings)
    )
    try:
        await wait_for_database(
            settings.database_url, wait_s=settings.db_wait_s, clock=SystemClock()
        )
    except DatabaseUnavailable as e:
        print(f"sellbot: {e}; nothing done", file=sys.stderr)
        return 1
    await upgrade(settings.database_url)
    print(f"database {mask_url(settings.database_url)} is at the latest revision")
    return 0


def handler_for(args: argparse.Namespace) -> Handler | None:
    """Return the handler for the parsed arguments (modules imported only when used)."""
    if args.command == "db" and args.db_command == "upgrade":
        return db_upgrade
    if args.command == "run":
        from bot.cli.run import run_daemon

        return partial(run_daemon, simulate=args.simulate, once=args.once)
    if args.command == "advise":
        from bot.cli.advise import run_advise

        return partial(run_advise, simulate=args.simulate)
    if args.command == "doctor":
        from bot.cli import doctor

        return partial(doctor.run, simulate=args.simulate, as_json=args.json)
    if args.command == "sim":
        from bot.cli import sim

        return partial(sim.run, args=args)
    if args.command == "bench":
        from bot.cli import bench

        return partial(
            bench.run,
            quick=args.quick,
            seeds=args.seeds,
            json_path=args.json_path,
            plot_path=args.plot_path,
            check=args.check,
            weights=args.weights,
        )
    from bot.cli import ops

    return ops.handler_for(args)
