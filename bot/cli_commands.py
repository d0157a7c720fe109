"""Async handlers behind the CLI commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from bot.settings import Settings

Handler = Callable[[Settings], Coroutine[Any, Any, int]]


async def db_upgrade(settings: Settings) -> int:
    from bot.db.migrate import upgrade
    from bot.db.urls import mask_url

    await upgrade(settings.database_url)
    print(f"database {mask_url(settings.database_url)} is at the latest revision")
    return 0


def handler_for(args: argparse.Namespace) -> Handler | None:
    """Return the handler for the parsed arguments."""
    if args.command == "db" and args.db_command == "upgrade":
        return db_upgrade
    if args.command == "run":
        from bot.service.entry import run_daemon

        return partial(run_daemon, simulate=args.simulate, once=args.once)
    from bot import cli_ops

    return cli_ops.handler_for(args)
