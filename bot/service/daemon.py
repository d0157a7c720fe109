"""The daemon: recover, schedule, serve health/metrics, drain gracefully on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.bootstrap import App
from bot.logs import get_logger
from bot.service.cycle import run_prioritisation_cycle
from bot.service.gate import GatedExchange
from bot.service.jobs import schedule_jobs
from bot.service.ops_http import OpsServer, ReadinessChecks, create_ops_app
from bot.service.tracking import recover, track_once

log = get_logger("sellbot.daemon")


class Daemon:
    """Start order: recover unfinished work → schedule jobs → wait for a stop signal → drain."""

    def __init__(self, app: App, gate: GatedExchange, *, once: bool = False) -> None:
        self.app = app
        self.gate = gate
        self.once = once
        self.stop_event = asyncio.Event()
        self.scheduler: AsyncIOScheduler | None = None
        self.ops: OpsServer | None = None

    def request_stop(self, reason: str = "signal") -> None:
        if not self.stop_event.is_set():
            log.info("shutdown_requested", reason=reason)
            self.stop_event.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)

    async def _start_ops(self) -> None:
        port = self.app.settings.http_port
        if port == 0 and not self.once:
            return
        checks = ReadinessChecks(
            database=self._db_ok,
            exchange=self._exchange_ok,
            scheduler=lambda: self.once or bool(self.scheduler and self.scheduler.running),
        )
        self.ops = OpsServer(create_ops_app(self.app.metrics, checks), port=port)
        try:
            await self.ops.start()
        except OSError as e:
            log.warning("ops_http_unavailable", port=port, error=str(e))
            self.ops = None
            return
        log.info("ops_http_listening", port=self.ops.port)

    async def _db_ok(self) -> bool:
        await self.app.controls.is_paused()
        return True

    async def _exchange_ok(self) -> bool:
        await self.app.exchange.server_time()
        return True

    async def run(self) -> int:
        """Run until stopped (or, with ``once``, until one cycle's sales end); return 0."""
        self._install_signals()
        await self._start_ops()
        try:
            await recover(self.app, self.gate)
            if self.once:
                await self._run_once()
            else:
                await self._run_forever()
        finally:
            await self._shutdown()
        return 0

    async def _run_once(self) -> None:
        """Finish what a previous run left (resumed by ``recover``), then one cycle's sales.

        Resumed executions go first so that what they leave unsold (e.g. an order that
        vanished) is still offered for sale by this run's cycle.
        """
        if self.app.supervisor.active_ids:
            await self._wait_executions()
        if not self.stop_event.is_set():
            await run_prioritisation_cycle(self.app)
            await self._wait_executions()
        log.info("once_done", interrupted=self.stop_event.is_set())

    async def _wait_executions(self) -> None:
        """Wait until every submitted execution has ended, or until a stop is requested."""
        waiter = asyncio.create_task(self.app.supervisor.wait_all())
        stopper = asyncio.create_task(self.stop_event.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()

    async def _run_forever(self) -> None:
        settings = self.app.settings
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        schedule_jobs(
            self.scheduler,
            self.app.metrics,
            prioritise=lambda: run_prioritisation_cycle(self.app),
            track_orders=lambda: track_once(self.app, self.gate),
            refresh_markets=self._refresh_markets,
            daily_reset=self._daily_reset,
            interval_s=settings.schedule_interval_s,
            track_every_s=max(1.0, settings.order_poll_interval_s),
        )
        self.scheduler.start()
        self.scheduler.modify_job("prioritise", next_run_time=self.app.clock.now())
        log.info("daemon_started", interval_s=settings.schedule_interval_s)
        await self.stop_event.wait()

    async def _refresh_markets(self) -> None:
        invalidate = getattr(self.app.exchange, "invalidate", None)
        if callable(invalidate):
            invalidate()
        markets = await self.app.exchange.markets()
        log.info("markets_refreshed", markets=len(markets))

    async def _daily_reset(self) -> None:
        log.info("daily_cap_reset", max_daily_value=str(self.app.settings.max_daily_value))

    async def _shutdown(self) -> None:
        settings = self.app.settings
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        interrupted = await self.app.supervisor.stop(settings.shutdown_timeout_s)
        if interrupted:
            log.info(
                "executions_interrupted",
                executions=sorted(interrupted),
                open_orders="cancelled" if settings.cancel_on_shutdown else "left",
            )
        if self.ops is not None:
            await self.ops.stop()
        await self.app.close()
        log.info("daemon_stopped")
