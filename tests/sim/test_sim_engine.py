"""Matching engine: priority, partial fills, cancels, fees, balances, validation."""

from __future__ import annotations

import gc
from decimal import Decimal

import pytest

from bot.clock import VirtualClock
from bot.domain.market import MarketState
from bot.domain.orders import OrderState, OrderType, Side
from bot.rand import make_rng
from bot.sim.engine import MatchingEngine
from bot.sim.records import CANCEL, DONE, WAIT, SimError
from bot.sim.tape import Tape
from tests.sim.sim_helpers import ALICE, BOB, Desk, make_market


def test_price_then_time_priority(desk: Desk) -> None:
    first = desk.limit(ALICE, Side.SELL, "1", "10.00")
    second = desk.limit(BOB, Side.SELL, "1", "10.00")
    cheaper = desk.limit(BOB, Side.SELL, "1", "9.99")

    desk.market(ALICE, Side.BUY, "2")

    assert cheaper.state == DONE
    assert first.state == DONE
    assert second.state == WAIT


def test_partial_fill_keeps_the_rest_resting(desk: Desk) -> None:
    maker = desk.limit(ALICE, Side.SELL, "5", "10.00")

    taker = desk.limit(BOB, Side.BUY, "2", "10.00")

    assert taker.state == DONE
    assert maker.state == WAIT
    assert maker.remaining == Decimal(3)
    assert desk.engine.order_book("abcusdt").asks[0].amount == Decimal(3)


def test_limit_order_rests_its_unfilled_rest_at_its_price(desk: Desk) -> None:
    desk.limit(ALICE, Side.BUY, "1", "10.00")

    sell = desk.limit(BOB, Side.SELL, "3", "9.50")

    assert sell.executed == Decimal(1)
    assert sell.avg_price == Decimal("10.00")
    book = desk.engine.order_book("abcusdt")
    assert book.asks[0].price == Decimal("9.50")
    assert book.asks[0].amount == Decimal(2)
    assert book.bids == ()


def test_market_order_remainder_is_cancelled(desk: Desk) -> None:
    desk.limit(ALICE, Side.BUY, "1", "10.00")

    sell = desk.market(BOB, Side.SELL, "4")

    assert sell.state == CANCEL
    assert sell.executed == Decimal(1)
    assert desk.engine.balance(BOB, "abc").locked == 0
    assert desk.engine.balance(BOB, "abc").available == Decimal(999)


def test_market_order_into_an_empty_book_is_refused(desk: Desk) -> None:
    with pytest.raises(SimError) as e:
        desk.market(BOB, Side.BUY, "1")

    assert e.value.code == "market.order.insufficient_market_liquidity"


def test_fees_are_charged_on_what_each_side_receives(desk: Desk) -> None:
    desk.limit(ALICE, Side.BUY, "2", "10.00")

    desk.market(BOB, Side.SELL, "2")

    bob_usdt = desk.engine.balance(BOB, "usdt").available
    alice_abc = desk.engine.balance(ALICE, "abc").available
    assert bob_usdt == Decimal(100_000) + Decimal(20) * Decimal("0.998")
    assert alice_abc == Decimal(1000) + Decimal(2) * Decimal("0.998")
    assert desk.engine.balance(ALICE, "usdt").available == Decimal(100_000 - 20)


def test_fills_carry_unique_trade_ids_and_fees(desk: Desk) -> None:
    desk.limit(ALICE, Side.BUY, "1", "10.00")
    desk.limit(ALICE, Side.BUY, "1", "9.00")

    sell = desk.market(BOB, Side.SELL, "2")

    fills = desk.engine.order_fills(BOB, sell.id)
    assert [f.price for f in fills] == [Decimal("10.00"), Decimal("9.00")]
    assert len({f.trade_id for f in fills}) == 2
    assert fills[0].fee == Decimal("10.00") * Decimal("0.002")
    assert fills[0].fee_currency == "usdt"


