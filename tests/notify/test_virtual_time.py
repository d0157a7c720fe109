"""The daily summary and the exchange-outage watch, in virtual time (a recording sink)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bot.clock import VirtualClock
from bot.exchange.errors import ExchangeBlocked, ExchangeUnavailable
from bot.metrics import Metrics
from bot.notify import events as ev
from bot.notify.events import Level
from bot.notify.notifier import Notifier, NotifyPolicy
from bot.rand import make_rng
from bot.service.jobs import guarded
from tests.notify.samples import NOW, finished, partial, score


@dataclass
class RecordingSink:
    """A sink that keeps what it is sent (the real one is tested over HTTP)."""

    sent: list[tuple[str, str, Level]] = field(default_factory=list)

    async def send(self, title: str, body: str, level: Level) -> bool:
        self.sent.append((title, body, level))
        return True


def _notifier(clock: VirtualClock, **policy: object) -> tuple[Notifier, RecordingSink]:
    sink = RecordingSink()
    notifier = Notifier(
        sink,
        clock=clock,
        rng=make_rng(1, "notify"),
        policy=NotifyPolicy(batch_window_s=0.0, **policy),  # type: ignore[arg-type]
    )
    return notifier, sink


async def test_the_daily_summary_is_sent_at_its_utc_hour_with_the_day_s_sales() -> None:
    clock = VirtualClock(NOW.timestamp())  # 10:30 UTC
    notifier, sink = _notifier(clock, daily_hour=8)
    notifier.start()
    notifier.sale_ended(finished())
    notifier.sale_ended(partial())
    await clock.advance(3600)
    assert [t for t, _, _ in sink.sent] == ["sellbot: 2 events"]  # the two sales, no summary

    await clock.advance(20.5 * 3600)  # 08:00 the next day
    assert [t for t, _, _ in sink.sent][1:] == ["sellbot: daily summary"]
    _, body, level = sink.sent[1]
    assert body.startswith("since 2026-03-04 10:30 UTC: sales ended 1 completed, 1 partial;")
    assert "proceeds 20,940.00 usdt" in body
    assert level is Level.WARNING  # a partial sale

    await clock.advance(24 * 3600)
    assert len(sink.sent) == 3
    assert sink.sent[2][1].startswith("since 2026-03-05 08:00 UTC: sales ended none")
    assert sink.sent[2][2] is Level.INFO
    await notifier.close()


async def test_no_daily_summary_unless_an_hour_is_set() -> None:
    clock = VirtualClock(NOW.timestamp())
    notifier, sink = _notifier(clock)
    notifier.start()
    await clock.advance(3 * 86400)
    await notifier.close()

    assert sink.sent == []


async def test_an_outage_is_told_once_after_the_threshold_and_again_when_it_ends() -> None:
    clock = VirtualClock(NOW.timestamp())
    notifier, sink = _notifier(clock, blocked_after_s=15 * 60)
    metrics = Metrics()
    state: dict[str, BaseException | None] = {"error": ExchangeBlocked("cloudflare challenge")}

    async def job() -> None:
        error = state["error"]
        if error is not None:
            raise error

    async def other() -> None:  # a job that never reads the exchange keeps succeeding
        return None

    prioritise = guarded("prioritise", job, metrics, notifier.exchange)
    track = guarded("track_orders", other, metrics, notifier.exchange)
    for minute in range(30):
        await prioritise()
        await track()
        if minute == 20:
            state["error"] = ExchangeUnavailable("timeout")
        await clock.advance(60)
    told = [body for _, body, _ in sink.sent]
    state["error"] = None
    await prioritise()
    await clock.advance(1)

    assert told == ["exchange blocked or unreachable for 15 min: cloudflare challenge"]
    assert [body for _, body, _ in sink.sent][1:] == ["exchange reachable again after 30 min"]
    await notifier.close()


async def test_other_job_errors_are_not_outages() -> None:
    clock = VirtualClock(NOW.timestamp())
    notifier, sink = _notifier(clock, blocked_after_s=60)

    async def broken() -> None:
        raise RuntimeError("a bug")

    job = guarded("prioritise", broken, Metrics(), notifier.exchange)
    for _ in range(10):
        await job()
        await clock.advance(60)
    await notifier.close()

    assert sink.sent == []


async def test_the_daily_cap_is_told_once_a_day() -> None:
    clock = VirtualClock(NOW.timestamp())
    notifier, sink = _notifier(clock)
    btc = score("btc", "1", "30000")
    for _ in range(3):
        notifier.publish(ev.daily_cap_hit(btc, Decimal(0), Decimal(100), Decimal(100), clock.now()))
        await clock.advance(300)
    await clock.advance(86400)
    notifier.publish(ev.daily_cap_hit(btc, Decimal(0), Decimal(100), Decimal(100), clock.now()))
    await clock.advance(1)
    await notifier.close()

    assert [t for t, _, _ in sink.sent] == ["sellbot: daily cap", "sellbot: daily cap"]
