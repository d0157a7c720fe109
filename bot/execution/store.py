"""``ExecutionStore``: what executions need from storage, and the order row they keep.

Two implementations share one contract test: ``bot.db.execution_store.SqlExecutionStore``
(the daemon, paper mode included) and ``bot.execution.memory_store.MemoryExecutionStore``
(tests, ``sellbot bench``, the reliability campaigns).

The amount an execution may still place is derived from stored rows only::

    committed = Σ amount of non-terminal orders + Σ max(reported filled, recorded fills) of the rest
    placeable = allocated - committed

so partial fills, cancels racing fills, unknown outcomes and restarts can never oversell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from bot.domain.executions import EXECUTION_TRANSITIONS, Execution, ExecutionState
from bot.domain.money import ZERO
from bot.domain.orders import (
    TERMINAL_ORDER_STATES,
    Fill,
    FillTotals,
    OrderState,
    OrderType,
    Side,
    check_transition,
    fill_totals,
)


class DuplicateClientId(Exception):
    """An order row with this client id already exists."""


class UnknownRecord(LookupError):
    """No execution or order row with that id."""


class IllegalExecutionTransition(Exception):
    def __init__(self, execution_id: str, old: ExecutionState, new: ExecutionState) -> None:
        super().__init__(f"execution {execution_id}: illegal transition {old} -> {new}")
        self.execution_id, self.old, self.new = execution_id, old, new


def check_execution_transition(execution_id: str, old: ExecutionState, new: ExecutionState) -> None:
    """Raise ``IllegalExecutionTransition`` unless ``old -> new`` is allowed (or unchanged)."""
    if old is new or (old, new) in EXECUTION_TRANSITIONS:
        return
    raise IllegalExecutionTransition(execution_id, old, new)


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """Our row for one order: written ``pending`` before it is sent."""

    client_id: str
    execution_id: str
    seq: int
    market: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None
    state: OrderState
    created_at: datetime
    exchange_id: str | None = None
    filled: Decimal = ZERO  # executed amount as the exchange last reported it
    updated_at: datetime | None = None
    note: str = ""


def committed_amount(orders: list[OrderRecord], filled_by_order: Mapping[str, Decimal]) -> Decimal:
    """Return what ``orders`` may sell at most: open/unknown in full, the rest as filled."""
    return order_summary(orders, filled_by_order)[0]


def order_summary(
    orders: list[OrderRecord], filled_by_order: Mapping[str, Decimal]
) -> tuple[Decimal, list[OrderRecord], int]:
    """Return ``committed_amount``, the orders not yet terminal and how many were rejected,
    in one pass (every executor step reads them)."""
    total = ZERO
    live: list[OrderRecord] = []
    rejected = 0
    get = filled_by_order.get
    for order in orders:
        state = order.state
        if state in TERMINAL_ORDER_STATES:  # the hot path: no property call
            filled = get(order.client_id, ZERO)
            total += order.filled if order.filled >= filled else filled
            if state is OrderState.REJECTED:
                rejected += 1
        else:
            total += order.amount
            live.append(order)
    return total, live, rejected


class ExecutionStore(Protocol):
    async def create_execution(self, execution: Execution) -> None:
        """Insert a new execution."""
        ...

    async def get_execution(self, execution_id: str) -> Execution:
        """Return the execution. Raises: UnknownRecord."""
        ...

    async def update_execution(self, execution: Execution) -> None:
        """Replace the stored execution. Raises: IllegalExecutionTransition, UnknownRecord."""
        ...

    async def non_terminal_executions(self) -> list[Execution]:
        """Return every queued or running execution, oldest first."""
        ...

    async def insert_order(self, order: OrderRecord) -> None:
        """Write a new order row (before it is sent). Raises: DuplicateClientId."""
        ...

    async def get_order(self, client_id: str) -> OrderRecord | None: ...

    async def update_order(self, order: OrderRecord) -> OrderRecord:
        """Replace the order row, checking the state transition. Raises: IllegalTransition."""
        ...

    async def orders_for(self, execution_id: str) -> list[OrderRecord]:
        """Return the execution's orders by sequence."""
        ...

    async def non_terminal_orders(self) -> list[OrderRecord]:
        """Return every order still pending, unknown or open."""
        ...

    async def next_order_seq(self, execution_id: str) -> int:
        """Return one more than the highest order sequence of the execution (1 for the first)."""
        ...

    async def record_fill(self, execution_id: str, client_id: str, fill: Fill) -> bool:
        """Store ``fill`` unless its trade id is known; return whether it was new."""
        ...

    async def fills_for(self, execution_id: str) -> list[Fill]: ...

    async def filled_by_order(self, execution_id: str) -> dict[str, Decimal]:
        """Return client id → recorded filled amount for the execution's orders."""
        ...

    async def append_event(
        self, kind: str, execution_id: str | None, data: Mapping[str, str]
    ) -> None:
        """Append an audit event."""
        ...

    async def events_for(self, execution_id: str, kind: str) -> list[dict[str, str]]:
        """Return the data of the execution's events of ``kind``, oldest first."""
        ...


async def execution_totals(store: ExecutionStore, execution_id: str) -> FillTotals:
    """Return sold, proceeds and fees from the execution's recorded fills."""
    return fill_totals(await store.fills_for(execution_id))


async def committed_for(store: ExecutionStore, execution_id: str) -> Decimal:
    """Return the most the execution's orders can ever sell, from stored rows."""
    orders = await store.orders_for(execution_id)
    return committed_amount(orders, await store.filled_by_order(execution_id))


def checked_order_update(old: OrderRecord, new: OrderRecord) -> OrderRecord:
    """Return ``new`` after checking the state transition from ``old``."""
    check_transition(old.client_id, old.state, new.state)
    return new
