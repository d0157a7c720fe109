"""Small builders shared by the execution tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.decisions import Decision, StrategyName
from bot.domain.executions import Execution, ExecutionState
from bot.domain.market import BookLevel, Market, OrderBook
from bot.domain.orders import Fill, OrderState, OrderType, Side
from bot.execution.store import OrderRecord
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
    **decision: object,
) -> Execution:
    return Execution(
        id=execution_id,
        market=market,
        currency=market[:-4],
        allocated=Decimal(allocated),
        decision=Decision(strategy=strategy, horizon_s=horizon_s, slices=slices).with_(**decision),
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
        created_at=T0,
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


class Desk:
    """A simulator with a bot account and a maker who builds the book by hand."""

    def __init__(self, clock: VirtualClock, market: Market) -> None:
        self.clock = clock
        self.market = market
        self.engine = MatchingEngine(clock, random.Random(7))
        self.engine.add_market(market)
        self.engine.deposit(BOT_KEY, market.base, Decimal(1_000_000))
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
