"""Each event's one-line message: what the operator reads on their phone."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.domain.executions import ExecutionState
from bot.notify import events as ev
from bot.notify.daily import DailyTally, next_daily_at
from bot.notify.events import EventKind, Level
from bot.notify.urls import mask_notify_url, split_urls, url_secrets
from tests.notify.samples import NOW, finished, partial, score


@dataclass
class Cycle:
    cycle_id: str = "c0ffee12"
    started: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def test_sale_finished_says_sold_proceeds_average_shortfall_and_strategy() -> None:
    event = ev.sale_ended(finished())

    assert event is not None
    assert (event.kind, event.level, event.title) == (
        EventKind.SALE_FINISHED,
        Level.SUCCESS,
        "sale finished",
    )
    assert event.text == (
        "sold 0.5 btc on btcusdt for 14,950.00 usdt, avg 29900, IS 33.3 bps; "
        "twap over 600 s, urgency medium (execution e1a2b3c4d5e6)"
    )


def test_partial_and_failed_sales_carry_their_reason() -> None:
    event = ev.sale_ended(partial())

    assert event is not None
    assert (event.kind, event.level, event.title) == (
        EventKind.SALE_FAILED,
        Level.WARNING,
        "sale partial",
    )
    assert event.text.startswith(
        "sale partial (horizon ended with 0.3 unsold): sold 0.2 of 0.5 btc on btcusdt for 5,990.00"
    )
    assert event.text.endswith("; twap over 600 s, urgency medium (execution e1a2b3c4d5e6)")
    no_note = ev.sale_ended(partial(""))
    assert no_note is not None
    assert no_note.text.startswith("sale partial (0.3 btc unsold): ")

    failed = ev.sale_ended(replace(partial("book one-sided"), state=ExecutionState.FAILED))
    assert failed is not None
    assert failed.level is Level.FAILURE
    assert failed.text.startswith("sale failed (book one-sided)")


def test_cycle_summary_only_when_a_sale_started() -> None:
    scores = [
        score("btc", "0.5", "15000"),
        score("eth", "2", "6000"),
        score("doge", "1", "1", sell=False),
    ]

    assert ev.cycle_summary(Cycle(), scores, "usdt") is None
    event = ev.cycle_summary(Cycle(started=["e1"], skipped={"eth": "market_busy"}), scores, "usdt")

    assert event is not None
    assert event.kind is EventKind.CYCLE
    assert event.text == (
        "cycle c0ffee12: 3 balances worth 21,001.00 usdt; started 1 sale: "
        "btc 0.5 (≈15,000.00 usdt); skipped eth (market_busy)"
    )


def test_daily_cap_is_said_once_a_day_and_only_when_it_binds() -> None:
    btc = score("btc", "0.5", "15000")

    assert ev.daily_cap_hit(btc, Decimal("0.5"), Decimal(0), Decimal(20000), NOW) is None
    reduced = ev.daily_cap_hit(btc, Decimal("0.1"), Decimal(7000), Decimal(10000), NOW)
    skipped = ev.daily_cap_hit(btc, Decimal(0), Decimal(10000), Decimal(10000), NOW)

    assert reduced is not None
    assert skipped is not None
    assert reduced.kind is EventKind.GUARD
    assert reduced.text.startswith("daily cap reached: 7,000.00 of 10,000.00 usdt committed")
    assert "btc reduced to 0.1" in reduced.text
    assert "btc skipped" in skipped.text
    assert reduced.key == skipped.key == "daily_cap:2026-03-04"


@pytest.mark.parametrize(
    ("event", "kind", "level", "text"),
    [
        (ev.kill_switch(True), EventKind.KILL_SWITCH, Level.WARNING, "kill switch on"),
        (ev.kill_switch(False), EventKind.KILL_SWITCH, Level.INFO, "kill switch off"),
        (
            ev.exchange_down("cloudflare challenge", 16.2),
            EventKind.EXCHANGE,
            Level.FAILURE,
            "exchange blocked or unreachable for 16 min: cloudflare challenge",
        ),
        (ev.exchange_back(20), EventKind.EXCHANGE, Level.SUCCESS, "reachable again after 20 min"),
        (ev.daemon_started(300, False), EventKind.DAEMON, Level.INFO, "daemon started (live)"),
        (ev.daemon_stopped(None), EventKind.DAEMON, Level.INFO, "daemon stopped"),
        (
            ev.daemon_stopped("taken over"),
            EventKind.DAEMON,
            Level.WARNING,
            "after losing leadership (taken over)",
        ),
        (ev.leadership_lost("lapsed"), EventKind.DAEMON, Level.FAILURE, "lost leadership (lapsed)"),
    ],
)
def test_operational_events(event: ev.Event, kind: EventKind, level: Level, text: str) -> None:
    assert (event.kind, event.level) == (kind, level)
    assert text in event.text
    assert "\n" not in event.text


def test_prices_keep_eight_significant_digits() -> None:
    assert ev.price(Decimal("3195.158066666666666666666667")) == "3195.1581"
    assert ev.price(Decimal("0.000002123698493776830507324859996")) == "0.0000021236985"
    assert ev.price(Decimal(29900)) == "29900"
    assert ev.price(Decimal(0)) == "0"


def test_event_names_are_checked() -> None:
    assert ev.parse_kinds(["cycle", "daily"]) == {EventKind.CYCLE, EventKind.DAILY}
    assert ev.parse_kinds(str(k) for k in ev.DEFAULT_EVENTS) == ev.DEFAULT_EVENTS
    with pytest.raises(ValueError, match=r"unknown event.*sales.*valid: cycle"):
        ev.parse_kinds(["sales"])


def test_daily_summary_counts_sales_and_proceeds_since_the_last_one() -> None:
    tally = DailyTally(since=NOW)
    tally.sale(finished())
    tally.sale(partial())
    tally.event(ev.exchange_down("blocked", 20))

    summary = tally.summary(NOW + timedelta(hours=20), dropped=2)

    assert summary.kind is EventKind.DAILY
    assert summary.level is Level.WARNING
    assert summary.text == (
        "since 2026-03-04 10:30 UTC: sales ended 1 completed, 1 partial; "
        "proceeds 20,940.00 usdt; cycles that started sales 0; exchange outages 1; "
        "notifications dropped 2"
    )
    tally.reset(NOW + timedelta(hours=20))
    assert "sales ended none" in tally.summary(NOW + timedelta(days=1), dropped=0).text


def test_next_daily_summary_is_the_next_hour_strictly_ahead() -> None:
    assert next_daily_at(NOW, 8) == NOW.replace(day=5, hour=8, minute=0)
    assert next_daily_at(NOW, 11) == NOW.replace(hour=11, minute=0)
    assert next_daily_at(NOW.replace(hour=11, minute=0), 11) == NOW.replace(
        day=5, hour=11, minute=0
    )


def test_notify_urls_are_split_masked_and_their_tokens_listed() -> None:
    urls = split_urls(
        "tgram://123456789:AAHsecretToken/987654, json://hooks.example.com/path?x=a,b "
        "discord://111222333/webhookTokenXYZ"
    )

    assert urls == [
        "tgram://123456789:AAHsecretToken/987654",
        "json://hooks.example.com/path?x=a,b",
        "discord://111222333/webhookTokenXYZ",
    ]
    assert [mask_notify_url(u) for u in urls] == [
        "tgram://********",
        "json://********",
        "discord://********",
    ]
    assert {"AAHsecretToken", "123456789", "webhookTokenXYZ"} <= set(
        url_secrets(urls[0]) + url_secrets(urls[2])
    )
    assert "hooks.example.com" not in url_secrets(urls[1])
    assert split_urls(None) == [] == split_urls("")
