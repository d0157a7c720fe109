"""Exchange errors, grouped by what the caller must do.

ExchangeError
├── DefinitiveError          the request was refused; retrying the same request is futile
│   ├── AuthError            bad key, signature or nonce (401/403)
│   ├── InsufficientBalance  not enough funds for the order (422)
│   ├── InvalidOrder         volume/price/precision/side/type refused (422)
│   └── NotFound             unknown order or market (404)
├── TransientError           try again later (reads are retried with back-off)
│   ├── RateLimited          429; ``retry_after_s`` when the server says
│   └── ExchangeUnavailable  5xx, connection failure, timeout, maintenance page
├── OrderOutcomeUnknown      an order write may or may not have happened: resolve by lookup
├── ExchangeBlocked          a Cloudflare challenge, a region block or a proxy's 403 page
│                            stands between us and the exchange: nothing to fix by retrying
│                            (reads are not retried), not an order outcome (an order write
│                            answered so is OrderOutcomeUnknown); ``reason`` says which
└── MalformedResponse        the body is not what the API promises (bad JSON, missing fields)
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Base of every error the exchange layer raises."""


class DefinitiveError(ExchangeError):
    pass


class AuthError(DefinitiveError):
    pass


class InsufficientBalance(DefinitiveError):
    pass


class InvalidOrder(DefinitiveError):
    pass


class NotFound(DefinitiveError):
    pass


class TransientError(ExchangeError):
    pass


class RateLimited(TransientError):
    def __init__(self, message: str = "rate limited", *, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ExchangeUnavailable(TransientError):
    pass


class OrderOutcomeUnknown(ExchangeError):
    def __init__(self, message: str = "order outcome unknown", *, client_id: str | None = None):
        super().__init__(message)
        self.client_id = client_id


class MalformedResponse(ExchangeError):
    pass


class ExchangeBlocked(ExchangeError):
    """The request was stopped in front of the exchange; ``reason`` is one short line."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
