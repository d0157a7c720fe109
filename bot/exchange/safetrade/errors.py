"""Map an HTTP error response to the ``ExchangeError`` tree: the one mapping point.

429                                   → RateLimited(retry_after_s from Retry-After)
a block page (``blocked_error``)      → ExchangeBlocked(reason)
401/403 (or any ``authz.*`` code)     → AuthError
404 (or ``record.not_found``)         → NotFound (an HTML 404 too: a route the family lacks)
422/400 insufficient-balance codes    → InsufficientBalance
422/400 anything else                 → InvalidOrder
5xx, or another HTML page             → ExchangeUnavailable
anything else, or a non-JSON 4xx body → MalformedResponse

A block page is any answer with ``cf-mitigated: challenge``, or an HTML one that is a Cloudflare
challenge (at 403/503, or from Cloudflare), a region block, any other 403, or a 2xx from
Cloudflare; the client asks ``blocked_error`` about 2xx answers too, which never reach here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from bot.exchange.errors import (
    AuthError,
    ExchangeBlocked,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientBalance,
    InvalidOrder,
    MalformedResponse,
    NotFound,
    RateLimited,
)
from bot.exchange.safetrade import endpoints as ep
from bot.exchange.safetrade.wire import parse_json

_MAX_CODES = 8
_SCAN_CHARS = 64 * 1024  # a block page says what it is near its start
_MAX_CODE_LEN = 96


def error_codes(body: bytes | str) -> tuple[str, ...]:
    """Return the error codes of a Peatio/Barong error body (empty if there are none)."""
    try:
        raw = parse_json(body)
    except MalformedResponse:
        return ()
    return _codes_of(raw)


def _codes_of(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, dict):
        return ()
    for field in ep.ERROR_LIST_FIELDS:
        value = raw.get(field)
        items = value if isinstance(value, list) else [value]
        codes = tuple(c[:_MAX_CODE_LEN] for c in items[:_MAX_CODES] if isinstance(c, str) and c)
        if codes:
            return codes
    return ()


def retry_after_s(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Return the Retry-After delay in seconds (delta-seconds, or an HTTP date given ``now``)."""
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = Decimal(value)
    except InvalidOperation:
        seconds = None
    if seconds is not None:
        return max(0.0, float(seconds)) if seconds.is_finite() else None
    if now is None:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds()) if when.tzinfo else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _looks_like_html(body: str, headers: Mapping[str, str]) -> bool:
    content_type = (_header(headers, "Content-Type") or "").lower()
    start = body.lstrip()[:15].lower()
    return "html" in content_type or start.startswith(("<!doctype", "<html"))


def _from_cloudflare(headers: Mapping[str, str]) -> bool:
    server = (_header(headers, "Server") or "").strip().lower()
    return server == ep.CF_SERVER or _header(headers, ep.CF_RAY) is not None


def blocked_error(
    status: int, body: bytes | str, headers: Mapping[str, str]
) -> ExchangeBlocked | None:
    """Return the block a response is (challenge, region, proxy 403), or None; any status."""
    raw = body[:_SCAN_CHARS]
    text = (raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw).lower()
    if (_header(headers, ep.CF_MITIGATED) or "").strip().lower() == "challenge":
        return ExchangeBlocked(ep.REASON_CHALLENGE, status=status)
    if not _looks_like_html(text, headers):
        return None
    if any(phrase in text for phrase in ep.GEO_BLOCK_PHRASES):
        return ExchangeBlocked(ep.REASON_REGION, status=status)
    cloudflare = _from_cloudflare(headers)
    challenge = any(phrase in text for phrase in ep.CHALLENGE_PHRASES)
    if challenge and (cloudflare or status in ep.BLOCK_STATUSES):
        return ExchangeBlocked(ep.REASON_CHALLENGE, status=status)
    if status == 403 or (200 <= status < 300 and cloudflare):
        return ExchangeBlocked(ep.reason_proxy(status), status=status)
    return None


def map_error(
    status: int, body: bytes | str, headers: Mapping[str, str], *, now: datetime | None = None
) -> ExchangeError:
    """Return the error for a non-2xx response (never raises)."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    codes = error_codes(text)
    detail = f"HTTP {status}" + (f": {', '.join(codes)}" if codes else "")
    if status == 429:
        return RateLimited(detail, retry_after_s=retry_after_s(headers, now))
    blocked = blocked_error(status, text, headers)
    if blocked is not None:
        return blocked
    if status == 404:  # JSON or a web server's HTML page: discovery tries the next family
        return NotFound(detail)
    if status >= 500 or _looks_like_html(text, headers):
        return ExchangeUnavailable(detail)
    if status in (401, 403) or any(c in ep.AUTH_CODES or c.startswith("authz.") for c in codes):
        return AuthError(detail)
    if any(c in ep.NOT_FOUND_CODES for c in codes):
        return NotFound(detail)
    if status in (400, 422) and codes:
        if any(c in ep.INSUFFICIENT_BALANCE_CODES for c in codes):
            return InsufficientBalance(detail)
        return InvalidOrder(detail)
    return MalformedResponse(f"unexpected error response: {detail}")
