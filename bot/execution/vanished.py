"""Re-check vanished orders: an order the exchange lists later is adopted, not lost.

A row is marked vanished when no lookup found its order past the unknown grace; an exchange
whose history lags, or a listing that failed then, can still show it later. For rows marked
vanished within ``vanished_recheck_s``, the market's recent orders are read and an order that
fits a row (its client id, else its shape within ``MATCH_WINDOW_S``; each exchange order to
one row, the closest first) is adopted: the row takes the order's state and fills, and the
execution's sold/proceeds/fees are recomputed from its fills, finished or not.

An adopted order is money already sold: it cannot be undone. When it makes an execution's
sold exceed its allocation (the sale re-sold what it thought had vanished), an
``execution_oversold`` event and an error log say so; an adopted order still open on a
finished execution is cancelled by the stray-order sweep, which bounds the excess.
Rows marked ``not_sent:*`` (refused before the exchange looked) are never re-checked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from bot.domain.orders import OrderState
from bot.exchange.errors import ExchangeError
from bot.exchange.port import Exchange
from bot.execution.order_match import MATCH_WINDOW_S, closest, recent_orders
from bot.execution.store import ExecutionStore, OrderRecord, execution_totals
from bot.execution.tracker import OrderTracker
from bot.logs import get_logger

log = get_logger("sellbot.vanished")


async def recheck_vanished(
    *,
    exchange: Exchange,
    store: ExecutionStore,
    tracker: OrderTracker,
    rows: list[OrderRecord],
    held: set[str],
) -> int:
    """Adopt the vanished ``rows`` whose orders the exchange now lists; return how many.

    ``held``: exchange ids rows already hold (they are never given to another row).
    """
    by_market: dict[str, list[OrderRecord]] = defaultdict(list)
    for row in rows:
        if row.state is OrderState.VANISHED and not row.note.startswith("not_sent"):
            by_market[row.market].append(row)
    taken = held | tracker.taken
    adopted = 0
    for market, group in sorted(by_market.items()):
        since = min(r.created_at for r in group) - timedelta(seconds=MATCH_WINDOW_S)
        try:
            listed = await recent_orders(exchange, market, since)
        except ExchangeError as e:
            log.warning("vanished_recheck_failed", market=market, error=type(e).__name__)
            continue
        listed = [o for o in listed if o.state is not OrderState.REJECTED]
        for row in sorted(group, key=lambda r: r.created_at):
            found = closest(row, listed, taken)
            if found is None:
                continue
            taken.add(found.id)
            await tracker.adopt_vanished(row, found)
            await refresh_totals(store, row.execution_id, row.client_id)
            adopted += 1
    return adopted


async def refresh_totals(store: ExecutionStore, execution_id: str, client_id: str) -> None:
    """Store the execution's totals from its fills; report a sale that sold past its allocation."""
    execution = await store.get_execution(execution_id)
    totals = await execution_totals(store, execution_id)
    updated = replace(execution, sold=totals.sold, proceeds=totals.proceeds, fees=totals.fees)
    if updated != execution:
        await store.update_execution(updated)
    if updated.sold > updated.allocated:
        data = {
            "sold": str(updated.sold),
            "allocated": str(updated.allocated),
            "client_id": client_id,
        }
        await store.append_event("execution_oversold", execution_id, data)
        log.error("execution_oversold", execution_id=execution_id, **data)
