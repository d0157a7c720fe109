"""Simulated accounts: balances (available and locked) and the account's orders."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.balances import Balance
from bot.domain.money import ZERO
from bot.sim.records import WAIT, SimError, SimOrder

INSUFFICIENT = "market.account.insufficient_balance"


class Account:
    """One API key's balances and orders (ids ascending in ``orders``)."""

    __slots__ = ("available", "by_client", "key", "locked", "open", "orders")

    def __init__(self, key: str) -> None:
        self.key = key
        self.available: dict[str, Decimal] = {}
        self.locked: dict[str, Decimal] = {}
        self.orders: list[SimOrder] = []
        self.open: dict[int, SimOrder] = {}
        self.by_client: dict[str, SimOrder] = {}

    def deposit(self, currency: str, amount: Decimal) -> None:
        self.available[currency] = self.available.get(currency, ZERO) + amount

    def lock(self, currency: str, amount: Decimal) -> None:
        """Move ``amount`` from available to locked.

        Raises:
            SimError: 422 ``market.account.insufficient_balance``.
        """
        have = self.available.get(currency, ZERO)
        if have < amount:
            raise SimError(422, INSUFFICIENT)
        self.available[currency] = have - amount
        self.locked[currency] = self.locked.get(currency, ZERO) + amount

    def unlock(self, currency: str, amount: Decimal) -> None:
        if amount:
            self.locked[currency] -= amount
            self.available[currency] = self.available.get(currency, ZERO) + amount

    def spend_locked(self, currency: str, amount: Decimal) -> None:
        self.locked[currency] -= amount

    def forget_finished(self, cutoff: float) -> list[int]:
        """Drop finished orders last updated before ``cutoff``; return their ids."""
        kept: list[SimOrder] = []
        gone: list[int] = []
        for order in self.orders:
            if order.state == WAIT or order.updated_at >= cutoff:
                kept.append(order)
                continue
            gone.append(order.id)
            if order.client_id is not None and self.by_client.get(order.client_id) is order:
                del self.by_client[order.client_id]
        self.orders = kept
        return gone

    def balances(self) -> list[Balance]:
        currencies = sorted(set(self.available) | set(self.locked))
        return [
            Balance(c, self.available.get(c, ZERO), self.locked.get(c, ZERO)) for c in currencies
        ]
