"""``OrderTracker``: the only code that sends, cancels or updates orders.

Every order is written ``pending`` (with its client id) before it is sent, then updated from
the exchange's answer, from polling (the order and its trades) and from the private stream.
A send whose outcome is unknown is resolved by ``find_order(market, client_id)``; it is never
re-sent. Past the unknown grace, before a row is marked vanished, the market's recent orders
are searched by shape (``order_match``): an exchange that does not echo client ids, after a
restart, has no other way to show the order. Fills are recorded by trade id, so seeing one
twice changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from bot.clock import Clock
from bot.domain.money import ZERO
from bot.domain.orders import Order, OrderRequest, OrderState, OrderType, Side
from bot.exchange.errors import (
    DefinitiveError,
    ExchangeBlocked,
    ExchangeError,
    MalformedResponse,
    NotFound,
    OrderOutcomeUnknown,
    RateLimited,
    TransientError,
)
from bot.exchange.port import Exchange
from bot.execution.keyed_locks import KeyedLocks
from bot.execution.order_match import MATCH_WINDOW_S, closest, held_exchange_ids, recent_orders
from bot.execution.store import ExecutionStore, OrderRecord
from bot.ids import client_order_id
from bot.logs import get_logger

log = get_logger("sellbot.tracker")

CANCEL_CONFIRM_POLLS = 5
TAKEN_KEPT = 4096  # exchange ids matched by shape in this process, newest kept


def _merged_state(current: OrderState, reported: OrderState) -> OrderState:
    """Return the state to store when the exchange reports ``reported``."""
    if current.terminal:
        return current
    if reported in (OrderState.PENDING, OrderState.UNKNOWN, OrderState.VANISHED):
        # exchange "pending" = accepted, not yet in the book: open to us
        return OrderState.OPEN
    if current is OrderState.OPEN and reported is OrderState.REJECTED:
        return OrderState.CANCELLED  # rejected after acceptance: nothing more can fill
    return reported


class OrderTracker:
    """Send, follow and cancel orders, keeping the store the source of truth."""

    def __init__(
        self,
        *,
        exchange: Exchange,
        store: ExecutionStore,
        clock: Clock,
        unknown_grace_s: float = 60.0,
        poll_interval_s: float = 2.0,
    ) -> None:
        self._exchange = exchange
        self._store = store
        self._clock = clock
        self._unknown_grace_s = unknown_grace_s
        self._poll_interval_s = poll_interval_s
        self._locks = KeyedLocks()
        self._taken: dict[str, None] = {}  # exchange ids matched by shape (an ordered set)
        self.vanished_checked_at: float | None = None  # monotonic time of the last re-check

    @property
    def taken(self) -> set[str]:
        """Return the exchange ids this process gave to a row by shape."""
        return set(self._taken)

    def take(self, order_id: str) -> None:
        """Remember that ``order_id`` belongs to a row: no other row may be matched to it."""
        self._taken[order_id] = None
        if len(self._taken) > TAKEN_KEPT:
            del self._taken[next(iter(self._taken))]

    @property
    def held_locks(self) -> int:
        """Return how many orders are being worked on now (0 when idle: none is kept)."""
        return len(self._locks)

    async def submit(
        self,
        execution_id: str,
        market: str,
        *,
        type: OrderType,
        amount: Decimal,
        price: Decimal | None,
    ) -> OrderRecord:
        """Write the order ``pending``, send it and apply the answer.

        Raises:
            RateLimited: the exchange refused before looking (the row is marked vanished).
        """
        seq = await self._store.next_order_seq(execution_id)
        record = OrderRecord(
            client_id=client_order_id(execution_id, seq),
            execution_id=execution_id,
            seq=seq,
            market=market,
            side=Side.SELL,
            type=type,
            amount=amount,
            price=price,
            state=OrderState.PENDING,
            created_at=self._clock.now(),
        )
        work = asyncio.ensure_future(self._write_and_send(record))
        try:
            record = await asyncio.shield(work)
        except asyncio.CancelledError:
            # an interruption (shutdown) must not leave a sent order's outcome unrecorded:
            # let the write, the POST and the answer finish (bounded by the client timeout)
            with contextlib.suppress(Exception):
                await work
            raise
        if record.state is OrderState.UNKNOWN:
            record = await self.resolve_unknown(record)
        log.info(
            "order_sent",
            client_id=record.client_id,
            state=str(record.state),
            amount=str(amount),
            price=str(price),
        )
        return record

    async def _write_and_send(self, record: OrderRecord) -> OrderRecord:
        """Write the row ``pending``, send the order, record the answer (or that it is unknown)."""
        await self._store.insert_order(record)
        request = OrderRequest(
            record.client_id, record.market, Side.SELL, record.type, record.amount, record.price
        )
        async with self._locks.hold(record.client_id):
            try:
                answer = await self._exchange.place_order(request)
            except RateLimited as e:
                # refused before it was looked at: the exchange never accepted it
                await self._set(record, state=OrderState.VANISHED, note="not_sent:rate_limited")
                raise RateLimited(str(e), retry_after_s=e.retry_after_s) from e
            except DefinitiveError as e:
                note = f"rejected:{type_name(e)}"
                record = await self._set(record, state=OrderState.REJECTED, note=note)
                await self._event("order_rejected", record, error=type_name(e))
                return record
            except (OrderOutcomeUnknown, TransientError, MalformedResponse, ExchangeBlocked) as e:
                record = await self._set(record, state=OrderState.UNKNOWN, note=type_name(e))
                await self._event("order_outcome_unknown", record, error=type_name(e))
                answer = None
            if answer is not None:
                record = await self._apply_locked(record, answer)
        return record

    async def apply(self, answer: Order) -> OrderRecord | None:
        """Apply an order update (poll or private stream) to the row with its client id."""
        if answer.client_id is None:
            return None
        record = await self._store.get_order(answer.client_id)
        if record is None:
            return None
        async with self._locks.hold(record.client_id):
            return await self._apply_locked(record, answer)

    async def apply_to(self, record: OrderRecord, answer: Order) -> OrderRecord:
        """Apply an exchange answer to ``record`` (a match found without a client id)."""
        async with self._locks.hold(record.client_id):
            return await self._apply_locked(record, answer)

    async def refresh(self, record: OrderRecord) -> OrderRecord:
        """Poll the order (and its trades) and store what changed."""
        if record.state.terminal:
            return await self.sync_fills(record)
        if record.exchange_id is None:
            return await self.resolve_unknown(record)
        try:
            answer = await self._exchange.get_order(record.exchange_id)
        except NotFound:
            return await self.resolve_unknown(record)
        async with self._locks.hold(record.client_id):
            return await self._apply_locked(record, answer)

    async def resolve_unknown(self, record: OrderRecord) -> OrderRecord:
        """Look the order up by client id: found → apply; missing past the grace → look for
        it by shape; still missing → vanished."""
        try:
            found = await self._exchange.find_order(record.market, record.client_id)
            if found is None and self._past_grace(record):
                found = await self._match_by_shape(record)
        except (TransientError, MalformedResponse, ExchangeBlocked):
            return record
        async with self._locks.hold(record.client_id):
            current = await self._store.get_order(record.client_id) or record
            if found is not None:
                return await self._apply_locked(current, found)
            if current.state.terminal:
                return current
            if self._past_grace(current):
                current = await self._set(current, state=OrderState.VANISHED, note="not_found")
                await self._event("order_vanished", current)
                return current
            if current.state is not OrderState.UNKNOWN:
                current = await self._set(current, state=OrderState.UNKNOWN)
            return current

    def _past_grace(self, record: OrderRecord) -> bool:
        return (self._clock.now() - record.created_at).total_seconds() >= self._unknown_grace_s

    async def _match_by_shape(self, record: OrderRecord) -> Order | None:
        since = record.created_at - timedelta(seconds=MATCH_WINDOW_S)
        listed = await recent_orders(self._exchange, record.market, since)
        taken = self.taken | await held_exchange_ids(self._store, [record.execution_id])
        found = closest(record, listed, taken)
        if found is not None:
            self.take(found.id)
            log.warning("order_matched_by_shape", client_id=record.client_id, order_id=found.id)
        return found

    async def adopt_vanished(self, record: OrderRecord, answer: Order) -> OrderRecord:
        """Give a vanished row the exchange order found later: its real state and fills."""
        self.take(answer.id)
        async with self._locks.hold(record.client_id):
            current = await self._store.get_order(record.client_id) or record
            if current.state is not OrderState.VANISHED:
                return current
            state = _merged_state(OrderState.OPEN, answer.state)
            current = await self._store.update_order(
                replace(
                    current,
                    state=state,
                    filled=answer.filled,
                    exchange_id=answer.id,
                    note="adopted_after_vanished",
                    updated_at=self._clock.now(),
                )
            )
        await self._event(
            "order_adopted_after_vanished", current, order_id=answer.id, state=str(state)
        )
        return await self.sync_fills(current)

    async def cancel(self, record: OrderRecord) -> OrderRecord:
        """Cancel the order and wait (polling on the clock) until it is terminal."""
        record = await self.refresh(record)
        for _ in range(CANCEL_CONFIRM_POLLS):
            if record.state.terminal:
                return record
            if record.exchange_id is None:  # unknown: only time and lookups resolve it
                await self._clock.sleep(self._poll_interval_s)
                record = await self.resolve_unknown(record)
                continue
            try:
                answer = await self._exchange.cancel_order(record.exchange_id)
            except NotFound:
                answer = await self._exchange.get_order(record.exchange_id)
            async with self._locks.hold(record.client_id):
                record = await self._apply_locked(record, answer)
            if not record.state.terminal:
                await self._clock.sleep(self._poll_interval_s)
                record = await self.refresh(record)
        return record

    async def sync_fills(self, record: OrderRecord) -> OrderRecord:
        """Fetch the order's trades when the exchange reports more filled than we recorded."""
        if record.exchange_id is None or record.filled <= 0:
            return record
        recorded = (await self._store.filled_by_order(record.execution_id)).get(
            record.client_id, ZERO
        )
        if recorded >= record.filled:
            return record
        trades = await self._exchange.order_trades(record.exchange_id)
        new = 0
        for fill in trades:
            if await self._store.record_fill(record.execution_id, record.client_id, fill):
                new += 1
        if new:
            log.info("fills_recorded", client_id=record.client_id, new=new)
        return record

    async def _apply_locked(self, record: OrderRecord, answer: Order) -> OrderRecord:
        current = await self._store.get_order(record.client_id) or record
        state = _merged_state(current.state, answer.state)
        filled = max(current.filled, answer.filled)
        changed = (
            state is not current.state
            or filled != current.filled
            or answer.id != current.exchange_id
        )
        if changed:
            old = current.state
            current = await self._store.update_order(
                replace(
                    current,
                    state=state,
                    filled=filled,
                    exchange_id=answer.id,
                    updated_at=self._clock.now(),
                )
            )
            if old is not state:
                log.info("order_state", client_id=current.client_id, old=str(old), new=str(state))
        return await self.sync_fills(current)

    async def _set(self, record: OrderRecord, *, state: OrderState, note: str = "") -> OrderRecord:
        current = await self._store.get_order(record.client_id) or record
        return await self._store.update_order(
            replace(current, state=state, note=note or current.note, updated_at=self._clock.now())
        )

    async def _event(self, kind: str, record: OrderRecord, **data: str) -> None:
        await self._store.append_event(
            kind, record.execution_id, {"client_id": record.client_id, **data}
        )
        log.info(kind, client_id=record.client_id, **data)


def type_name(e: ExchangeError | Exception) -> str:
    return type(e).__name__