def test_a_trade_is_one_plain_row_on_the_tape_and_both_orders(desk: Desk) -> None:
    first = desk.limit(ALICE, Side.BUY, "1", "10.00")
    desk.limit(ALICE, Side.BUY, "1", "9.00")
    sell = desk.market(BOB, Side.SELL, "2")

    gc.collect()
    gc.collect()  # the rows go in the first pass; their tuple may need a second

    assert not gc.is_tracked(sell.fills)  # full collections never walk an order's fills
    assert sell.trades_count == 2
    taker = [(f.side, f.taker_type, f.amount, f.fee_currency, f.order_id) for f in
             desk.engine.order_fills(BOB, sell.id)]  # fmt: skip
    assert taker == [(Side.SELL, Side.SELL, Decimal(1), "usdt", sell.id)] * 2
    (maker,) = desk.engine.order_fills(ALICE, first.id)
    assert (maker.side, maker.taker_type, maker.fee_currency) == (Side.BUY, Side.SELL, "abc")
    assert maker.fee == Decimal(1) * Decimal("0.002")
    trade = desk.engine.public_trades("abcusdt", 2)[1]  # the older one: at 10.00
    assert (trade.id, trade.maker_id, trade.taker_id) == (maker.trade_id, first.id, sell.id)
    assert (trade.maker_fee, trade.taker_fee) == (maker.fee, Decimal("10.00") * Decimal("0.002"))
    assert (trade.taker_side, trade.units, trade.market) == (Side.SELL, "abc/usdt", "abcusdt")
    assert first.fills[0] is sell.fills[0]  # one row for the trade, on both orders


def test_resting_order_locks_and_cancel_unlocks(desk: Desk) -> None:
    order = desk.limit(ALICE, Side.SELL, "10", "12.00")
    locked = desk.engine.balance(ALICE, "abc")

    cancelled = desk.engine.cancel_order(ALICE, order.id)

    assert locked.locked == Decimal(10)
    assert locked.available == Decimal(990)
    assert cancelled.state == CANCEL
    assert desk.engine.balance(ALICE, "abc").locked == 0
    assert desk.engine.balance(ALICE, "abc").available == Decimal(1000)
    assert desk.engine.order_book("abcusdt").asks == ()


def test_buy_filled_below_its_limit_releases_the_difference(desk: Desk) -> None:
    desk.limit(ALICE, Side.SELL, "1", "9.00")

    buy = desk.limit(BOB, Side.BUY, "1", "10.00")

    assert buy.state == DONE
    assert desk.engine.balance(BOB, "usdt").locked == 0
    assert desk.engine.balance(BOB, "usdt").available == Decimal(100_000 - 9)


def test_cancel_all_cancels_only_that_market_and_account(desk: Desk) -> None:
    desk.limit(ALICE, Side.SELL, "1", "12.00")
    desk.limit(ALICE, Side.SELL, "1", "13.00")
    other = desk.limit(BOB, Side.SELL, "1", "14.00")

    cancelled = desk.engine.cancel_all(ALICE, "abcusdt")

    assert len(cancelled) == 2
    assert all(o.state == CANCEL for o in cancelled)
    assert other.state == WAIT


def test_cancelling_a_filled_order_returns_it_unchanged(desk: Desk) -> None:
    desk.limit(ALICE, Side.BUY, "1", "10.00")
    sell = desk.market(BOB, Side.SELL, "1")

    again = desk.engine.cancel_order(BOB, sell.id)

    assert again.state == DONE


@pytest.mark.parametrize(
    ("amount", "price", "code"),
    [
        ("0.001", "10.00", "market.order.invalid_volume_or_price"),  # off the lot
        ("1", "10.001", "market.order.invalid_volume_or_price"),  # off the tick
        ("0.05", "100.00", "market.order.invalid_volume_or_price"),  # below min amount
        ("0.1", "1.00", "market.order.invalid_volume_or_price"),  # below min value
        ("0", "10.00", "market.order.non_positive_volume"),
        ("-1", "10.00", "market.order.non_positive_volume"),
        ("1", "0", "market.order.non_positive_price"),
        ("5000", "10.00", "market.account.insufficient_balance"),
    ],
)
def test_invalid_orders_are_refused_with_peatio_codes(
    desk: Desk, amount: str, price: str, code: str
) -> None:
    with pytest.raises(SimError) as e:
        desk.limit(ALICE, Side.SELL, amount, price)

    assert e.value.status == 422
    assert e.value.code == code
    assert desk.engine.balance(ALICE, "abc").locked == 0


def test_unknown_and_disabled_markets_are_refused(desk: Desk) -> None:
    desk.engine.set_market_state("abcusdt", MarketState.DISABLED)

    with pytest.raises(SimError) as disabled:
        desk.limit(ALICE, Side.SELL, "1", "10.00")
    with pytest.raises(SimError) as unknown:
        desk.engine.place_order(ALICE, "zzzusdt", Side.SELL, OrderType.MARKET, Decimal(1))

    assert disabled.value.code == "market.market.doesnt_exist"
    assert unknown.value.code == "market.market.doesnt_exist"


