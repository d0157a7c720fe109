"""Thin APScheduler job wrappers: bind log context, catch and log at the boundary, never raise.

A job stopped by a block page in front of the exchange (``ExchangeBlocked``: a Cloudflare
challenge, a region block) logs one ``exchange_blocked`` warning with the reason, no traceback:
nothing in our code failed, and the next run tries again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.exchange.errors import ExchangeBlocked
from bot.ids import new_cycle_id
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.notify.watch import ExchangeWatch

log = get_logger("sellbot.jobs")

Job = Callable[[], Awaitable[object]]


def guarded(
    name: str, job: Job, metrics: Metrics, watch: ExchangeWatch | None = None
) -> Callable[[], Awaitable[None]]:
    """Wrap ``job`` so an exception is logged with context and counted, never propagated."""

    async def run() -> None:
        with structlog.contextvars.bound_contextvars(job=name, run_id=new_cycle_id()):
            try:
                await job()
                if watch is not None:
                    watch.ok(name)
            except asyncio.CancelledError:
                raise
            except ExchangeBlocked as e:
                metrics.exchange_blocked.inc(job=name, reason=e.reason)
                log.warning("exchange_blocked", reason=e.reason, status=e.status)
                if watch is not None:
                    watch.failed(name, e)
            except Exception as e:  # the scheduler must outlive any one job
                metrics.job_errors.inc(job=name)
                log.exception("job_failed")
                if watch is not None:  # an unreachable exchange counts as an outage
                    watch.failed(name, e)

    return run


def schedule_jobs(
    scheduler: AsyncIOScheduler,
    metrics: Metrics,
    *,
    prioritise: Job,
    track_orders: Job,
    refresh_markets: Job,
    daily_reset: Job,
    interval_s: int,
    watch: ExchangeWatch | None = None,
    track_every_s: float,
) -> None:
    """Register the four jobs, each single-instance, coalescing, with a misfire grace."""
    common: dict[str, Any] = {"max_instances": 1, "coalesce": True}
    scheduler.add_job(
        guarded("prioritise", prioritise, metrics, watch),
        "interval",
        seconds=interval_s,
        id="prioritise",
        misfire_grace_time=max(5, interval_s // 2),
        **common,
    )
    scheduler.add_job(
        guarded("track_orders", track_orders, metrics, watch),
        "interval",
        seconds=track_every_s,
        id="track_orders",
        misfire_grace_time=max(1, int(track_every_s)),
        **common,
    )
    scheduler.add_job(
        guarded("refresh_markets", refresh_markets, metrics, watch),
        "interval",
        minutes=15,
        id="refresh_markets",
        misfire_grace_time=60,
        **common,
    )
    scheduler.add_job(
        guarded("daily_reset", daily_reset, metrics, watch),
        "cron",
        hour=0,
        minute=0,
        timezone="UTC",
        id="daily_reset",
        misfire_grace_time=3600,
        **common,
    )
