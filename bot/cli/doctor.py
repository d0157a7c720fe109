"""`sellbot doctor`: the read-only preflight, printed as lines or JSON (``bot.doctor``)."""

from __future__ import annotations

import contextlib

from bot.clock import SystemClock
from bot.settings import Settings, secret_values


async def run(settings: Settings, *, simulate: bool, as_json: bool) -> int:
    from bot.cli.embedded import embedded_simulator
    from bot.doctor.report import exit_code, render_json, render_lines
    from bot.doctor.run import run_doctor  # lazy: only this command needs a client
    from bot.logs import configure_logging

    # stdout carries the report; logs go to stderr, warnings only unless a level was set
    level = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
    configure_logging(fmt=settings.log_format, level=level, secrets=secret_values(settings))
    system_clock = SystemClock()
    async with contextlib.AsyncExitStack() as stack:
        if simulate:
            settings = await stack.enter_async_context(embedded_simulator(settings, system_clock))
        checks = await run_doctor(settings, system_clock)
    print(render_json(checks) if as_json else render_lines(checks))
    return exit_code(checks)
