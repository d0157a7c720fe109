"""A Cloudflare challenge or a region block mid-sale is waited out, never a crash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

from bot.clock import VirtualClock
from bot.domain.decisions import StrategyName
from bot.domain.executions import ExecutionState
from bot.exchange.errors import ExchangeBlocked
from bot.exchange.forwarding import ForwardingExchange
from bot.exchange.port import Exchange
from tests.execution.exec_helpers import BOT_KEY, Desk, Runners, make_execution

T = TypeVar("T")


class BlockedUntil(ForwardingExchange):
    """Answer every call with a challenge until virtual time ``until``; then pass through."""

    def __init__(self, inner: Exchange, clock: VirtualClock, until: float) -> None:
        super().__init__(inner)
        self.clock = clock
        self.until = until
        self.refused = 0

    def _check(self) -> None:
        if self.clock.time() < self.until:
            self.refused += 1
            raise ExchangeBlocked("Cloudflare challenge", status=403)

    async def _forward(self, name: str, call: Callable[[], Awaitable[T]]) -> T:
        self._check()
        return await call()


async def test_a_block_during_a_twap_is_waited_out_and_the_sale_completes(
    desk: Desk, clock: VirtualClock, runners: Runners
) -> None:
    desk.bid("1.0000", "100")
    desk.ask("1.0100", "100")
    blocked = BlockedUntil(desk.exchange, clock, clock.time() + 40)
    runner = runners(exchange=blocked, seed=1)
    execution = make_execution(
        "blk1", strategy=StrategyName.TWAP, allocated="10", horizon_s=120, slices=4
    )

    result = await clock.run(runner.run(execution))

    assert blocked.refused > 0
    assert result.state is ExecutionState.COMPLETED
    assert result.sold == Decimal(10)
    sent = [o.client_id for o in desk.engine.list_orders(BOT_KEY, limit=1000)]
    assert len(sent) == len(set(sent)), "an order was sent twice"
