"""In-memory ``ExecutionStore`` for tests, ``sellbot bench`` and the reliability campaigns.

The daemon, paper mode (``SELLBOT_DRY_RUN``) included, keeps its rows in ``SqlExecutionStore``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import attrgetter

from bot.domain.executions import Execution
from bot.domain.money import ZERO
from bot.domain.orders import Fill
from bot.execution.store import (
    DuplicateClientId,
    OrderRecord,
    UnknownRecord,
    check_execution_transition,
    checked_order_update,
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    kind: str
    execution_id: str | None
    data: dict[str, str]


class MemoryExecutionStore:
    """Keeps rows in dicts; same contract as the SQL store."""

    def __init__(self) -> None:
        self.executions: dict[str, Execution] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.fills: dict[str, tuple[str, str, Fill]] = {}  # trade id -> (execution, client, fill)
        self.events: list[StoredEvent] = []
        self._filled: dict[str, dict[str, Decimal]] = {}  # execution -> client id -> filled
        self._fills_of: dict[str, list[Fill]] = {}  # execution -> its fills
        self._order_ids: dict[str, list[str]] = {}  # execution -> its orders' client ids

    async def create_execution(self, execution: Execution) -> None:
        if execution.id in self.executions:
            raise ValueError(f"execution {execution.id} exists")
        self.executions[execution.id] = execution

    async def get_execution(self, execution_id: str) -> Execution:
        try:
            return self.executions[execution_id]
        except KeyError as e:
            raise UnknownRecord(execution_id) from e

    async def update_execution(self, execution: Execution) -> None:
        old = self.executions.get(execution.id)
        if old is None:
            raise UnknownRecord(execution.id)
        check_execution_transition(execution.id, old.state, execution.state)
        self.executions[execution.id] = execution

    async def non_terminal_executions(self) -> list[Execution]:
        rows = [e for e in self.executions.values() if not e.state.terminal]
        return sorted(rows, key=lambda e: (e.created_at, e.id))

    async def value_since(self, since: datetime) -> Decimal:
        """Return the daily cap's ledger, as ``DailyLedger.value_since`` counts it."""
        total = ZERO
        for e in self.executions.values():
            finished = e.finished_at or e.created_at
            if not e.state.terminal or finished >= since:
                total += e.committed_value
        return total

    async def insert_order(self, order: OrderRecord) -> None:
        if order.client_id in self.orders:
            raise DuplicateClientId(order.client_id)
        self.orders[order.client_id] = order
        ids = self._order_ids.setdefault(order.execution_id, [])
        if order.client_id not in ids:  # a row deleted from ``orders`` by hand may come back
            ids.append(order.client_id)

    async def get_order(self, client_id: str) -> OrderRecord | None:
        return self.orders.get(client_id)

    async def update_order(self, order: OrderRecord) -> OrderRecord:
        old = self.orders.get(order.client_id)
        if old is None:
            raise UnknownRecord(order.client_id)
        self.orders[order.client_id] = checked_order_update(old, order)
        return order

    async def orders_for(self, execution_id: str) -> list[OrderRecord]:
        orders = self.orders
        rows = [orders[c] for c in self._order_ids.get(execution_id, ()) if c in orders]
        return sorted(rows, key=_SEQ)

    async def non_terminal_orders(self) -> list[OrderRecord]:
        rows = [o for o in self.orders.values() if not o.state.terminal]
        return sorted(rows, key=lambda o: (o.created_at, o.client_id))

    async def next_order_seq(self, execution_id: str) -> int:
        seqs = [o.seq for o in await self.orders_for(execution_id)]
        return max(seqs, default=0) + 1

    async def record_fill(self, execution_id: str, client_id: str, fill: Fill) -> bool:
        if fill.trade_id in self.fills:
            return False
        self.fills[fill.trade_id] = (execution_id, client_id, fill)
        by_order = self._filled.setdefault(execution_id, {})
        by_order[client_id] = by_order.get(client_id, ZERO) + fill.amount
        self._fills_of.setdefault(execution_id, []).append(fill)
        return True

    async def fills_for(self, execution_id: str) -> list[Fill]:
        return sorted(self._fills_of.get(execution_id, ()), key=_AT_TRADE)

    async def filled_by_order(self, execution_id: str) -> dict[str, Decimal]:
        return dict(self._filled.get(execution_id, {}))

    async def append_event(
        self, kind: str, execution_id: str | None, data: Mapping[str, str]
    ) -> None:
        self.events.append(StoredEvent(kind, execution_id, dict(data)))

    async def events_for(self, execution_id: str, kind: str) -> list[dict[str, str]]:
        return [
            dict(e.data) for e in self.events if e.execution_id == execution_id and e.kind == kind
        ]


_SEQ = attrgetter("seq")
_AT_TRADE = attrgetter("at", "trade_id")
