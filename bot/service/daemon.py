"""The daemon: lead (or stand by), recover, schedule, serve health/metrics, drain on SIGTERM.

Only the holder of the leader lease trades (``bot.service.leadership``). A daemon started
while another leads is a hot standby: healthy, not ready, waiting for the lease. A leader
that loses its lease is fenced at the port at once, stops its executors (their open orders
are left for the next leader to reconcile) and exits with ``EXIT_LEASE_LOST``: its
in-memory state belongs to a term that ended, and a restarted process (the container's
restart policy) comes back as a clean standby.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.bootstrap import App
from bot.exchange.cached import CachedExchange
from bot.exchange.errors import ExchangeBlocked, ExchangeError
from bot.exchange.forwarding import layer
from bot.exchange.gate import GatedExchange
from bot.exchange.streaming import stream_of
from bot.logs import get_logger
from bot.notify.events import daemon_started, daemon_stopped, leadership_lost
from bot.service.cycle import run_prioritisation_cycle
from bot.service.jobs import schedule_jobs
from bot.service.leadership import Leadership, first_of, new_instance_id
from bot.service.ops_http import OpsServer, ReadinessChecks, create_ops_app
from bot.service.streaming import StreamReadiness
from bot.service.tracking import recover, track_once

log = get_logger("sellbot.daemon")

EXIT_LEASE_LOST = 3  # the lease lapsed or was taken over: this process stopped trading
EXIT_NOT_LEADER = 4  # ``--once`` while another daemon leads: nothing was done
EXIT_CYCLE_FAILED = 1  # ``--once`` could not run its cycle (a block page, the exchange down)


class Daemon:
    """Start order: take the lease (standing by until then) → recover unfinished work →
    schedule jobs → wait for a stop signal or the lease's loss → drain."""

    def __init__(
        self,
        app: App,
        gate: GatedExchange,
        *,
        once: bool = False,
        leadership: Leadership | None = None,
    ) -> None:
        self.app = app
        self.gate = gate
        self.once = once
        self.leadership = leadership or Leadership(
            app.sessions, app.clock, instance_id=new_instance_id(), ttl_s=app.settings.lease_ttl_s
        )
        gate.fence = self.leadership.held  # no order unless the lease is held
        self.lease_lost: str | None = None
        self.cycle_error: str | None = None  # why `once`'s cycle could not run
        self.stop_event = asyncio.Event()
        self.scheduler: AsyncIOScheduler | None = None
        self.ops: OpsServer | None = None
        self._keeper: asyncio.Task[None] | None = None

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
        self.ops = OpsServer(create_ops_app(self.app.metrics, self._readiness()), port=port)
        try:
            await self.ops.start()
        except OSError as e:
            log.warning("ops_http_unavailable", port=port, error=str(e))
            self.ops = None
            return
        log.info("ops_http_listening", port=self.ops.port)

    def _readiness(self) -> ReadinessChecks:
        stream = stream_of(self.gate)
        return ReadinessChecks(
            database=self._db_ok,
            exchange=self._exchange_ok,
            scheduler=lambda: self.once or bool(self.scheduler and self.scheduler.running),
            role=self.leadership.role,
            epoch=lambda: self.leadership.epoch if self.leadership.held() else None,
            stream=None if stream is None else StreamReadiness(stream, self.app.metrics),
            clock=self.app.clock,
            exchange_cache_s=self.app.settings.readyz_cache_s,
        )

    async def _db_ok(self) -> bool:
        await self.app.controls.is_paused()
        return True

    async def _exchange_ok(self) -> bool:
        await self.app.exchange.server_time()
        return True

    async def run(self) -> int:
        """Run until stopped (or, with ``once``, until one cycle's sales end).

        Return 0, ``EXIT_LEASE_LOST`` if the lease was lost, ``EXIT_NOT_LEADER`` if
        ``once`` found another daemon leading, ``EXIT_CYCLE_FAILED`` if its cycle could not
        read the exchange.
        """
        self._install_signals()
        await self._start_ops()
        try:
            if not await self._take_lease():
                return EXIT_NOT_LEADER if self.once else 0
            self._keeper = asyncio.create_task(self._keep_lease(), name="lease-keeper")
            await recover(self.app, self.gate)
            if not self.stop_event.is_set():
                await (self._run_once() if self.once else self._run_forever())
        finally:
            await self._shutdown()
        if self.lease_lost:
            return EXIT_LEASE_LOST
        return EXIT_CYCLE_FAILED if self.cycle_error else 0

    async def _take_lease(self) -> bool:
        """Take the lease before anything else: standing by for it, or once for ``once``."""
        leadership = self.leadership
        if not self.once:
            log.info("standby_waiting_for_lease", instance_id=leadership.instance_id)
            return await leadership.wait_until_leader(self.stop_event)
        # A leader killed a moment ago (a crash, then this restart) still holds an unexpired
        # lease: wait out one TTL for it; a live leader keeps renewing and keeps it.
        log.info("once_waiting_for_lease", instance_id=leadership.instance_id)
        patience = leadership.ttl_s + leadership.renew_every_s
        await first_of(
            leadership.wait_until_leader(self.stop_event), self.app.clock.sleep(patience)
        )
        if leadership.held():
            return True
        current = await leadership.repo.current()
        holder = f"{current.holder} (epoch {current.epoch})" if current else "another daemon"
        sys.stderr.write(f"sellbot: not running --once: {holder} holds the leader lease\n")
        return False

    async def _keep_lease(self) -> None:
        """Renew the lease; on losing it, stop at once (the gate already refuses orders)."""
        self.lease_lost = await self.leadership.keep()
        self.app.notifier.publish(leadership_lost(self.lease_lost))
        self.request_stop("lease_lost")

    async def _run_once(self) -> None:
        """Finish what a previous run left (resumed by ``recover``), then one cycle's sales.

        Resumed executions go first so that what they leave unsold (e.g. an order that
        vanished) is still offered for sale by this run's cycle.
        """
        if self.app.supervisor.active_ids:
            await self._wait_executions()
        if not self.stop_event.is_set():
            try:
                await run_prioritisation_cycle(self.app)
            except ExchangeError as e:  # one line, no traceback: the next run tries again
                self.cycle_error = f"{type(e).__name__}: {e}"
                reason = e.reason if isinstance(e, ExchangeBlocked) else None
                log.warning("once_cycle_failed", error=type(e).__name__, reason=reason)
                sys.stderr.write(f"sellbot: the cycle could not read the exchange: {e}\n")
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
            watch=self.app.notifier.exchange,
        )
        self.scheduler.start()
        self.scheduler.modify_job("prioritise", next_run_time=self.app.clock.now())
        log.info("daemon_started", interval_s=settings.schedule_interval_s)
        self.app.notifier.start()
        self.app.notifier.publish(daemon_started(settings.schedule_interval_s, settings.dry_run))
        if self.app.telegram is not None:
            await self.app.telegram.start()
        await self.stop_event.wait()

    async def _refresh_markets(self) -> None:
        cache = layer(self.app.exchange, CachedExchange)
        if cache is not None:
            cache.invalidate()
        markets = await self.app.exchange.markets()
        log.info("markets_refreshed", markets=len(markets))

    async def _daily_reset(self) -> None:
        log.info("daily_cap_reset", max_daily_value=str(self.app.settings.max_daily_value))

    async def _shutdown(self) -> None:
        settings = self.app.settings
        if self.app.telegram is not None:  # no command while draining
            await self.app.telegram.stop()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        interrupted = await self.app.supervisor.stop(settings.shutdown_timeout_s)
        if interrupted:
            left = self.lease_lost or not settings.cancel_on_shutdown
            log.info(
                "executions_interrupted",
                executions=sorted(interrupted),
                open_orders="left" if left else "cancelled",
            )
        await self._stop_leading()
        if self.ops is not None:
            await self.ops.stop()
        if self.scheduler is not None:  # ran as a daemon (not --once)
            self.app.notifier.publish(daemon_stopped(self.lease_lost))
        await self.app.close()
        log.info("daemon_stopped", lease_lost=self.lease_lost)

    async def _stop_leading(self) -> None:
        """Stop renewing; hand the lease over at once if it is still ours (a clean stop)."""
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        try:
            await self.leadership.release()
        except Exception as e:  # the lease then simply expires
            log.warning("lease_release_failed", error=type(e).__name__)
