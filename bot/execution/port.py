"""The ``Executor`` port and the context every executor works in.

An executor is a small state machine driven by ``ExecutionRunner``: each ``step`` looks at
stored orders and fills (never at what it remembers sending), acts, and says when it wants
to be woken (``StepResult.wake_at``) or that it is done (``wake_at is None``). Because all
state it needs is persisted, a restarted process resumes an execution by building a fresh
executor and stepping it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from bot.clock import Clock
from bot.domain.executions import Execution
from bot.domain.market import Market
from bot.domain.money import ZERO
from bot.exchange.port import Exchange
from bot.execution.guards import ExecutionGuards
from bot.execution.store import ExecutionStore, OrderRecord, order_summary
from bot.execution.tracker import OrderTracker


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    exchange: Exchange
    tracker: OrderTracker
    store: ExecutionStore
    clock: Clock
    guards: ExecutionGuards
    market: Market
    bound: Decimal  # lowest price any order may carry (floor and slippage guard)
    seed: int | str | None = None

    def horizon_end(self, execution: Execution) -> float:
        started = execution.started_at or execution.created_at
        return _epoch(started) + execution.decision.horizon_s

    def started(self, execution: Execution) -> float:
        return _epoch(execution.started_at or execution.created_at)


def _epoch(at: datetime) -> float:
    return at.timestamp()


@dataclass(frozen=True, slots=True)
class Progress:
    """An execution's orders as stored, what they sold and the most they can still sell."""

    sold: Decimal
    committed: Decimal
    orders: list[OrderRecord]
    open: list[OrderRecord]  # the orders not yet terminal
    rejected: int  # how many the exchange refused

    @staticmethod
    def of(orders: list[OrderRecord], filled: Mapping[str, Decimal]) -> Progress:
        """Return the progress of ``orders`` with the recorded fills ``filled`` (by client id)."""
        committed, live, rejected = order_summary(orders, filled)
        return Progress(sum(filled.values(), ZERO), committed, orders, live, rejected)

    def room(self, execution: Execution) -> Decimal:
        """Return what may still be placed."""
        return max(ZERO, execution.allocated - self.committed)

    def newest_open_at(self) -> float | None:
        opened = self.open
        return max(o.created_at.timestamp() for o in opened) if opened else None


@dataclass(frozen=True, slots=True)
class StepResult:
    wake_at: float | None  # None: the executor is done
    note: str = ""
    progress: Progress | None = None  # read after the step's last write, if the step has it

    @property
    def done(self) -> bool:
        return self.wake_at is None


DONE = StepResult(None)


class Executor(Protocol):
    async def step(self, execution: Execution) -> StepResult:
        """Advance one step; return when to be woken, or ``DONE``."""
        ...


ExecutorFactory = Callable[[ExecutionContext, Execution], Executor]
