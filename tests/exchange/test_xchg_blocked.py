"""Cloudflare challenges and region blocks: told apart from malformed bodies and refusals at
the one mapping point, logged by a job as one line, and shown by ``/readyz``."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import pytest
from structlog.testing import capture_logs

from bot.exchange.errors import (
    AuthError,
    ExchangeBlocked,
    ExchangeError,
    ExchangeUnavailable,
    RateLimited,
)
from bot.exchange.safetrade.errors import blocked_error, map_error
from bot.metrics import Metrics
from bot.service.jobs import guarded
from bot.service.ops_http import OpsServer, ReadinessChecks, create_ops_app

CHALLENGE_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    '<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper">'
    "<noscript>Enable JavaScript and cookies to continue</noscript></div><script>"
    "(function(){window._cf_chl_opt={cvId: '3',cZone: 'safe.trade',cType: 'managed'};"
    "var a = document.createElement('script');a.src = '/cdn-cgi/challenge-platform/h/g/"
    "orchestrate/chl_page/v1?ray=8f1e2d3c4b5a6978';}());</script></body></html>"
)
GEO_PAGE = (
    "<!DOCTYPE html><html><head><title>SafeTrade</title></head><body><h1>Sorry</h1><p>SafeTrade"
    " does not currently allow trading or new signups for Canadians.</p></body></html>"
)
CF = {
    "Date": "Sat, 05 Dec 2026 10:00:00 GMT",
    "Content-Type": "text/html; charset=UTF-8",
    "Server": "cloudflare",
    "CF-RAY": "8f1e2d3c4b5a6978-YYZ",
    "Cache-Control": "private, max-age=0, no-store, no-cache, must-revalidate",
}
CF_CHALLENGE = {**CF, "cf-mitigated": "challenge"}
HTML = {"Content-Type": "text/html"}
JSON = {"Content-Type": "application/json"}
CF_JSON = {"Content-Type": "application/json", "server": "cloudflare", "cf-ray": "8f1e-YYZ"}
CHALLENGE, REGION, PROXY_403 = (
    "Cloudflare challenge",
    "region blocked",
    "blocked by a proxy (HTTP 403)",
)


@pytest.mark.parametrize(
    ("status", "body", "headers", "reason"),
    [
        (403, CHALLENGE_PAGE, CF_CHALLENGE, CHALLENGE),  # a managed challenge today
        (503, CHALLENGE_PAGE, CF, CHALLENGE),  # the older "I'm under attack" interstitial
        (403, CHALLENGE_PAGE, HTML, CHALLENGE),  # Cloudflare's headers stripped by a proxy
        (403, "", {"cf-mitigated": "challenge"}, CHALLENGE),  # no body at all
        (403, GEO_PAGE, CF, REGION),
        (403, GEO_PAGE.encode(), HTML, REGION),
        (403, "<html><body><h1>Access denied</h1></body></html>", CF, PROXY_403),
        (403, "<!DOCTYPE html><title>Forbidden</title>", {}, PROXY_403),
    ],
)
def test_block_pages_map_to_exchange_blocked_with_their_reason(
    status: int, body: str | bytes, headers: Mapping[str, str], reason: str
) -> None:
    error = map_error(status, body, headers)

    assert type(error) is ExchangeBlocked
    assert error.reason == reason
    assert error.status == status


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (CHALLENGE_PAGE, CF, CHALLENGE),
        (CHALLENGE_PAGE, CF_CHALLENGE, CHALLENGE),
        ("<html><body>hello</body></html>", CF, "blocked by a proxy (HTTP 200)"),
        (GEO_PAGE, HTML, REGION),
    ],
)
def test_a_200_html_page_from_cloudflare_is_a_block(
    body: str, headers: Mapping[str, str], reason: str
) -> None:
    error = blocked_error(200, body, headers)

    assert error is not None
    assert error.reason == reason


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (
            502,
            "<html><body><h1>502 Bad Gateway</h1>cloudflare</body></html>",
            CF,
            ExchangeUnavailable,
        ),
        (503, "<html><body>Maintenance</body></html>", HTML, ExchangeUnavailable),
        (400, "<!DOCTYPE html><title>Maintenance</title>", HTML, ExchangeUnavailable),
        (403, '{"errors":["authz.invalid_signature"]}', CF_JSON, AuthError),
        (401, '{"errors":["authz.invalid_session"]}', CF_JSON, AuthError),
        (429, "<html>error 1015: you are being rate limited</html>", CF, RateLimited),
    ],
)
def test_pages_that_are_not_blocks_keep_their_meaning(
    status: int, body: str, headers: Mapping[str, str], expected: type[ExchangeError]
) -> None:
    assert type(map_error(status, body, headers)) is expected


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("<html>bad gateway</html>", JSON),  # no Cloudflare marker: a malformed body
        ('{"id": 1}', CF_JSON),  # every answer through Cloudflare carries its headers
        ("", CF_JSON),
    ],
)
def test_a_200_without_a_block_page_is_not_a_block(body: str, headers: Mapping[str, str]) -> None:
    assert blocked_error(200, body, headers) is None


async def test_a_blocked_job_logs_one_warning_with_the_reason_and_no_traceback() -> None:
    metrics = Metrics()

    async def cycle() -> None:
        raise map_error(403, CHALLENGE_PAGE, CF_CHALLENGE)

    with capture_logs() as logs:
        await guarded("prioritise", cycle, metrics)()

    assert [e["event"] for e in logs] == ["exchange_blocked"]
    assert logs[0]["log_level"] == "warning"
    assert logs[0]["reason"] == CHALLENGE
    assert "exc_info" not in logs[0]
    assert metrics.exchange_blocked.get(job="prioritise", reason=CHALLENGE) == 1
    assert metrics.job_errors.get(job="prioritise") == 0
    assert "sellbot_exchange_blocked_total" in metrics.render()


async def _readyz(checks: ReadinessChecks) -> tuple[int, dict[str, object]]:
    ops = OpsServer(create_ops_app(Metrics(), checks), host="127.0.0.1", port=0)
    await ops.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{ops.port}/readyz") as resp,
        ):
            return resp.status, await resp.json()
    finally:
        await ops.stop()


async def test_readyz_says_the_exchange_is_blocked_and_why() -> None:
    async def ok() -> bool:
        return True

    async def geo_blocked() -> bool:
        raise map_error(403, GEO_PAGE, CF)

    status, body = await _readyz(
        ReadinessChecks(database=ok, exchange=geo_blocked, scheduler=lambda: True)
    )

    assert status == 503
    assert body["ready"] is False
    assert body["exchange"] == {"ready": False, "blocked": REGION}
    assert body["database"] is True
