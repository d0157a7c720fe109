"""The simulator's own records: orders, fills and public trades, and their domain mappings.

Records are mutable slotted classes (the engine updates them in place at matching speed);
they leave the simulator only as domain objects (``to_order`` …) or as wire JSON (server).
Order states are Peatio's: ``wait``, ``done``, ``cancel``, ``reject``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

from bot.domain.market import PublicTrade
from bot.domain.money import ZERO
from bot.domain.orders import Fill, Order, OrderState, OrderType, Side

WAIT = "wait"
DONE = "done"
CANCEL = "cancel"
REJECT = "reject"

PEATIO_TO_STATE: dict[str, OrderState] = {
    WAIT: OrderState.OPEN,
    DONE: OrderState.FILLED,
    CANCEL: OrderState.CANCELLED,
    REJECT: OrderState.REJECTED,
}
STATE_TO_PEATIO: dict[OrderState, str] = {v: k for k, v in PEATIO_TO_STATE.items()}


class SimError(Exception):
    """A request the exchange refuses: HTTP ``status`` and a Peatio error ``code``."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code


def to_datetime(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


TradeRow = tuple[int, Decimal, Decimal, bool, float, int, int, Decimal, Decimal, str]
"""One trade as the engine keeps it: id, price, amount, taker sold, time, maker order id,
taker order id (0: the market model's background), maker fee, taker fee, "base/quote".

Plain values only (no record, no enum member): CPython's cycle collector stops tracking
such a tuple once it survives a young collection. The tape and the fills of both orders
share the one row, so the trades and fills of every order the engine keeps cost nothing
in later full collections (they were two thirds of the objects those collections walked).
``SimTrade`` and ``SimFill`` are built from a row when they leave the engine.
"""


class SimOrder:
    """One order as the matching engine holds it."""

    __slots__ = (
        "account",
        "client_id",
        "created_at",
        "executed",
        "fills",
        "funds",
        "id",
        "locked",
        "market",
        "ord_type",
        "origin",
        "out",
        "price",
        "remaining",
        "side",
        "state",
        "updated_at",
    )

    def __init__(
        self,
        order_id: int,
        account: str,
        market: str,
        side: Side,
        ord_type: OrderType,
        price: Decimal | None,
        amount: Decimal,
        client_id: str | None,
        at: float,
    ) -> None:
        self.id = order_id
        self.account = account
        self.market = market
        self.side = side
        self.ord_type = ord_type
        self.price = price
        self.origin = amount
        self.remaining = amount
        self.executed = ZERO
        self.funds = ZERO  # quote value traded so far
        self.locked = ZERO  # what this order still holds locked (base for sells, quote for buys)
        self.client_id = client_id
        self.state = WAIT
        self.fills: tuple[TradeRow, ...] = ()
        self.created_at = at
        self.updated_at = at
        self.out: tuple[tuple[str, Decimal, float], Order] | None = None  # see ``to_order``

    @property
    def trades_count(self) -> int:
        return len(self.fills)

    @property
    def uuid(self) -> str:
        h = hashlib.sha256(f"sim-order-{self.id}".encode()).hexdigest()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def fill_records(self, start: int = 0) -> list[SimFill]:
        """Return this order's fills, oldest first, from the ``start``-th on."""
        return [self.fill_record(row) for row in self.fills[start:]]

    def fill_record(self, row: TradeRow) -> SimFill:
        trade_id, price, amount, taker_sold, at, maker_id, _taker, maker_fee, taker_fee, units = row
        fee = maker_fee if maker_id == self.id else taker_fee
        base, _, quote = units.partition("/")
        return SimFill(
            trade_id, self.id, self.market, self.side, price, amount, fee,
            quote if self.side is Side.SELL else base, Side.SELL if taker_sold else Side.BUY, at,
        )  # fmt: skip

    @property
    def avg_price(self) -> Decimal:
        return self.funds / self.executed if self.executed else ZERO

    def to_order(self) -> Order:
        """Return the domain order (the same object while nothing about it changed: it is
        asked for on every poll)."""
        key = (self.state, self.executed, self.updated_at)
        out = self.out
        if out is not None and out[0] == key:
            return out[1]
        order = self._new_order()
        self.out = (key, order)
        return order

    def _new_order(self) -> Order:
        return Order(
            id=str(self.id),
            client_id=self.client_id,
            market=self.market,
            side=self.side,
            type=self.ord_type,
            price=self.price,
            amount=self.origin,
            filled=self.executed,
            avg_price=self.avg_price if self.executed else None,
            state=PEATIO_TO_STATE[self.state],
            created_at=to_datetime(self.created_at),
            updated_at=to_datetime(self.updated_at),
        )


class SimFill:
    """One side of a trade, as seen by the account whose order took part."""

    __slots__ = (
        "amount",
        "at",
        "fee",
        "fee_currency",
        "market",
        "order_id",
        "price",
        "side",
        "taker_type",
        "trade_id",
    )

    def __init__(
        self,
        trade_id: int,
        order_id: int,
        market: str,
        side: Side,
        price: Decimal,
        amount: Decimal,
        fee: Decimal,
        fee_currency: str,
        taker_type: Side,
        at: float,
    ) -> None:
        self.trade_id = trade_id
        self.order_id = order_id
        self.market = market
        self.side = side
        self.price = price
        self.amount = amount
        self.fee = fee
        self.fee_currency = fee_currency
        self.taker_type = taker_type
        self.at = at

    @property
    def total(self) -> Decimal:
        return self.price * self.amount

    def to_fill(self) -> Fill:
        return Fill(
            trade_id=str(self.trade_id),
            order_id=str(self.order_id),
            market=self.market,
            side=self.side,
            price=self.price,
            amount=self.amount,
            fee=self.fee,
            fee_currency=self.fee_currency,
            at=to_datetime(self.at),
        )


class SimTrade:
    """A trade as it leaves the engine (public trades, listeners), built from its row."""

    __slots__ = (
        "amount",
        "at",
        "id",
        "maker_fee",
        "maker_id",
        "market",
        "price",
        "taker_fee",
        "taker_id",
        "taker_side",
        "units",
    )

    def __init__(
        self,
        trade_id: int,
        market: str,
        price: Decimal,
        amount: Decimal,
        taker: Side,
        at: float,
        units: str = "",
    ) -> None:
        self.id = trade_id
        self.market = market
        self.price = price
        self.amount = amount
        self.taker_side = taker
        self.at = at
        self.units = units  # "base/quote", for the fee currency of each side
        self.maker_id = 0  # order ids (0: the market model's background)
        self.taker_id = 0
        self.maker_fee = ZERO
        self.taker_fee = ZERO

    @classmethod
    def from_row(cls, market: str, row: TradeRow) -> SimTrade:
        taker = Side.SELL if row[3] else Side.BUY
        trade = cls(row[0], market, row[1], row[2], taker, row[4], row[9])
        trade.maker_id, trade.taker_id, trade.maker_fee, trade.taker_fee = row[5:9]
        return trade

    def to_public(self) -> PublicTrade:
        return PublicTrade(
            id=str(self.id),
            market=self.market,
            price=self.price,
            amount=self.amount,
            taker_side=str(self.taker_side),
            at=to_datetime(self.at),
        )
