"""``SqlExecutionStore``: the ``ExecutionStore`` over SQLAlchemy rows (SQLite and PostgreSQL).

One short transaction per call. Order transitions are checked against the row as stored;
unique constraints on ``orders.client_id`` and ``fills.trade_id`` make order inserts and
fills idempotent even across processes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from bot.clock import Clock
from bot.db.models import EventRow, ExecutionRow, FillRow, OrderRow
from bot.db.repositories import decision_params
from bot.domain.decisions import Decision, StrategyName, Urgency
from bot.domain.executions import Execution, ExecutionState
from bot.domain.money import ZERO
from bot.domain.orders import Fill, OrderState, OrderType, Side
from bot.execution.store import (
    DuplicateClientId,
    OrderRecord,
    UnknownRecord,
    check_execution_transition,
    checked_order_update,
)

_NON_TERMINAL_ORDERS = [s.value for s in OrderState if not s.terminal]
_NON_TERMINAL_EXECUTIONS = [s.value for s in ExecutionState if not s.terminal]
_DECIMAL_PARAMS = ("limit_offset_bps", "display_frac", "max_slippage_bps")


_Row = TypeVar("_Row", ExecutionRow, OrderRow)
_T = TypeVar("_T")


def _oldest_first(
    row: type[_Row], states: list[str], tiebreak: InstrumentedAttribute[str]
) -> Select[_Row]:
    """Select the rows in one of ``states``, oldest first (``tiebreak`` orders equal times)."""
    return select(row).where(row.state.in_(states)).order_by(row.created_at, tiebreak)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _utc_opt(at: datetime | None) -> datetime | None:
    return None if at is None else _utc(at)


def _decision(strategy: str, params: dict[str, Any], reason: str) -> Decision:
    kwargs: dict[str, Any] = {}
    for key in ("horizon_s", "slices"):
        if key in params:
            kwargs[key] = int(params[key])
    for key in _DECIMAL_PARAMS:
        if key in params:
            kwargs[key] = Decimal(str(params[key]))
    if "urgency" in params:  # executions from before urgency run at the default
        kwargs["urgency"] = Urgency(str(params["urgency"]))
    kwargs.setdefault("horizon_s", 0)
    return Decision(strategy=StrategyName(strategy), reason=reason, **kwargs)


def _execution_from_row(row: ExecutionRow) -> Execution:
    params = dict(row.params)
    reason = str(params.pop("_reason", ""))
    return Execution(
        id=row.id,
        market=row.market,
        currency=row.currency,
        allocated=row.allocated,
        decision=_decision(row.strategy, params, reason),
        state=ExecutionState(row.state),
        created_at=_utc(row.created_at),
        priority=row.priority,
        arrival_mid=row.arrival_mid,
        allocated_value=row.allocated_value,
        sold=row.sold,
        proceeds=row.proceeds,
        fees=row.fees,
        started_at=_utc_opt(row.started_at),
        finished_at=_utc_opt(row.finished_at),
        decision_id=row.decision_id,
        note=row.note,
    )


def _copy_execution(row: ExecutionRow, execution: Execution) -> None:
    params = decision_params(execution.decision)
    params["_reason"] = execution.decision.reason
    row.market = execution.market
    row.currency = execution.currency
    row.allocated = execution.allocated
    row.strategy = execution.decision.strategy.value
    row.params = params
    row.state = execution.state.value
    row.priority = execution.priority
    row.arrival_mid = execution.arrival_mid
    row.allocated_value = execution.allocated_value
    row.sold = execution.sold
    row.proceeds = execution.proceeds
    row.fees = execution.fees
    row.shortfall_bps = execution.shortfall_bps
    row.decision_id = execution.decision_id
    row.created_at = execution.created_at
    row.started_at = execution.started_at
    row.finished_at = execution.finished_at
    row.note = execution.note


def _order_from_row(row: OrderRow) -> OrderRecord:
    return OrderRecord(
        client_id=row.client_id,
        execution_id=row.execution_id,
        seq=row.seq,
        market=row.market,
        side=Side(row.side),
        type=OrderType(row.type),
        amount=row.amount,
        price=row.price,
        state=OrderState(row.state),
        created_at=_utc(row.created_at),
        exchange_id=row.exchange_id,
        filled=row.filled,
        updated_at=_utc(row.updated_at) if row.updated_at != row.created_at else None,
    )


def _copy_order(row: OrderRow, order: OrderRecord) -> None:
    row.client_id = order.client_id
    row.execution_id = order.execution_id
    row.seq = order.seq
    row.exchange_id = order.exchange_id
    row.market = order.market
    row.side = order.side.value
    row.type = order.type.value
    row.price = order.price
    row.amount = order.amount
    row.filled = order.filled
    row.state = order.state.value
    row.created_at = order.created_at
    row.updated_at = order.updated_at or order.created_at


class SqlExecutionStore:
    """Executions, orders, fills and events in the database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create_execution(self, execution: Execution) -> None:
        row = ExecutionRow(id=execution.id)
        _copy_execution(row, execution)
        async with self._sessions.begin() as session:
            session.add(row)

    async def get_execution(self, execution_id: str) -> Execution:
        async with self._sessions() as session:
            row = await session.get(ExecutionRow, execution_id)
            if row is None:
                raise UnknownRecord(execution_id)
            return _execution_from_row(row)

    async def update_execution(self, execution: Execution) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(ExecutionRow, execution.id, with_for_update=True)
            if row is None:
                raise UnknownRecord(execution.id)
            check_execution_transition(execution.id, ExecutionState(row.state), execution.state)
            _copy_execution(row, execution)

    async def non_terminal_executions(self) -> list[Execution]:
        query = _oldest_first(ExecutionRow, _NON_TERMINAL_EXECUTIONS, ExecutionRow.id)
        return await self._read(query, _execution_from_row)

    async def insert_order(self, order: OrderRecord) -> None:
        row = OrderRow()
        _copy_order(row, order)
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError as e:
            raise DuplicateClientId(order.client_id) from e

    async def get_order(self, client_id: str) -> OrderRecord | None:
        async with self._sessions() as session:
            row = await self._order_row(session, client_id)
            return None if row is None else _order_from_row(row)

    @staticmethod
    async def _order_row(session: AsyncSession, client_id: str) -> OrderRow | None:
        query = select(OrderRow).where(OrderRow.client_id == client_id)
        return (await session.scalars(query)).one_or_none()

    async def update_order(self, order: OrderRecord) -> OrderRecord:
        async with self._sessions.begin() as session:
            row = await self._order_row(session, order.client_id)
            if row is None:
                raise UnknownRecord(order.client_id)
            checked_order_update(_order_from_row(row), order)
            _copy_order(row, order)
        return order

    async def orders_for(self, execution_id: str) -> list[OrderRecord]:
        query = select(OrderRow).where(OrderRow.execution_id == execution_id).order_by(OrderRow.seq)
        return await self._read(query, _order_from_row)

    async def non_terminal_orders(self) -> list[OrderRecord]:
        query = _oldest_first(OrderRow, _NON_TERMINAL_ORDERS, OrderRow.client_id)
        return await self._read(query, _order_from_row)

    async def _read(self, query: Select[_Row], record: Callable[[_Row], _T]) -> list[_T]:
        """Return the rows ``query`` selects, each made a record by ``record``."""
        async with self._sessions() as session:
            return [record(r) for r in (await session.scalars(query)).all()]

    async def next_order_seq(self, execution_id: str) -> int:
        query = select(func.max(OrderRow.seq)).where(OrderRow.execution_id == execution_id)
        async with self._sessions() as session:
            top = (await session.execute(query)).scalar_one_or_none()
        return (top or 0) + 1

    async def record_fill(self, execution_id: str, client_id: str, fill: Fill) -> bool:
        row = FillRow(
            trade_id=fill.trade_id,
            order_client_id=client_id,
            execution_id=execution_id,
            market=fill.market,
            price=fill.price,
            amount=fill.amount,
            fee=fill.fee,
            fee_currency=fill.fee_currency,
            at=fill.at,
        )
        try:
            async with self._sessions.begin() as session:
                exists = await session.scalar(
                    select(FillRow.id).where(FillRow.trade_id == fill.trade_id)
                )
                if exists is not None:
                    return False
                session.add(row)
        except IntegrityError:
            return False  # a concurrent writer recorded it first
        return True

    async def fills_for(self, execution_id: str) -> list[Fill]:
        query = (
            select(FillRow, OrderRow.exchange_id, OrderRow.side)
            .join(OrderRow, OrderRow.client_id == FillRow.order_client_id)
            .where(FillRow.execution_id == execution_id)
            .order_by(FillRow.at, FillRow.trade_id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            Fill(
                trade_id=f.trade_id,
                order_id=exchange_id or "",
                market=f.market,
                side=Side(side),
                price=f.price,
                amount=f.amount,
                fee=f.fee,
                fee_currency=f.fee_currency,
                at=_utc(f.at),
            )
            for f, exchange_id, side in rows
        ]

    async def filled_by_order(self, execution_id: str) -> dict[str, Decimal]:
        # money is summed in Python: on SQLite the column is text
        query = select(FillRow.order_client_id, FillRow.amount).where(
            FillRow.execution_id == execution_id
        )
        out: dict[str, Decimal] = {}
        async with self._sessions() as session:
            for client_id, amount in (await session.execute(query)).all():
                out[client_id] = out.get(client_id, ZERO) + amount
        return out

    async def append_event(
        self, kind: str, execution_id: str | None, data: Mapping[str, str]
    ) -> None:
        async with self._sessions.begin() as session:
            session.add(
                EventRow(
                    at=self._clock.now(),
                    kind=kind,
                    execution_id=execution_id,
                    client_id=data.get("client_id"),
                    data=dict(data),
                )
            )

    async def events_for(self, execution_id: str, kind: str) -> list[dict[str, str]]:
        query = (
            select(EventRow.data)
            .where(EventRow.execution_id == execution_id, EventRow.kind == kind)
            .order_by(EventRow.id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [{str(k): str(v) for k, v in data.items()} for data in rows]
