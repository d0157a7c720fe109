"""Find one market among those an exchange lists."""

from __future__ import annotations

from bot.domain.market import Market
from bot.exchange.port import Exchange


async def find_market(
    exchange: Exchange, market_id: str, known: dict[str, Market] | None = None
) -> Market | None:
    """Return the market ``market_id`` of ``exchange``, or None if it lists none by that id.

    With ``known`` (markets by id, kept by the caller), a market already there is returned
    without a request; otherwise every market the exchange lists is added to it."""
    if known is not None and market_id in known:
        return known[market_id]
    listed = {market.id: market for market in await exchange.markets()}
    if known is not None:
        known.update(listed)
    return listed.get(market_id)
