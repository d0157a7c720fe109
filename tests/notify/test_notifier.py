"""The notifier over real HTTP: Apprise's ``json://`` to a local receiver.

Batching, retries then drops when the receiver is down, a full queue, a slow receiver that
cannot slow ``publish``, and no secret in any message.
"""

from __future__ import annotations

from pydantic import SecretStr
from structlog.testing import capture_logs

from bot.clock import SystemClock, real_sleep
from bot.logs import Redactor
from bot.notify import events as ev
from bot.notify.apprise_sink import AppriseSink
from bot.notify.events import EventKind
from bot.notify.notifier import Notifier, NotifyPolicy, disabled
from bot.rand import make_rng
from bot.settings import Settings, secret_values
from tests.notify.receiver import Receiver, free_port, receiver
from tests.notify.samples import finished, partial

FAST = NotifyPolicy(batch_window_s=0.0, attempts=3, backoff_s=0.01, backoff_max_s=0.02, drain_s=5)


def _notifier(url: str, policy: NotifyPolicy = FAST, **kwargs: object) -> Notifier:
    return Notifier(
        AppriseSink([url], timeout_s=5),
        clock=SystemClock(),
        rng=make_rng(7, "notify-test"),
        policy=policy,
        **kwargs,  # type: ignore[arg-type]
    )


async def _until(check: object, timeout_s: float = 5.0) -> None:
    clock = SystemClock()
    deadline = clock.monotonic() + timeout_s
    while not check() and clock.monotonic() < deadline:  # type: ignore[operator]
        await real_sleep(0.01)


async def test_an_event_arrives_as_one_json_message() -> None:
    async with receiver() as recv:
        notifier = _notifier(recv.url())
        assert notifier.publish(ev.sale_ended(finished()))
        await notifier.close()

    assert recv.messages == [
        {
            "version": "1.0",
            "title": "sellbot: sale finished",
            "message": ev.sale_finished(finished()).text,
            "attachments": [],
            "type": "success",
        }
    ]
    assert notifier.sent == 1
    assert notifier.dropped == 0


async def test_events_that_arrive_together_are_batched() -> None:
    async with receiver() as recv:
        notifier = _notifier(recv.url(), NotifyPolicy(batch_window_s=0.2, drain_s=5))
        notifier.publish(ev.daemon_started(300, False))
        notifier.publish(ev.sale_ended(finished()))
        notifier.publish(ev.sale_ended(partial()))
        await _until(lambda: recv.messages)
        notifier.publish(ev.kill_switch(True))  # later: a message of its own
        await notifier.close()

    assert [m["title"] for m in recv.messages] == ["sellbot: 3 events", "sellbot: paused"]
    lines = recv.messages[0]["message"].splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "- daemon started",
        "- sale finished",
        "- sale partial",
    ]
    assert recv.messages[0]["type"] == "warning"  # the worst of the batch
    assert notifier.sent == 4


async def test_a_receiver_that_fails_is_retried_then_the_events_dropped_and_counted() -> None:
    async with receiver(status=500) as recv:
        notifier = _notifier(recv.url())
        with capture_logs() as logs:
            notifier.publish(ev.sale_ended(finished()))
            await _until(lambda: notifier.dropped)
        await notifier.close()

    assert recv.attempts == FAST.attempts
    assert (notifier.sent, notifier.dropped) == (0, 1)
    retries = [e for e in logs if e["event"] == "notify_retry"]
    assert [e["attempt"] for e in retries] == [1, 2]
    drops = [e for e in logs if e["event"] == "notify_dropped"]
    assert drops == [
        {
            "event": "notify_dropped",
            "events": 1,
            "reason": "send_failed: refused",
            "dropped_total": 1,
            "log_level": "warning",
        }
    ]


async def test_a_receiver_that_is_down_costs_drops_not_errors() -> None:
    drops: list[int] = []
    notifier = _notifier(f"json://127.0.0.1:{free_port()}/hook")
    notifier.on_drop = drops.append
    notifier.publish(ev.kill_switch(True))
    notifier.publish(ev.kill_switch(False))
    await _until(lambda: notifier.dropped == 2)
    await notifier.close()

    assert notifier.dropped == 2
    assert sum(drops) == 2


async def test_a_slow_receiver_does_not_slow_publish_and_a_full_queue_drops() -> None:
    clock = SystemClock()
    depths: list[int] = []
    async with receiver(delay_s=1.0) as recv:
        policy = NotifyPolicy(batch_window_s=0.0, max_queue=5, max_batch=1, drain_s=0.1)
        notifier = _notifier(recv.url(), policy)
        notifier.on_depth = depths.append
        started = clock.monotonic()
        accepted = [notifier.publish(ev.kill_switch(i % 2 == 0)) for i in range(50)]
        elapsed = clock.monotonic() - started
        await _until(lambda: recv.attempts)  # the sender is stuck on the slow receiver
        await notifier.close()

    assert elapsed < 0.05, elapsed  # 50 publishes while the receiver takes 1 s per message
    assert accepted.count(True) == 5  # the queue's bound
    assert notifier.dropped == 50 - notifier.sent
    assert max(depths) == 5


async def test_no_secret_reaches_any_message() -> None:
    async with receiver() as recv:
        token = "tok3nSecretPath99"
        url = recv.url(f"hook/{token}")
        settings = Settings(
            _env_file=None,
            SAFETRADE_API_KEY="visible-key-123456",
            SAFETRADE_API_SECRET="visible-secret-654321",
            SELLBOT_NOTIFY_URLS=f"{url},tgram://123456789:AAHbotTokenValue/42",
        )
        assert isinstance(settings.notify_urls, SecretStr)
        secrets = ["visible-key-123456", "visible-secret-654321", token, "AAHbotTokenValue"]
        redactor = Redactor(secret_values(settings))
        with capture_logs() as logs:
            notifier = _notifier(url, redact=redactor.clean_text)
        leaky = f"rejected: key visible-key-123456 via {url} secret visible-secret-654321"
        for event in (
            ev.sale_ended(finished()),
            ev.sale_ended(partial(leaky)),
            ev.exchange_down(f"block page for X-Auth-Apikey: visible-key-123456 at {url}", 20),
            ev.kill_switch(True),
            ev.daemon_started(300, True),
            ev.daemon_stopped(None),
            ev.leadership_lost(None),
        ):
            notifier.publish(event)
        await notifier.close()

    assert len(recv.texts[0].splitlines()) == 1 + 7  # the title, then one line per event
    for text in recv.texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
    assert "sale partial (rejected: key ********" in recv.texts[0]  # masked, not dropped
    targets = [e for e in logs if e["event"] == "notify_targets"]
    assert targets[0]["targets"] == ["json://********"]
    assert token not in repr(logs)


async def test_filtered_events_and_no_urls_send_nothing() -> None:
    async with receiver() as recv:
        policy = NotifyPolicy(batch_window_s=0.0, events=frozenset({EventKind.SALE_FAILED}))
        notifier = _notifier(recv.url(), policy)
        assert not notifier.publish(ev.sale_ended(finished()))
        assert notifier.publish(ev.sale_ended(partial()))
        await notifier.close()
    off = disabled(SystemClock())

    assert [m["title"] for m in recv.messages] == ["sellbot: sale partial"]
    assert not off.enabled
    assert not off.publish(ev.kill_switch(True))
    off.sale_ended(finished())
    await off.close()
    assert (off.sent, off.dropped, off.depth) == (0, 0, 0)


def test_receiver_helper_is_fresh() -> None:
    assert Receiver().messages == []
