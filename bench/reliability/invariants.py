"""The money invariants, computed from both sides: the exchange's orders and the database's rows.

* **oversold**: for each execution, what the exchange says its orders filled, beyond the
  allocation (summed over executions, in base units of each market);
* **duplicates**: extra copies of a client order id on the exchange, plus orders of ours
  on the exchange that carry no client id;
* **unknown open**: orders open on the exchange whose client id has no database row;
* **disagreeing**: database orders whose state or filled amount differs from the exchange
  (a row still ``pending``/``unknown``/``open`` with no exchange order counts too);
* **stuck**: executions not terminal past ``start + horizon + grace``;
* **completion**: executions ``completed`` among those whose market stayed open for them;
  a campaign may also count *sales* (a balance sold to below the market minimum, possibly
  over several executions: a sale the daemon re-queues after a partial execution counts
  once), which is what the >= 99% target is checked on when counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import ExecutionRow, FillRow, OrderRow
from bot.domain.orders import Order, OrderState

TERMINAL_EXECUTIONS = frozenset({"completed", "partial", "failed", "cancelled"})
OPEN_DB_STATES = frozenset({"pending", "unknown", "open"})


@dataclass(frozen=True, slots=True)
class Window:
    """A market closed (maintenance) between two epoch seconds."""

    market: str
    start: float
    end: float


@dataclass
class InvariantReport:
    """The figures of one campaign; ``ok`` when every must-be-zero figure is zero."""

    executions: int = 0
    orders_on_exchange: int = 0
    fills: int = 0
    oversold: Decimal = Decimal(0)
    duplicates: int = 0
    unknown_open: int = 0
    disagreeing: int = 0
    stuck: int = 0
    eligible: int = 0
    completed: int = 0
    sales: int = 0  # balances put up for sale (set by the campaign), outside maintenance
    sales_completed: int = 0  # ... of which nothing sellable was left at the end of the round
    states: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)

    @property
    def execution_completion(self) -> float:
        return self.completed / self.eligible if self.eligible else 1.0

    @property
    def completion(self) -> float:
        """Share of sales completed (execution-level when no sale was counted)."""
        if self.sales:
            return self.sales_completed / self.sales
        return self.execution_completion

    @property
    def ok(self) -> bool:
        zero = (self.oversold, self.duplicates, self.unknown_open, self.disagreeing, self.stuck)
        return all(v == 0 for v in zero) and self.completion >= 0.99

    def merge(self, other: InvariantReport) -> InvariantReport:
        """Return the sum of two reports (campaigns split across seeds or processes)."""
        return InvariantReport(
            executions=self.executions + other.executions,
            orders_on_exchange=self.orders_on_exchange + other.orders_on_exchange,
            fills=self.fills + other.fills,
            oversold=self.oversold + other.oversold,
            duplicates=self.duplicates + other.duplicates,
            unknown_open=self.unknown_open + other.unknown_open,
            disagreeing=self.disagreeing + other.disagreeing,
            stuck=self.stuck + other.stuck,
            eligible=self.eligible + other.eligible,
            completed=self.completed + other.completed,
            sales=self.sales + other.sales,
            sales_completed=self.sales_completed + other.sales_completed,
            states=self.states + other.states,
            details=self.details + other.details,
        )


@dataclass
class DbView:
    executions: list[ExecutionRow]
    orders: list[OrderRow]
    fills: list[FillRow]


async def read_db(sessions: async_sessionmaker[AsyncSession]) -> DbView:
    async with sessions() as session:
        executions = list((await session.execute(select(ExecutionRow))).scalars())
        orders = list((await session.execute(select(OrderRow))).scalars())
        fills = list((await session.execute(select(FillRow))).scalars())
    return DbView(executions, orders, fills)


def _epoch(at: datetime | None) -> float | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _execution_of(client_id: str | None) -> str | None:
    """``sb-{execution_id}-{seq}`` → execution id (None for orders that are not ours)."""
    if not client_id or not client_id.startswith("sb-"):
        return None
    return client_id[3:].rsplit("-", 1)[0]


def _overlaps(row: ExecutionRow, windows: Iterable[Window], now: float) -> bool:
    start = _epoch(row.created_at) or now
    end = _epoch(row.finished_at) or now
    return any(w.market == row.market and w.start <= end and start <= w.end for w in windows)


def check(
    db: DbView,
    exchange_orders: Sequence[Order],
    *,
    now: float,
    grace_s: float = 300.0,
    maintenance: Sequence[Window] = (),
) -> InvariantReport:
    """Compare the exchange's orders with the database's rows at ``now``."""
    report = InvariantReport(
        executions=len(db.executions), orders_on_exchange=len(exchange_orders), fills=len(db.fills)
    )
    _orders(report, db, exchange_orders)
    _executions(report, db, exchange_orders, now, grace_s, maintenance)
    return report


def _orders(report: InvariantReport, db: DbView, exchange_orders: Sequence[Order]) -> None:
    counts = Counter(o.client_id for o in exchange_orders)
    report.duplicates = counts.pop(None, 0) + sum(n - 1 for n in counts.values() if n > 1)
    rows = {r.client_id: r for r in db.orders}
    by_client = {o.client_id: o for o in exchange_orders if o.client_id}
    for o in exchange_orders:
        if o.state is OrderState.OPEN and o.client_id not in rows:
            report.unknown_open += 1
            report.details.append(f"unknown open order {o.client_id} on {o.market}")
    for row in db.orders:
        seen = by_client.get(row.client_id)
        if seen is None:
            if row.state in OPEN_DB_STATES:
                report.disagreeing += 1
                report.details.append(f"{row.client_id}: {row.state} in db, absent on exchange")
            continue
        if seen.state.value != row.state or seen.filled != row.filled:
            report.disagreeing += 1
            report.details.append(
                f"{row.client_id}: db {row.state}/{row.filled}, "
                f"exchange {seen.state.value}/{seen.filled}"
            )


def _executions(
    report: InvariantReport,
    db: DbView,
    exchange_orders: Sequence[Order],
    now: float,
    grace_s: float,
    maintenance: Sequence[Window],
) -> None:
    sold_on_exchange: Counter[str] = Counter()
    for o in exchange_orders:
        execution_id = _execution_of(o.client_id)
        if execution_id is not None:
            sold_on_exchange[execution_id] += o.filled  # type: ignore[assignment]
    for row in db.executions:
        report.states[row.state] += 1
        over = Decimal(sold_on_exchange[row.id]) - row.allocated
        if over > 0:
            report.oversold += over
            report.details.append(f"execution {row.id} oversold by {over}")
        horizon = float(row.params.get("horizon_s", 0))
        start = _epoch(row.started_at) or _epoch(row.created_at) or now
        if row.state not in TERMINAL_EXECUTIONS and start + horizon + grace_s < now:
            report.stuck += 1
            report.details.append(f"execution {row.id} stuck in {row.state}")
        if _overlaps(row, maintenance, now):
            continue
        report.eligible += 1
        if row.state == "completed":
            report.completed += 1
        else:
            report.details.append(
                f"execution {row.id} ({row.strategy}) ended {row.state}: "
                f"sold {row.sold} of {row.allocated} ({row.note})"
            )
