"""Blocks in front of the WebSocket: tell a refused handshake's block, and log it once.

Neither transport keeps the body of a refused handshake (``TransportError`` keeps the status
and headers), so a region block shows here as "blocked by a proxy (HTTP 403)"; REST, which
reads the page, says "region blocked".
"""

from __future__ import annotations

from typing import Final

from bot.exchange.errors import ExchangeBlocked
from bot.exchange.safetrade import endpoints
from bot.exchange.safetrade.errors import blocked_error
from bot.exchange.safetrade.transport import TransportError
from bot.logs import get_logger

log = get_logger("sellbot.stream")

USER_AGENT_HEADERS: Final = {endpoints.HEADER_USER_AGENT: endpoints.USER_AGENT}


def handshake_block(error: BaseException | None) -> ExchangeBlocked | None:
    """Return the block a refused handshake is (from its status and headers), or None."""
    if not isinstance(error, TransportError) or error.status is None:
        return None
    return blocked_error(error.status, "", error.headers)


class BlockNotice:
    """Log ``exchange_blocked`` once per block: again only after it changed or cleared."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def note(self, stream: str, error: BaseException | None) -> ExchangeBlocked | None:
        """Record how a connection attempt ended (``None``: it connected); return its block."""
        block = handshake_block(error)
        if block is not None and block.reason != self.reason:
            log.warning("exchange_blocked", stream=stream, reason=block.reason, status=block.status)
        self.reason = None if block is None else block.reason
        return block
