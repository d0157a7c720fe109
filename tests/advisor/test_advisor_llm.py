"""LlmAdvisor through the real Cerebras SDK against a local fake chat-completions server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from bot.advisor.llm import LlmAdvisor
from bot.advisor.port import Advice, AdviceContext
from bot.advisor.rules import RuleAdvisor
from bot.clock import VirtualClock
from tests.advisor.advisor_helpers import LIMITS, context
from tests.fakes.fake_cerebras import FakeCerebras, Reply

MODEL = "llama-test"
KEY = "csk-TESTCEREBRAS-5a6b7c8d"
GOOD: dict[str, Any] = {
    "strategy": "twap",
    "horizon_s": 600,
    "slices": 6,
    "limit_offset_bps": 0,
    "display_frac": 0.2,
    "max_slippage_bps": 80,
    "reason": "thin book, slice it",
}
RULES = RuleAdvisor(LIMITS)
MakeAdvisor = Callable[..., LlmAdvisor]


@pytest.fixture
async def fake() -> AsyncIterator[FakeCerebras]:
    server = FakeCerebras()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def make_advisor(fake: FakeCerebras, clock: VirtualClock) -> AsyncIterator[MakeAdvisor]:
    made: list[LlmAdvisor] = []

    def make(**overrides: Any) -> LlmAdvisor:
        options: dict[str, Any] = {
            "api_key": KEY,
            "model": MODEL,
            "base_url": fake.base_url,
            "limits": LIMITS,
            "fallback": RULES,
            "clock": clock,
            "timeout_s": 2.0,
            "max_retries": 1,
        }
        options.update(overrides)
        advisor = LlmAdvisor(**options)
        made.append(advisor)
        return advisor

    yield make
    for advisor in made:
        await advisor.close()


def advise(clock: VirtualClock, advisor: LlmAdvisor, ctx: AdviceContext) -> Awaitable[Advice]:
    # Backoff sleeps on the virtual clock; run() jumps it while HTTP runs in real time
    return clock.run(advisor.advise(ctx))


async def test_good_answer_becomes_the_decision(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.answer(GOOD))
    ctx = context(amount="1500", level_amount="1000")

    advice = await advise(clock, make_advisor(), ctx)

    assert advice.advisor == "llm"
    assert advice.fallback is False
    assert advice.model == MODEL
    assert advice.decision.strategy == "twap"
    assert advice.decision.slices == 6
    assert advice.decision.max_slippage_bps == Decimal(80)
    assert advice.clamped == ()
    assert advice.raw_answer == Reply.answer(GOOD).content
    assert advice.prompt_hash is not None
    assert len(advice.prompt_hash) == 64
    [request] = fake.requests
    assert request["model"] == MODEL
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"]["additionalProperties"] is False
    assert "book_fraction=" in request["messages"][1]["content"]
    assert fake.headers[0]["Authorization"] == f"Bearer {KEY}"


async def test_out_of_range_parameters_are_clamped_not_trusted(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.answer({**GOOD, "slices": 500, "max_slippage_bps": 2000, "horizon_s": 5}))

    advice = await advise(clock, make_advisor(), context(amount="1500", level_amount="1000"))

    assert advice.advisor == "llm"
    assert advice.proposed is not None
    assert advice.proposed.slices == 500
    assert advice.decision.max_slippage_bps == LIMITS.max_slippage_bps
    assert advice.decision.horizon_s == LIMITS.min_horizon_s
    assert advice.decision.slices == LIMITS.min_horizon_s // 5
    assert set(advice.clamped) == {"slices", "max_slippage_bps", "horizon_s"}


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply.answer({**GOOD, "slices": "several"}), "schema_violation"),
        (Reply.answer({k: v for k, v in GOOD.items() if k != "reason"}), "schema_violation"),
        (Reply.text("Sell it slowly over an hour, in six parts."), "invalid_json"),
        (Reply.answer({**GOOD, "strategy": "yolo"}), "unknown_strategy"),
        (Reply.text(""), "empty_answer"),
        (Reply.error(401), "auth_error"),
        (Reply.error(400), "api_error"),
    ],
)
async def test_unusable_answers_fall_back_to_the_rules_without_retry(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock, reply: Reply, reason: str
) -> None:
    fake.will(reply)
    ctx = context(amount="1500", level_amount="1000")

    advice = await advise(clock, make_advisor(), ctx)

    assert advice.fallback is True
    assert advice.fallback_reason == reason
    assert advice.advisor == "rules"
    assert advice.decision == RULES.decide(ctx)
    assert len(fake.requests) == 1
    assert advice.prompt_hash is not None


async def test_rate_limit_is_retried_after_retry_after_then_succeeds(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.error(429, retry_after="1"), Reply.answer(GOOD))
    start = clock.time()

    advice = await advise(clock, make_advisor(), context(amount="1500", level_amount="1000"))

    assert advice.advisor == "llm"
    assert len(fake.requests) == 2
    assert clock.time() - start == pytest.approx(1.0)


async def test_rate_limit_twice_falls_back(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.error(429, retry_after="1"), Reply.error(429, retry_after="1"))

    advice = await advise(clock, make_advisor(), context())

    assert advice.fallback_reason == "rate_limited"
    assert len(fake.requests) == 2


async def test_rate_limit_with_a_long_retry_after_is_not_waited_for(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.error(429, retry_after="30"))
    start = clock.time()

    advice = await advise(clock, make_advisor(), context())

    assert advice.fallback_reason == "rate_limited"
    assert len(fake.requests) == 1
    assert clock.time() == start


async def test_server_error_is_retried_once_then_falls_back(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.error(500), Reply.error(503))

    advice = await advise(clock, make_advisor(), context())

    assert advice.fallback_reason == "server_error"
    assert advice.fallback_detail == "HTTP 503"
    assert len(fake.requests) == 2


async def test_slow_answer_past_the_timeout_falls_back(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.slow(5.0, GOOD))

    advice = await advise(clock, make_advisor(timeout_s=0.2), context())

    assert advice.fallback_reason == "timeout"
    assert advice.advisor == "rules"
    assert len(fake.requests) == 1


async def test_unreachable_server_is_a_network_error(
    make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    advice = await advise(clock, make_advisor(base_url=f"http://127.0.0.1:{port}"), context())

    assert advice.fallback_reason == "network_error"


async def test_no_key_uses_the_rules_without_calling(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    ctx = context()

    advice = await advise(clock, make_advisor(api_key=None), ctx)

    assert advice.fallback_reason == "no_api_key"
    assert advice.decision == RULES.decide(ctx)
    assert fake.requests == []


async def test_same_situation_within_the_ttl_reuses_the_decision(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.answer(GOOD), Reply.answer({**GOOD, "slices": 8}))
    advisor = make_advisor(memo_ttl_s=60)

    first = await advise(clock, advisor, context(amount="1500", level_amount="1000"))
    await clock.advance(30)
    again = await advise(clock, advisor, context(amount="1510", level_amount="1000"))
    await clock.advance(31)
    later = await advise(clock, advisor, context(amount="1500", level_amount="1000"))

    assert again.memo_hit is True
    assert again.decision == first.decision
    assert later.memo_hit is False
    assert later.decision.slices == 8
    assert len(fake.requests) == 2


async def test_a_different_situation_asks_again_and_fallbacks_are_not_memoised(
    fake: FakeCerebras, make_advisor: MakeAdvisor, clock: VirtualClock
) -> None:
    fake.will(Reply.text("no idea"), Reply.answer(GOOD), Reply.answer(GOOD))
    advisor = make_advisor(memo_ttl_s=60)

    failed = await advise(clock, advisor, context(amount="1500", level_amount="1000"))
    retried = await advise(clock, advisor, context(amount="1500", level_amount="1000"))
    bigger = await advise(clock, advisor, context(amount="6000", level_amount="1000"))

    assert failed.fallback_reason == "invalid_json"
    assert retried.advisor == "llm"
    assert bigger.memo_hit is False
    assert len(fake.requests) == 3
