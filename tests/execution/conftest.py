"""Execution fixtures: an in-process simulator with a hand-built book, a store, runners."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.clock import VirtualClock
from bot.domain.market import Market
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.runner import ExecutionRunner
from tests.execution.exec_helpers import Desk, Runners, make_market


@pytest.fixture
def market() -> Market:
    return make_market("abcusdt", amount_precision=4, price_precision=4, min_amount="0.01")


@pytest.fixture
def desk(clock: VirtualClock, market: Market) -> Desk:
    return Desk(clock, market)


@pytest.fixture
def store() -> MemoryExecutionStore:
    return MemoryExecutionStore()


@pytest.fixture
def guards() -> ExecutionGuards:
    return ExecutionGuards(
        max_slippage_bps=Decimal(200),
        min_order_value=Decimal(1),
        reprice_interval_s=30.0,
        poll_interval_s=2.0,
        unknown_grace_s=30.0,
    )


@pytest.fixture
def runners(
    desk: Desk, store: MemoryExecutionStore, clock: VirtualClock, guards: ExecutionGuards
) -> Runners:
    """Runners on the desk's exchange, the store and the guards (any of them swapped)."""
    return Runners(desk.exchange, store, clock, guards)


@pytest.fixture
def runner(runners: Runners) -> ExecutionRunner:
    return runners(seed=1)
