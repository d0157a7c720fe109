"""Markets may have up to 30 decimals: quantizing and a whole sale must work at that precision."""

from __future__ import annotations

from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.decisions import StrategyName
from bot.domain.executions import ExecutionState
from bot.domain.money import quantize_down, quantize_price_down, quantize_price_up
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.runner import ExecutionRunner
from tests.execution.exec_helpers import BOT_KEY, Desk, make_execution, make_market


def test_quantize_down_at_thirty_decimals() -> None:
    assert quantize_down(Decimal("0.5"), 30) == Decimal("0.5")
    assert quantize_down(Decimal("0.5"), 30).as_tuple().exponent == -30


def test_large_amounts_quantize_exactly_at_thirty_decimals() -> None:
    big = Decimal("999999999999999.1234567890123456789012345678901")
    assert quantize_down(big, 30) == Decimal("999999999999999.123456789012345678901234567890")
    assert quantize_price_up(big, 30) == Decimal("999999999999999.123456789012345678901234567891")
    assert quantize_price_down(-big, 30) == -Decimal(
        "999999999999999.123456789012345678901234567891"
    )


async def test_a_market_with_thirty_decimals_sells_end_to_end(clock: VirtualClock) -> None:
    """7.5 at 30 decimals has 31 digits: the default context refused to quantize it."""
    market = make_market("xyzusdt", amount_precision=30, price_precision=30, min_amount="0.01")
    desk = Desk(clock, market)
    desk.bid("1.5", "1000")
    desk.ask("1.51", "1000")
    store = MemoryExecutionStore()
    guards = ExecutionGuards(max_slippage_bps=Decimal(200), min_order_value=Decimal(1))
    runner = ExecutionRunner(exchange=desk.exchange, store=store, clock=clock, guards=guards)
    execution = make_execution(
        "p30", market="xyzusdt", allocated="7.5",
        strategy=StrategyName.TWAP, horizon_s=300, slices=3,
    )  # fmt: skip

    result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.COMPLETED, result.note
    assert result.sold == Decimal("7.5")
    assert desk.engine.balance(BOT_KEY, "xyz").total == Decimal(1_000_000) - result.sold
