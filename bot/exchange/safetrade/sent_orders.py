"""What the client sent, so an order the exchange returns without our client id is still ours.

The exchange may not store or echo client ids (unknown for safe.trade). Each sent request is
remembered (the last ``capacity``); an order is attributed to a client id when we placed it or
found it, and a lost order is matched by the side, type, amount and price we sent, created
close to when we sent it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from bot.domain.orders import Order, OrderRequest, OrderType

log = structlog.get_logger()

MATCH_BEFORE = timedelta(seconds=30)
MATCH_AFTER = timedelta(seconds=120)


class SentOrders:
    """Requests we sent, and which exchange order belongs to which client id."""

    def __init__(self, capacity: int = 2000) -> None:
        self._capacity = capacity
        self._sent: OrderedDict[str, tuple[OrderRequest, datetime]] = OrderedDict()
        self._attributed: dict[str, str] = {}  # exchange order id → our client id

    def remember(self, request: OrderRequest, at: datetime) -> None:
        self._sent[request.client_id] = (request, at)
        self._sent.move_to_end(request.client_id)
        while len(self._sent) > self._capacity:
            self._sent.popitem(last=False)

    def attribute(self, order: Order, client_id: str) -> Order:
        """Record ``order`` as ours under ``client_id``; return it carrying that id."""
        self._attributed[order.id] = client_id
        return order if order.client_id == client_id else replace(order, client_id=client_id)

    def with_client_id(self, order: Order) -> Order:
        if order.client_id is None and order.id in self._attributed:
            return replace(order, client_id=self._attributed[order.id])
        return order

    def match_by_shape(self, client_id: str, batch: list[Order]) -> Order | None:
        """The unattributed order in ``batch`` that looks like what we sent as ``client_id``."""
        sent = self._sent.get(client_id)
        if sent is None:
            return None
        request, sent_at = sent
        candidates = [
            o
            for o in batch
            if o.client_id is None
            and o.id not in self._attributed
            and o.market == request.market
            and o.side is request.side
            and o.type is request.type
            and o.amount == request.amount
            and (request.type is OrderType.MARKET or o.price == request.price)
            and sent_at - MATCH_BEFORE <= o.created_at <= sent_at + MATCH_AFTER
        ]
        if not candidates:
            return None
        best = min(candidates, key=lambda o: abs((o.created_at - sent_at).total_seconds()))
        log.warning("order_matched_by_shape", client_id=client_id, order_id=best.id)
        return best
