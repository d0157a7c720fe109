"""Request signing and nonces for SafeTrade (Barong) private calls."""

from __future__ import annotations

import hashlib
import hmac

from bot.clock import Clock
from bot.exchange.safetrade import endpoints


def sign(secret: str, nonce: str, api_key: str) -> str:
    """Return the lowercase hex HMAC-SHA256 of ``nonce + api_key`` keyed by ``secret``."""
    message = (nonce + api_key).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def auth_headers(api_key: str, secret: str, nonce: str) -> dict[str, str]:
    """Return the three ``X-Auth-*`` headers of one private request."""
    return {
        endpoints.HEADER_APIKEY: api_key,
        endpoints.HEADER_NONCE: nonce,
        endpoints.HEADER_SIGNATURE: sign(secret, nonce, api_key),
    }


class NonceSource:
    """Strictly increasing millisecond nonces, corrected to the server's clock."""

    def __init__(self, clock: Clock, *, offset_s: float = 0.0) -> None:
        self._clock = clock
        self._offset_s = offset_s
        self._last = 0

    @property
    def offset_s(self) -> float:
        return self._offset_s

    def set_offset(self, offset_s: float) -> None:
        """Set the server-minus-local clock offset (from ``/trade/public/timestamp``)."""
        self._offset_s = offset_s

    def server_ms(self) -> int:
        """Return the estimated server time in milliseconds."""
        return int((self._clock.time() + self._offset_s) * 1000)

    def next(self) -> str:
        """Return the next nonce: server time in ms, and always above the previous one."""
        self._last = max(self.server_ms(), self._last + 1)
        return str(self._last)
