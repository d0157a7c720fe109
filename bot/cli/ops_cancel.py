"""`sellbot pause --cancel-open`: cancel on the exchange every order the database lists as open.

The rows are not changed here: the daemon that tracks an order sees the cancel on its next
poll (and a restarted daemon reconciles it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import OrderRow
from bot.db.reports import human_money, open_orders
from bot.exchange.errors import ExchangeError, NotFound
from bot.exchange.port import Exchange


@dataclass(slots=True)
class CancelTally:
    cancelled: int = 0
    gone: int = 0
    failed: int = 0

    def summary(self, total: int) -> str:
        return (
            f"cancel-open: {total} open order(s) in the database: {self.cancelled} cancelled, "
            f"{self.gone} not on the book, {self.failed} failed"
        )


async def _cancel_one(exchange: Exchange, row: OrderRow, tally: CancelTally) -> str:
    """Cancel one order; return the line that says what happened to it."""
    price = "market" if row.price is None else human_money(row.price)
    name = f"{row.client_id} ({row.market}, {human_money(row.amount)} at {price})"
    try:
        exchange_id = row.exchange_id
        if exchange_id is None:  # sent but never acknowledged: look it up by client id
            found = await exchange.find_order(row.market, row.client_id)
            if found is None:
                tally.gone += 1
                return f"  {name}: not on the exchange"
            exchange_id = found.id
        order = await exchange.cancel_order(exchange_id)
    except NotFound:
        tally.gone += 1
        return f"  {name}: not on the exchange"
    except ExchangeError as e:
        tally.failed += 1
        return f"  {name}: FAILED: {type(e).__name__}: {e}"
    tally.cancelled += 1
    return f"  {name}: exchange id {order.id}, now {order.state}"


async def cancel_open(
    sessions: async_sessionmaker[AsyncSession], exchange: Exchange, say: Callable[[str], None]
) -> int:
    """Cancel every open order of the database through ``exchange``; return how many failed."""
    rows = await open_orders(sessions)
    tally = CancelTally()
    for row in rows:
        say(await _cancel_one(exchange, row, tally))
    say(tally.summary(len(rows)))
    return tally.failed