def test_market_order_with_a_price_is_refused(desk: Desk) -> None:
    with pytest.raises(SimError) as e:
        desk.engine.place_order(
            ALICE, "abcusdt", Side.SELL, OrderType.MARKET, Decimal(1), Decimal(10)
        )

    assert e.value.code == "market.order.market_order_price"


def test_client_id_lookup_and_uniqueness(desk: Desk) -> None:
    order = desk.limit(ALICE, Side.SELL, "1", "12.00", client_id="sb-x-1")

    found = desk.engine.find_order(ALICE, "sb-x-1")
    with pytest.raises(SimError) as dup:
        desk.limit(ALICE, Side.SELL, "1", "12.00", client_id="sb-x-1")

    assert found is order
    assert dup.value.code == "market.order.duplicate_client_id"
    assert desk.engine.find_order(BOB, "sb-x-1") is None


def test_orders_of_another_account_are_not_found(desk: Desk) -> None:
    order = desk.limit(ALICE, Side.SELL, "1", "12.00")

    with pytest.raises(SimError) as e:
        desk.engine.get_order(BOB, order.id)

    assert e.value.status == 404


def test_listing_is_newest_first_with_state_filter_and_paging(desk: Desk) -> None:
    ids = [desk.limit(ALICE, Side.SELL, "1", f"{20 + i}.00").id for i in range(5)]
    desk.engine.cancel_order(ALICE, ids[0])

    page1 = desk.engine.list_orders(ALICE, market="abcusdt", state=WAIT, page=1, limit=2)
    page2 = desk.engine.list_orders(ALICE, market="abcusdt", state=WAIT, page=2, limit=2)
    cancelled = desk.engine.list_orders(ALICE, state=CANCEL)

    assert [o.id for o in page1] == [ids[4], ids[3]]
    assert [o.id for o in page2] == [ids[2], ids[1]]
    assert [o.id for o in cancelled] == [ids[0]]


def test_domain_mapping_of_states(desk: Desk) -> None:
    order = desk.limit(ALICE, Side.SELL, "2", "12.00", client_id="c-1")

    desk.limit(BOB, Side.BUY, "1", "12.00")
    partially = order.to_order()
    desk.engine.cancel_order(ALICE, order.id)

    assert partially.state is OrderState.OPEN
    assert partially.filled == Decimal(1)
    assert partially.client_id == "c-1"
    assert order.to_order().state is OrderState.CANCELLED
    assert desk.engine.open_orders(ALICE) == []


def test_ticker_and_public_trades_follow_the_tape(desk: Desk) -> None:
    desk.limit(ALICE, Side.BUY, "1", "10.00")
    desk.limit(ALICE, Side.BUY, "1", "11.00")
    desk.market(BOB, Side.SELL, "2")

    ticker = desk.engine.ticker("abcusdt")
    trades = desk.engine.public_trades("abcusdt", 10)

    assert ticker.last == Decimal("10.00")
    assert ticker.high == Decimal("11.00")
    assert ticker.low == Decimal("10.00")
    assert ticker.volume == Decimal(2)
    assert [t.price for t in trades] == [Decimal("10.00"), Decimal("11.00")]
    assert trades[0].taker_side is Side.SELL


def test_with_an_order_history_window_finished_orders_are_forgotten_open_ones_kept() -> None:
    clock = VirtualClock()
    engine = MatchingEngine(clock, make_rng(1, "sim.history"), order_history_s=7200)
    engine.add_market(make_market())
    for key in (ALICE, BOB):
        engine.deposit(key, "abc", Decimal(1000))
        engine.deposit(key, "usdt", Decimal(100_000))
    filled = engine.place_order(
        ALICE, "abcusdt", Side.SELL, OrderType.LIMIT, Decimal(1), Decimal(10), "sb-old"
    )
    engine.place_order(BOB, "abcusdt", Side.BUY, OrderType.MARKET, Decimal(1))
    resting = engine.place_order(
        ALICE, "abcusdt", Side.SELL, OrderType.LIMIT, Decimal(1), Decimal(20), "sb-open"
    )

    clock._now += 3 * 3600  # three hours later
    engine.sync()

    assert engine.find_order(ALICE, "sb-old") is None
    with pytest.raises(SimError):
        engine.get_order(ALICE, filled.id)
    assert engine.find_order(ALICE, "sb-open") is resting
    assert [o.id for o in engine.open_orders(ALICE)] == [str(resting.id)]


def test_the_tape_keeps_at_least_the_day_the_ticker_needs() -> None:
    with pytest.raises(ValueError, match="a day"):
        Tape("abcusdt", start=0.0, keep_minutes=60)
