"""The simulator's check of SafeTrade's API-key authentication (written apart from the client).

Headers: ``X-Auth-Apikey``, ``X-Auth-Nonce`` (ms since the epoch) and ``X-Auth-Signature``,
the lowercase hex HMAC-SHA256 under the secret of ``nonce + apikey``. The nonce must lie
within ``window_s`` of the server clock and be greater than the last one seen for the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from bot.clock import Clock
from bot.sim.records import SimError

INVALID_SESSION = "authz.invalid_session"
KEY_NOT_ACTIVE = "authz.apikey_not_active"
BAD_NONCE = "authz.nonce_not_valid_timestamp"
BAD_SIGNATURE = "authz.invalid_signature"


def expected_signature(secret: str, nonce: str, api_key: str) -> str:
    return hmac.new(secret.encode(), (nonce + api_key).encode(), hashlib.sha256).hexdigest()


class Authenticator:
    """Verify signed requests; remember the last nonce per key."""

    def __init__(self, credentials: Mapping[str, str], clock: Clock, *, window_s: float) -> None:
        self._credentials = dict(credentials)
        self._clock = clock
        self._window_ms = window_s * 1000
        self._last_nonce: dict[str, int] = {}

    def add(self, api_key: str, secret: str) -> None:
        self._credentials[api_key] = secret

    def verify(self, headers: Mapping[str, str]) -> str:
        """Return the API key of a correctly signed request.

        Raises:
            SimError: 401 with the Barong code of the first check that fails.
        """
        key = headers.get("X-Auth-Apikey")
        nonce = headers.get("X-Auth-Nonce")
        signature = headers.get("X-Auth-Signature")
        if not key or not nonce or not signature:
            raise SimError(401, INVALID_SESSION)
        secret = self._credentials.get(key)
        if secret is None:
            raise SimError(401, KEY_NOT_ACTIVE)
        if not nonce.isdigit():
            raise SimError(401, BAD_NONCE)
        value = int(nonce)
        if abs(value - self._clock.time() * 1000) > self._window_ms:
            raise SimError(401, BAD_NONCE)
        if not hmac.compare_digest(expected_signature(secret, nonce, key), signature):
            raise SimError(401, BAD_SIGNATURE)
        if value <= self._last_nonce.get(key, -1):
            raise SimError(401, BAD_NONCE)
        self._last_nonce[key] = value
        return key
