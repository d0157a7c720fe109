"""The decision memo: bucketed situations, TTL on the clock, bounded size."""

from __future__ import annotations

from bot.advisor.memo import DecisionMemo, situation_of
from bot.advisor.port import Advice
from bot.clock import VirtualClock
from bot.domain.decisions import Decision, StrategyName
from tests.advisor.advisor_helpers import context

ADVICE = Advice(Decision(StrategyName.MARKET, 60), advisor="llm", latency_ms=420)


def test_small_moves_share_a_bucket_and_big_ones_do_not() -> None:
    base = situation_of(context(amount="1100"))

    assert situation_of(context(amount="1150")) == base
    assert situation_of(context(amount="2200")) != base
    assert situation_of(context(amount="1100", spread_bps="200")) != base
    assert situation_of(context(amount="1100", base="xyz")) != base


async def test_entries_expire_after_the_ttl(clock: VirtualClock) -> None:
    memo = DecisionMemo(clock, ttl_s=60)
    key = situation_of(context())
    memo.put(key, ADVICE)

    await clock.advance(59)
    fresh = memo.get(key)
    await clock.advance(1)
    stale = memo.get(key)

    assert fresh is not None
    assert fresh.memo_hit is True
    assert fresh.latency_ms == 0
    assert fresh.decision == ADVICE.decision
    assert stale is None
    assert len(memo) == 0


def test_a_full_memo_drops_the_oldest_entry(clock: VirtualClock) -> None:
    memo = DecisionMemo(clock, ttl_s=60, max_entries=2)
    keys = [situation_of(context(base=b)) for b in ("aaa", "bbb", "ccc")]

    for key in keys:
        memo.put(key, ADVICE)

    assert len(memo) == 2
    assert memo.get(keys[0]) is None
    assert memo.get(keys[2]) is not None


def test_zero_ttl_disables_the_memo(clock: VirtualClock) -> None:
    memo = DecisionMemo(clock, ttl_s=0)
    key = situation_of(context())

    memo.put(key, ADVICE)

    assert memo.get(key) is None
