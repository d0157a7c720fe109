"""Find the exchange order behind a row whose outcome is unknown, without a client id.

An exchange that does not echo client ids (SafeTrade may not) leaves only the order's shape:
the same market, side, type, amount and (limit) price, created within ``MATCH_WINDOW_S`` of
the row. Each exchange order is given to at most one row (``taken``), the closest in time
first; an order carrying another client id is never matched.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.domain.orders import Order, OrderType
from bot.exchange.port import Exchange
from bot.execution.store import ExecutionStore, OrderRecord

MATCH_WINDOW_S = 300.0
LIST_LIMIT = 100
MAX_PAGES = 10  # 1,000 orders per market: far more than a sale places in the window


async def recent_orders(exchange: Exchange, market: str, since: datetime) -> list[Order]:
    """Return the market's orders (every state) created at or after ``since``, newest first."""
    found: list[Order] = []
    for page in range(1, MAX_PAGES + 1):
        batch = await exchange.orders(market, page=page, limit=LIST_LIMIT)
        found.extend(o for o in batch if o.created_at >= since)
        if len(batch) < LIST_LIMIT or batch[-1].created_at < since:
            break
    return found


def fits(record: OrderRecord, order: Order, window_s: float = MATCH_WINDOW_S) -> bool:
    """Return whether ``order`` may be the one ``record`` sent."""
    if order.client_id is not None:
        return order.client_id == record.client_id
    return (
        order.market == record.market
        and order.side is record.side
        and order.type is record.type
        and order.amount == record.amount
        and (record.type is OrderType.MARKET or order.price == record.price)
        and abs((order.created_at - record.created_at).total_seconds()) <= window_s
    )


def closest(
    record: OrderRecord,
    orders: Iterable[Order],
    taken: set[str],
    window_s: float = MATCH_WINDOW_S,
) -> Order | None:
    """Return the untaken order that fits ``record``, its own client id first, else the
    closest in time."""
    fitting = [o for o in orders if o.id not in taken and fits(record, o, window_s)]
    if not fitting:
        return None
    return min(
        fitting,
        key=lambda o: (
            o.client_id != record.client_id,
            abs((o.created_at - record.created_at).total_seconds()),
        ),
    )


async def held_exchange_ids(store: ExecutionStore, execution_ids: Iterable[str]) -> set[str]:
    """Return the exchange ids rows already hold: the given executions' and every unfinished
    row's."""
    held = {o.exchange_id for o in await store.non_terminal_orders() if o.exchange_id}
    for execution_id in set(execution_ids):
        held.update(o.exchange_id for o in await store.orders_for(execution_id) if o.exchange_id)
    return held
