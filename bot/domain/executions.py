"""An execution: one sale of one allocated amount on one market."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.domain.decisions import Decision
from bot.domain.money import BPS, ZERO


class ExecutionState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"  # sold everything sellable (a remainder below minimum is dust)
    PARTIAL = "partial"  # horizon ended with an unsold remainder
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in {
            ExecutionState.COMPLETED,
            ExecutionState.PARTIAL,
            ExecutionState.CANCELLED,
            ExecutionState.FAILED,
        }


EXECUTION_TRANSITIONS: frozenset[tuple[ExecutionState, ExecutionState]] = frozenset(
    {
        (ExecutionState.QUEUED, ExecutionState.RUNNING),
        (ExecutionState.QUEUED, ExecutionState.CANCELLED),
        (ExecutionState.QUEUED, ExecutionState.FAILED),
        (ExecutionState.RUNNING, ExecutionState.COMPLETED),
        (ExecutionState.RUNNING, ExecutionState.PARTIAL),
        (ExecutionState.RUNNING, ExecutionState.CANCELLED),
        (ExecutionState.RUNNING, ExecutionState.FAILED),
    }
)


@dataclass(frozen=True, slots=True)
class Execution:
    id: str
    market: str
    currency: str
    allocated: Decimal
    decision: Decision
    state: ExecutionState
    created_at: datetime
    priority: Decimal = ZERO
    arrival_mid: Decimal | None = None
    allocated_value: Decimal | None = None  # quote value of ``allocated`` when allocated
    sold: Decimal = ZERO
    proceeds: Decimal = ZERO
    fees: Decimal = ZERO
    started_at: datetime | None = None
    finished_at: datetime | None = None
    decision_id: int | None = None
    note: str = ""

    @property
    def avg_price(self) -> Decimal | None:
        return self.proceeds / self.sold if self.sold else None

    @property
    def shortfall_bps(self) -> Decimal | None:
        return shortfall_bps(self.arrival_mid, self.sold, self.proceeds)

    @property
    def committed_value(self) -> Decimal:
        """Return what this sale counts against the daily cap."""
        return committed_value(
            terminal=self.state.terminal,
            proceeds=self.proceeds,
            allocated=self.allocated,
            allocated_value=self.allocated_value,
            arrival_mid=self.arrival_mid,
        )


def committed_value(
    *,
    terminal: bool,
    proceeds: Decimal,
    allocated: Decimal,
    allocated_value: Decimal | None,
    arrival_mid: Decimal | None,
) -> Decimal:
    """Return a sale's weight on the daily cap: proceeds if finished, else max(proceeds, value)."""
    if terminal:
        return proceeds
    if allocated_value is None:  # a row from before allocated_value was stored
        allocated_value = allocated * arrival_mid if arrival_mid is not None else ZERO
    return max(proceeds, allocated_value)


def shortfall_bps(arrival_mid: Decimal | None, sold: Decimal, proceeds: Decimal) -> Decimal | None:
    """Return implementation shortfall of a sale vs the arrival mid, in bps (positive = cost)."""
    if not arrival_mid or sold <= 0:
        return None
    benchmark = arrival_mid * sold
    return (benchmark - proceeds) / benchmark * BPS
