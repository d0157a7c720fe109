"""Startup reconciliation: make the database agree with the exchange before anything is placed.

For every order the database holds as pending, unknown or open:

* found on the exchange (by exchange id, else by client id) → state, filled and trades updated;
* not found → it stays ``unknown`` until ``unknown_grace_s`` after it was written, then it is
  marked ``vanished`` (never re-sent).

Then, per market with unfinished executions, the exchange's recent orders are read: an order
with one of our client ids (``sb-{execution}-{seq}``) that the database does not know is
adopted (a row is inserted from the exchange's answer and its trades recorded); an order
without a client id is matched to a still-unresolved row by market, side, amount, price and
a time window (``order_match``: an exchange order goes to one row only, the closest in time;
the tracker does the same before it marks a row vanished). Finished orders whose recorded
fills trail what the exchange reported get their trades fetched. ``unfinished_executions``
then lists what the runner should resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.clock import Clock
from bot.domain.executions import Execution
from bot.domain.orders import Order, OrderState, Side
from bot.exchange.errors import ExchangeError
from bot.exchange.port import Exchange
from bot.execution.order_match import closest, held_exchange_ids
from bot.execution.store import DuplicateClientId, ExecutionStore, OrderRecord, UnknownRecord
from bot.execution.tracker import OrderTracker
from bot.ids import parse_client_order_id
from bot.logs import get_logger

log = get_logger("sellbot.reconcile")

ADOPT_WINDOW_S = 86_400.0


@dataclass
class ReconcileReport:
    checked: int = 0
    updated: int = 0
    adopted: int = 0
    matched: int = 0
    vanished: int = 0
    unresolved: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def reconcile(
    *,
    exchange: Exchange,
    store: ExecutionStore,
    tracker: OrderTracker,
    clock: Clock,
    adopt_window_s: float = ADOPT_WINDOW_S,
) -> ReconcileReport:
    """Bring every unfinished order and execution in line with the exchange."""
    report = ReconcileReport()
    for order in await store.non_terminal_orders():
        await _check_order(tracker, order, report)
    executions = await store.non_terminal_executions()
    for market in sorted({e.market for e in executions}):
        try:
            await _adopt_market(exchange, store, tracker, clock, market, adopt_window_s, report)
        except ExchangeError as e:
            report.errors.append(f"{market}:{type(e).__name__}")
    for execution in executions:
        for order in await store.orders_for(execution.id):
            if order.state.terminal and order.filled > 0:
                await tracker.sync_fills(order)
    await store.append_event(
        "reconciled",
        None,
        {
            "checked": str(report.checked),
            "updated": str(report.updated),
            "adopted": str(report.adopted),
            "matched": str(report.matched),
            "vanished": str(report.vanished),
            "unresolved": ",".join(report.unresolved),
        },
    )
    log.info(
        "reconciled",
        checked=report.checked,
        adopted=report.adopted,
        vanished=report.vanished,
        unresolved=len(report.unresolved),
    )
    return report


async def resolve_stray_orders(store: ExecutionStore, tracker: OrderTracker) -> int:
    """Settle orders still pending, unknown or open whose execution has ended.

    An execution whose close phase gave up (lookups failing through the whole unknown grace,
    a cancel never confirmed) leaves such rows; the periodic tracking job calls this so they
    do not wait for the next start: an unknown one is looked up (found → updated, missing
    past the grace → vanished), an open one is cancelled. Returns how many were settled.
    """
    settled = 0
    live = {e.id for e in await store.non_terminal_executions()}  # their runners own them
    for order in await store.non_terminal_orders():
        if order.execution_id in live:
            continue
        try:
            await store.get_execution(order.execution_id)
        except UnknownRecord:
            continue
        try:
            if order.exchange_id is None:
                after = await tracker.resolve_unknown(order)
            else:
                after = await tracker.cancel(order)
        except ExchangeError as e:
            log.warning("stray_order_unsettled", client_id=order.client_id, error=type(e).__name__)
            continue
        if after.state.terminal:
            settled += 1
            log.info("stray_order_settled", client_id=order.client_id, state=str(after.state))
    return settled


async def unfinished_executions(store: ExecutionStore) -> list[Execution]:
    """Return the executions the runner should resume, oldest first."""
    return await store.non_terminal_executions()


async def _check_order(tracker: OrderTracker, order: OrderRecord, report: ReconcileReport) -> None:
    report.checked += 1
    try:
        after = await tracker.refresh(order)
    except ExchangeError as e:
        report.errors.append(f"{order.client_id}:{type(e).__name__}")
        report.unresolved.append(order.client_id)
        return
    if after.state is OrderState.VANISHED:
        report.vanished += 1
    elif after.state is not order.state or after.filled != order.filled:
        report.updated += 1
    if not after.state.terminal and after.exchange_id is None:
        report.unresolved.append(order.client_id)


async def _adopt_market(
    exchange: Exchange,
    store: ExecutionStore,
    tracker: OrderTracker,
    clock: Clock,
    market: str,
    window_s: float,
    report: ReconcileReport,
) -> None:
    since = clock.now() - timedelta(seconds=window_s)
    seen: dict[str, Order] = {}
    for order in [*await exchange.open_orders(market), *await exchange.orders(market)]:
        if order.side is Side.SELL and order.created_at >= since:
            seen.setdefault(order.id, order)
    for order in seen.values():
        if order.client_id is not None:
            await _adopt_by_client_id(store, tracker, order, report)
        else:
            await _match_without_client_id(store, tracker, order, report)


async def _adopt_by_client_id(
    store: ExecutionStore, tracker: OrderTracker, order: Order, report: ReconcileReport
) -> None:
    if order.client_id is None:
        return
    parsed = parse_client_order_id(order.client_id)
    if parsed is None or await store.get_order(order.client_id) is not None:
        return
    execution_id, seq = parsed
    try:
        await store.get_execution(execution_id)
    except UnknownRecord:
        return  # not ours (another bot, or an execution this database never had)
    record = OrderRecord(
        client_id=order.client_id,
        execution_id=execution_id,
        seq=seq,
        market=order.market,
        side=order.side,
        type=order.type,
        amount=order.amount,
        price=order.price,
        state=OrderState.PENDING,
        created_at=order.created_at,
        note="adopted",
    )
    try:
        await store.insert_order(record)
    except DuplicateClientId:
        return
    await tracker.apply(order)
    report.adopted += 1
    await store.append_event("order_adopted", execution_id, {"client_id": order.client_id})


async def _match_without_client_id(
    store: ExecutionStore, tracker: OrderTracker, order: Order, report: ReconcileReport
) -> None:
    rows = await store.non_terminal_orders()
    held = tracker.taken | await held_exchange_ids(store, {r.execution_id for r in rows})
    if order.id in held:
        return  # a row already has it: never give one exchange order to two rows
    unresolved = [r for r in rows if r.exchange_id is None]
    fitting = [r for r in unresolved if closest(r, [order], held) is not None]
    if not fitting:
        return
    record = min(fitting, key=lambda r: abs((order.created_at - r.created_at).total_seconds()))
    tracker.take(order.id)
    await tracker.apply_to(record, order)
    report.matched += 1
