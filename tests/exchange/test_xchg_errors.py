from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.exchange.errors import (
    AuthError,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientBalance,
    InvalidOrder,
    MalformedResponse,
    NotFound,
    RateLimited,
)
from bot.exchange.safetrade.errors import error_codes, map_error, retry_after_s

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, '{"errors":["authz.invalid_signature"]}', AuthError),
        (401, '{"errors":["authz.nonce_not_valid_timestamp"]}', AuthError),
        (403, '{"errors":["authz.forbidden"]}', AuthError),
        (403, "", AuthError),
        (404, '{"errors":["record.not_found"]}', NotFound),
        (422, '{"errors":["market.order.insufficient_balance"]}', InsufficientBalance),
        (422, '{"errors":["market.account.insufficient_balance"]}', InsufficientBalance),
        (422, '{"errors":["market.order.invalid_volume_or_price"]}', InvalidOrder),
        (422, '{"errors":["market.market.doesnt_exist"]}', InvalidOrder),
        (422, '{"errors":["something.new"]}', InvalidOrder),
        (422, '{"errors":["record.not_found"]}', NotFound),
        (400, '{"error":"market.order.invalid_side"}', InvalidOrder),
        (429, '{"errors":["too_many"]}', RateLimited),
        (429, "", RateLimited),
        (500, '{"errors":["server.internal_error"]}', ExchangeUnavailable),
        (502, "<html><body>Bad gateway</body></html>", ExchangeUnavailable),
        (503, "", ExchangeUnavailable),
        (422, "not json at all", MalformedResponse),
        (422, '{"unexpected": true}', MalformedResponse),
        (418, '{"errors":["teapot"]}', MalformedResponse),
        (409, "[1, 2]", MalformedResponse),
    ],
)
def test_map_error_groups_responses_by_consequence(
    status: int, body: str, expected: type[ExchangeError]
) -> None:
    error = map_error(status, body, JSON)

    assert type(error) is expected


def test_html_maintenance_page_is_unavailable_even_with_4xx_status() -> None:
    error = map_error(
        400, b"<!DOCTYPE html><title>Maintenance</title>", {"Content-Type": "text/html"}
    )

    assert isinstance(error, ExchangeUnavailable)


def test_rate_limited_carries_retry_after_seconds_case_insensitively() -> None:
    error = map_error(429, "{}", {"retry-after": "3"})

    assert isinstance(error, RateLimited)
    assert error.retry_after_s == 3.0


def test_retry_after_accepts_http_date_when_now_is_known() -> None:
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)

    delay = retry_after_s({"Retry-After": "Thu, 01 Jan 2026 00:00:07 GMT"}, now)

    assert delay == 7.0


@pytest.mark.parametrize("value", ["soon", "NaN", "Infinity", ""])
def test_unparseable_retry_after_is_ignored(value: str) -> None:
    assert retry_after_s({"Retry-After": value}) is None


def test_negative_retry_after_is_clamped_to_zero() -> None:
    assert retry_after_s({"Retry-After": "-5"}) == 0.0


def test_error_message_names_codes_and_never_the_body_at_large() -> None:
    error = map_error(422, '{"errors":["market.order.insufficient_balance"], "x": "y"}', JSON)

    assert "market.order.insufficient_balance" in str(error)
    assert "HTTP 422" in str(error)


def test_error_codes_tolerates_garbage() -> None:
    assert error_codes("{") == ()
    assert error_codes('{"errors": [1, null, "a.b"]}') == ("a.b",)
    assert error_codes('"string"') == ()
