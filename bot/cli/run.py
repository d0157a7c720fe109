"""`sellbot run`: pick the exchange (embedded simulator or SafeTrade), build the app, run."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack

from bot.bootstrap import build_live
from bot.cli.embedded import embedded_simulator
from bot.clock import SystemClock
from bot.db.migrate import upgrade
from bot.db.wait import DatabaseUnavailable, wait_for_database
from bot.logs import configure_logging, get_logger
from bot.service.daemon import Daemon
from bot.settings import Settings, secret_values

log = get_logger("sellbot")

NO_CREDENTIALS = (
    "sellbot: refusing to start: SAFETRADE_API_KEY and SAFETRADE_API_SECRET are not set "
    "(use `sellbot run --simulate` to try it on the embedded simulator)"
)


async def run_daemon(settings: Settings, *, simulate: bool, once: bool) -> int:
    """Run the daemon; return the process exit code."""
    configure_logging(
        fmt=settings.log_format, level=settings.log_level, secrets=secret_values(settings)
    )
    if not simulate and not settings.dry_run and not settings.has_credentials:
        sys.stderr.write(NO_CREDENTIALS + "\n")
        return 2
    clock = SystemClock()
    async with AsyncExitStack() as stack:
        if simulate:
            settings = await stack.enter_async_context(embedded_simulator(settings, clock))
            configure_logging(
                fmt=settings.log_format, level=settings.log_level, secrets=secret_values(settings)
            )
        try:
            await wait_for_database(settings.database_url, wait_s=settings.db_wait_s, clock=clock)
        except DatabaseUnavailable as e:
            sys.stderr.write(f"sellbot: refusing to start: {e}\n")
            return 1
        await upgrade(settings.database_url)
        live = await build_live(settings, clock, simulate=simulate)
        stack.push_async_callback(live.transport.close)
        app = live.app
        log.info(
            "sellbot_starting",
            simulate=simulate,
            once=once,
            exchange=settings.safetrade_base_url,
            database=settings.database_url.split("://", 1)[0],
            advisor=type(app.advisor).__name__,
        )
        return await Daemon(app, live.gate, once=once).run()
