"""Orders, fills and the order state machine.

Local states (what our database says about one order)::

    pending ──► open ──► filled
       │  │       └────► cancelled
       │  └────────────► filled | cancelled | rejected
       └──► unknown ──► open | filled | cancelled | rejected | vanished
    vanished ──► open | filled | cancelled    (adopted: the exchange listed it later)

``pending`` is written before the order is sent. ``unknown`` means the POST's outcome is not
known (timeout, lost response); it is resolved by lookup, never by re-sending. ``vanished``
means no lookup found it past the grace (by client id, nor by market, side, amount, price
and time). It is not final: an order the exchange lists later (within the re-check window)
is adopted, ``vanished → open | filled | cancelled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.domain.money import ZERO


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderState(StrEnum):
    PENDING = "pending"
    UNKNOWN = "unknown"
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    VANISHED = "vanished"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_ORDER_STATES


TERMINAL_ORDER_STATES = frozenset(
    {OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.VANISHED}
)

_P, _U, _O = OrderState.PENDING, OrderState.UNKNOWN, OrderState.OPEN
_F, _C, _R, _V = OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.VANISHED

TRANSITIONS: frozenset[tuple[OrderState, OrderState]] = frozenset(
    {
        (_P, _O), (_P, _F), (_P, _C), (_P, _R), (_P, _U), (_P, _V),
        (_U, _O), (_U, _F), (_U, _C), (_U, _R), (_U, _V),
        (_O, _O), (_O, _F), (_O, _C), (_O, _U),
        (_V, _O), (_V, _F), (_V, _C),  # adopted: the exchange showed the order later
    }
)  # fmt: skip


class IllegalTransition(Exception):
    """An order was asked to move between states the table does not allow."""

    def __init__(self, client_id: str, old: OrderState, new: OrderState) -> None:
        super().__init__(f"order {client_id}: illegal transition {old} -> {new}")
        self.client_id, self.old, self.new = client_id, old, new


def check_transition(client_id: str, old: OrderState, new: OrderState) -> None:
    """Raise ``IllegalTransition`` unless ``old -> new`` is allowed (staying put is allowed)."""
    if old is new or (old, new) in TRANSITIONS:
        return
    raise IllegalTransition(client_id, old, new)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_id: str
    market: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the exchange reports it (state mapped to ours)."""

    id: str
    client_id: str | None
    market: str
    side: Side
    type: OrderType
    price: Decimal | None
    amount: Decimal
    filled: Decimal
    avg_price: Decimal | None
    state: OrderState
    created_at: datetime
    updated_at: datetime | None = None

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.amount - self.filled)


@dataclass(frozen=True, slots=True)
class Fill:
    trade_id: str
    order_id: str
    market: str
    side: Side
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str
    at: datetime

    @property
    def total(self) -> Decimal:
        return self.price * self.amount


@dataclass(frozen=True, slots=True)
class FillTotals:
    sold: Decimal = ZERO
    proceeds: Decimal = ZERO
    fees: Decimal = ZERO
    count: int = 0


def fill_totals(fills: list[Fill]) -> FillTotals:
    """Return the totals of ``fills``."""
    sold = proceeds = fees = ZERO
    for f in fills:  # one pass: recomputed after every new fill
        sold += f.amount
        proceeds += f.total
        fees += f.fee
    return FillTotals(sold=sold, proceeds=proceeds, fees=fees, count=len(fills))
