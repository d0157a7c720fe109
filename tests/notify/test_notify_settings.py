"""SELLBOT_NOTIFY_*: defaults, checked event names, URLs kept secret everywhere."""

from __future__ import annotations

import pytest

from bot.bootstrap import build_notifier
from bot.clock import SystemClock
from bot.notify.events import DEFAULT_EVENTS, EventKind
from bot.settings import Settings, SettingsError, effective_settings, load_settings, secret_values

URLS = "tgram://123456789:AAHbotTokenValue/42,json://hooks.example.com/in/hookSecret77"


def test_defaults_send_every_event_but_no_summary_and_nothing_without_urls() -> None:
    settings = Settings(_env_file=None)
    notifier = build_notifier(settings, SystemClock())

    assert settings.notify_events == DEFAULT_EVENTS
    assert EventKind.DAILY not in settings.notify_events
    assert settings.notify_daily_hour is None
    assert settings.notify_blocked_after_min == 15
    assert not notifier.enabled


def test_urls_build_an_apprise_notifier_with_the_chosen_events() -> None:
    settings = load_settings(
        _env_file=None,
        SELLBOT_NOTIFY_URLS=URLS,
        SELLBOT_NOTIFY_EVENTS="sale_failed, daemon",
        SELLBOT_NOTIFY_DAILY_HOUR="7",
        SELLBOT_NOTIFY_BLOCKED_AFTER_MIN="5",
    )
    notifier = build_notifier(settings, SystemClock())

    assert notifier.enabled
    assert notifier.policy.events == {EventKind.SALE_FAILED, EventKind.DAEMON}
    assert notifier.policy.daily_hour == 7
    assert notifier.policy.blocked_after_s == 300


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SELLBOT_NOTIFY_EVENTS", "sales,cycle", "unknown event(s) sales; valid: cycle, daemon"),
        ("SELLBOT_NOTIFY_DAILY_HOUR", "24", "SELLBOT_NOTIFY_DAILY_HOUR: Input should be less"),
    ],
)
def test_bad_values_are_one_line_each(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **{name: value})

    assert len(caught.value.lines) == 1
    assert says in caught.value.lines[0]


def test_notify_urls_are_masked_in_config_and_their_tokens_redacted_from_logs() -> None:
    settings = load_settings(_env_file=None, SELLBOT_NOTIFY_URLS=URLS)

    shown = dict(effective_settings(settings))
    assert shown["SELLBOT_NOTIFY_URLS"] == "********"
    assert "AAHbotTokenValue" not in repr(settings)
    secrets = secret_values(settings)
    assert {"AAHbotTokenValue", "hookSecret77", URLS.split(",")[0]} <= set(secrets)
