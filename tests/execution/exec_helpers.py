"""Small builders shared by the execution tests."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.clock import VirtualClock
from bot.domain.decisions import Decision, StrategyName
from bot.domain.executions import Execution, ExecutionState
from bot.domain.market import BookLevel, Market, OrderBook
from bot.domain.orders import Fill, Order, OrderRequest, OrderState, OrderType, Side
from bot.exchange.port import Exchange
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.reconcile import ReconcileReport, reconcile, unfinished_executions
from bot.execution.runner import ExecutionRunner
from bot.execution.store import ExecutionStore, OrderRecord
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_market(
    market_id: str = "abcusdt",
    *,
    amount_precision: int = 4,
    price_precision: int = 4,
    min_amount: str = "0.01",
) -> Market:
    return Market(
        id=market_id,
        base=market_id[:-4],
        quote="usdt",
        amount_precision=amount_precision,
        price_precision=price_precision,
        min_amount=Decimal(min_amount),
    )


def make_book(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], market: str = "abcusdt"
) -> OrderBook:
    return OrderBook(
        market=market,
        bids=tuple(BookLevel(Decimal(p), Decimal(a)) for p, a in bids),
        asks=tuple(BookLevel(Decimal(p), Decimal(a)) for p, a in asks),
    )


def make_execution(
    execution_id: str = "ex1",
    *,
    market: str = "abcusdt",
    allocated: str = "10",
    strategy: StrategyName = StrategyName.MARKET,
    horizon_s: int = 600,
    slices: int = 1,
    state: ExecutionState = ExecutionState.QUEUED,
    **decision: Any,
) -> Execution:
    return Execution(
        id=execution_id,
        market=market,
        currency=market[:-4],
        allocated=Decimal(allocated),
        decision=replace(
            Decision(strategy=strategy, horizon_s=horizon_s, slices=slices), **decision
        ),
        state=state,
        created_at=T0,
    )


def make_order(
    client_id: str = "sb-ex1-1",
    *,
    execution_id: str = "ex1",
    seq: int = 1,
    amount: str = "1",
    price: str | None = "1",
    state: OrderState = OrderState.PENDING,
    created_at: datetime = T0,
) -> OrderRecord:
    return OrderRecord(
        client_id=client_id,
        execution_id=execution_id,
        seq=seq,
        market="abcusdt",
        side=Side.SELL,
        type=OrderType.LIMIT,
        amount=Decimal(amount),
        price=None if price is None else Decimal(price),
        state=state,
        created_at=created_at,
    )


def make_fill(trade_id: str, amount: str, price: str = "1", order_id: str = "o1") -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=order_id,
        market="abcusdt",
        side=Side.SELL,
        price=Decimal(price),
        amount=Decimal(amount),
        fee=Decimal("0.001"),
        fee_currency="usdt",
        at=T0,
    )


BOT_KEY = "bot-key"
MAKER_KEY = "maker-key"
BOT_DEPOSIT = Decimal(1_000_000)  # of the market's base currency


class Desk:
    """A simulator with a bot account and a maker who builds the book by hand."""

    def __init__(self, clock: VirtualClock, market: Market) -> None:
        self.clock = clock
        self.market = market
        self.engine = MatchingEngine(clock, random.Random(7))
        self.engine.add_market(market)
        self.engine.deposit(BOT_KEY, market.base, BOT_DEPOSIT)
        self.engine.deposit(MAKER_KEY, market.quote, Decimal(10) ** 12)
        self.engine.deposit(MAKER_KEY, market.base, Decimal(10) ** 12)
        self.exchange = SimExchange(self.engine, BOT_KEY, clock=clock)

    def bid(self, price: str, amount: str) -> None:
        self.engine.place_order(
            MAKER_KEY, self.market.id, Side.BUY, OrderType.LIMIT, Decimal(amount), Decimal(price)
        )

    def ask(self, price: str, amount: str) -> None:
        self.engine.place_order(
            MAKER_KEY, self.market.id, Side.SELL, OrderType.LIMIT, Decimal(amount), Decimal(price)
        )

    def wide_book(self) -> None:
        """A bid of 10 at 1.0000 and an ask of 10 at 1.0200: room for a passive ask inside."""
        self.bid("1.0000", "10")
        self.ask("1.0200", "10")

    def deep_book(self, ask: str = "10") -> None:
        """A bid of 1000 at 1.0000, deep enough for any sale here, and an ask at 1.0100."""
        self.bid("1.0000", "1000")
        self.ask("1.0100", ask)

    def clear(self) -> None:
        """Cancel every maker order."""
        self.engine.cancel_all(MAKER_KEY, self.market.id)

    def buy(self, amount: str) -> None:
        """A taker buys ``amount`` at market (lifts the asks, ours included)."""
        self.engine.place_order(
            MAKER_KEY, self.market.id, Side.BUY, OrderType.MARKET, Decimal(amount)
        )

    async def bot_open_orders(self) -> list[str]:
        return [o.client_id or o.id for o in await self.exchange.open_orders(self.market.id)]

    def bot_sold(self) -> Decimal:
        """What the bot's account has sold: its deposit less the base it holds now."""
        return BOT_DEPOSIT - self.engine.balance(BOT_KEY, self.market.base).total


