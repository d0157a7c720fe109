"""The notifier: ``publish`` never blocks; one sender task batches, retries, drops and counts.

``publish`` is synchronous: it puts the event on a bounded queue (``put_nowait``) and returns;
a full queue drops the event and counts it. The sender task takes the first waiting event,
waits ``batch_window_s`` for more, and sends what arrived together as one message. A message
the sink refuses (or that raises) is retried with capped exponential backoff and full jitter
from the injected rng; after ``attempts`` tries its events are dropped and counted. Nothing
here can block or fail a sale: the sink runs only in the sender task.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from bot.clock import Clock
from bot.domain.executions import Execution
from bot.logs import REDACTOR, get_logger
from bot.notify.daily import DailyTally, next_daily_at
from bot.notify.events import DEFAULT_EVENTS, Event, EventKind, Level, sale_ended, worst
from bot.notify.watch import ExchangeWatch
from bot.rand import make_rng

log = get_logger("sellbot.notify")

MAX_KEYS = 1000  # once-only keys remembered (the daily cap's: one a day)


class Sink(Protocol):
    async def send(self, title: str, body: str, level: Level) -> bool:
        """Deliver one message; True once every target accepted it."""
        ...


@dataclass(frozen=True, slots=True)
class NotifyPolicy:
    """What to send and how hard to try."""

    events: frozenset[EventKind] = DEFAULT_EVENTS
    max_queue: int = 200
    batch_window_s: float = 1.0
    max_batch: int = 20
    attempts: int = 4
    backoff_s: float = 2.0
    backoff_max_s: float = 60.0
    daily_hour: int | None = None  # UTC hour of the daily summary; None = none
    blocked_after_s: float = 900.0
    drain_s: float = 3.0  # how long close() waits for queued messages


def render(batch: list[Event]) -> tuple[str, str, Level]:
    """Return (title, body, level) for one message carrying ``batch``."""
    level = worst(e.level for e in batch)
    if len(batch) == 1:
        return f"sellbot: {batch[0].title}", batch[0].text, level
    body = "\n".join(f"- {e.title}: {e.text}" for e in batch)
    return f"sellbot: {len(batch)} events", body, level


class Notifier:
    """Queue events for the sink; without a sink (no URLs) every call is a no-op."""

    def __init__(
        self,
        sink: Sink | None,
        *,
        clock: Clock,
        rng: random.Random,
        policy: NotifyPolicy | None = None,
        redact: Callable[[str], str] = REDACTOR.clean_text,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self._rng = rng
        self.policy = policy or NotifyPolicy()
        self._redact = redact
        self._queue: asyncio.Queue[Event] = asyncio.Queue(self.policy.max_queue)
        self._keys: set[str] = set()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._inflight = 0
        self.sent = 0
        self.dropped = 0
        self._dropped_before = 0  # drops already told in a daily summary
        self.tally = DailyTally(since=clock.now())
        self.exchange = ExchangeWatch(clock, self.policy.blocked_after_s, self.publish)
        self.on_depth: Callable[[int], None] | None = None  # metrics hooks
        self.on_drop: Callable[[int], None] | None = None

    @property
    def enabled(self) -> bool:
        return self._sink is not None

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def publish(self, event: Event | None) -> bool:
        """Queue ``event`` unless filtered, already said or the queue is full; never blocks."""
        if event is None or self._sink is None:
            return False
        self.tally.event(event)
        if event.kind not in self.policy.events and event.kind is not EventKind.DAILY:
            return False
        if event.key is not None:
            if event.key in self._keys:
                return False
            if len(self._keys) >= MAX_KEYS:
                self._keys.clear()
            self._keys.add(event.key)
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._drop(1, "queue_full")
            return False
        self._report_depth()
        self._spawn("notify-sender", self._send_forever)
        return True

    def sale_ended(self, execution: Execution) -> None:
        """Count a finished sale for the daily summary and publish its event."""
        if self._sink is None:
            return
        self.tally.sale(execution)
        self.publish(sale_ended(execution))

    def start(self) -> None:
        """Start the daily summary (if configured); the sender starts with the first event."""
        if self._sink is not None and self.policy.daily_hour is not None:
            self._spawn("notify-daily", self._daily_forever)

    async def close(self) -> None:
        """Send what is queued (waiting at most ``drain_s``), then stop; the rest is dropped."""
        daily = self._tasks.pop("notify-daily", None)
        if daily is not None:
            daily.cancel()
            await asyncio.gather(daily, return_exceptions=True)
        sender = self._tasks.pop("notify-sender", None)
        if sender is None:
            return
        if not sender.done():
            joined = asyncio.ensure_future(self._queue.join())
            timer = asyncio.ensure_future(self._clock.sleep(self.policy.drain_s))
            await asyncio.wait({joined, timer}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (joined, timer):
                waiter.cancel()
        left = self._queue.qsize() + self._inflight  # before the sender's cleanup runs
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        while not self._queue.empty():  # dropped: what is left goes with the process
            self._queue.get_nowait()
            self._queue.task_done()
        if left:
            self._drop(left, "shutdown")
        self._report_depth()

    # --- the sender ---------------------------------------------------------------------

    def _spawn(self, name: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = self._tasks.get(name)
        if task is not None and not task.done():
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # published outside the loop: sent once a task runs
            return
        self._tasks[name] = asyncio.create_task(work(), name=name)

    async def _send_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            self._inflight = 1
            if self.policy.batch_window_s > 0:
                await self._clock.sleep(self.policy.batch_window_s)
            while len(batch) < self.policy.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._inflight = len(batch)
            self._report_depth()
            try:
                await self._deliver(batch)
            finally:
                self._inflight = 0
                for _ in batch:
                    self._queue.task_done()
                self._report_depth()

    async def _deliver(self, batch: list[Event]) -> None:
        if self._sink is None:
            return
        title, body, level = render(batch)
        title, body = self._redact(title), self._redact(body)
        error = ""
        for attempt in range(self.policy.attempts):
            try:
                if await self._sink.send(title, body, level):
                    self.sent += len(batch)
                    return
                error = "refused"
            except Exception as e:  # a sink must not kill the sender
                error = type(e).__name__
            if attempt + 1 < self.policy.attempts:
                cap = min(self.policy.backoff_max_s, self.policy.backoff_s * 2**attempt)
                delay = self._rng.uniform(0, cap)
                log.info("notify_retry", attempt=attempt + 1, delay_s=round(delay, 2), error=error)
                await self._clock.sleep(delay)
        self._drop(len(batch), f"send_failed: {error}")

    def _drop(self, events: int, reason: str) -> None:
        self.dropped += events
        log.warning("notify_dropped", events=events, reason=reason, dropped_total=self.dropped)
        if self.on_drop is not None:
            self.on_drop(events)

    def _report_depth(self) -> None:
        if self.on_depth is not None:
            self.on_depth(self._queue.qsize())

    # --- the daily summary --------------------------------------------------------------

    async def _daily_forever(self) -> None:
        hour = self.policy.daily_hour
        if hour is None:
            return
        while True:
            due = next_daily_at(self._clock.now(), hour)
            await self._clock.sleep_until(due.timestamp())
            now = self._clock.now()
            self.publish(self.tally.summary(now, self.dropped - self._dropped_before))
            self.tally.reset(now)
            self._dropped_before = self.dropped


def disabled(clock: Clock) -> Notifier:
    """Return a notifier that sends nothing (no ``SELLBOT_NOTIFY_URLS``)."""
    return Notifier(None, clock=clock, rng=make_rng(0, "notify"))  # the rng is never drawn