class Crash(BaseException):
    """The process dies here: nothing after this point runs, no cleanup."""


class CrashAfterPlace(SimExchange):
    """The exchange accepts the n-th order, then the process dies before reading the answer."""

    def __init__(self, desk: Desk, crash_on: int = 1) -> None:
        super().__init__(desk.engine, BOT_KEY, clock=desk.clock)
        self.crash_on, self.placed = crash_on, 0

    async def place_order(self, request: OrderRequest) -> Order:
        order = await super().place_order(request)
        self.placed += 1
        if self.placed == self.crash_on:
            raise Crash
        return order


class CrashAfterWrite(MemoryExecutionStore):
    """The n-th pending row is written, then the process dies before sending it."""

    def __init__(self, crash_on: int) -> None:
        super().__init__()
        self.crash_on, self.inserted = crash_on, 0

    async def insert_order(self, order: OrderRecord) -> None:
        await super().insert_order(order)
        self.inserted += 1
        if self.inserted == self.crash_on:
            raise Crash


@dataclass
class Restarted:
    """A new process after a crash: its runner, what reconciling found, what it resumed."""

    runner: ExecutionRunner
    report: ReconcileReport
    results: list[Execution]


@dataclass
class Runners:
    """Runners over one exchange, store, clock and guards; a test swaps any part it needs."""

    exchange: Exchange
    store: MemoryExecutionStore
    clock: VirtualClock
    guards: ExecutionGuards

    def __call__(
        self,
        *,
        exchange: Exchange | None = None,
        store: ExecutionStore | None = None,
        guards: ExecutionGuards | None = None,
        seed: int | None = None,
    ) -> ExecutionRunner:
        return ExecutionRunner(
            exchange=self.exchange if exchange is None else exchange,
            store=self.store if store is None else store,
            clock=self.clock,
            guards=self.guards if guards is None else guards,
            seed=seed,
        )

    async def crash(
        self,
        execution: Execution,
        *,
        exchange: Exchange | None = None,
        store: ExecutionStore | None = None,
        guards: ExecutionGuards | None = None,
        seed: int | None = None,
    ) -> None:
        """Run ``execution`` on a runner built with these parts until the process dies."""
        runner = self(exchange=exchange, store=store, guards=guards, seed=seed)
        with pytest.raises(Crash):
            await self.clock.run(runner.run(execution))

    async def restart(
        self,
        *,
        store: ExecutionStore | None = None,
        guards: ExecutionGuards | None = None,
        seed: int | None = None,
        resume: bool = True,
    ) -> Restarted:
        """Start a new process: reconcile the store with the exchange, then (``resume``) run
        every unfinished execution to its end."""
        store = self.store if store is None else store
        runner = self(store=store, guards=guards, seed=seed)
        report = await reconcile(
            exchange=self.exchange, store=store, tracker=runner.tracker, clock=self.clock
        )
        unfinished = await unfinished_executions(store) if resume else []
        return Restarted(runner, report, [await self.clock.run(runner.run(e)) for e in unfinished])
