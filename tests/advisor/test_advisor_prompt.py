"""The prompt, the response schema and parsing answers into decisions."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bot.advisor.prompt import (
    RESPONSE_FORMAT,
    RESPONSE_SCHEMA,
    AnswerError,
    messages,
    parse_answer,
    prompt_hash,
)
from bot.domain.decisions import Decision, StrategyName
from tests.advisor.advisor_helpers import LIMITS, context

GOOD = {
    "strategy": "twap",
    "horizon_s": 600,
    "slices": 6,
    "limit_offset_bps": 5,
    "display_frac": 0.2,
    "max_slippage_bps": 80.5,
    "reason": "thin book",
}


def test_schema_requires_every_decision_field_and_nothing_else() -> None:
    assert set(RESPONSE_SCHEMA["required"]) == set(RESPONSE_SCHEMA["properties"])
    assert RESPONSE_SCHEMA["additionalProperties"] is False
    assert set(RESPONSE_SCHEMA["properties"]["strategy"]["enum"]) == {s.value for s in StrategyName}
    assert RESPONSE_FORMAT["type"] == "json_schema"


def test_prompt_carries_the_numbers_that_matter() -> None:
    ctx = context(amount="1500", level_amount="1000")

    text = messages(ctx, LIMITS)[1]["content"]

    for key in (
        "value_quote=",
        "spread_bps=",
        "bid_depth_1pct_quote=",
        "bid_depth_5pct_quote=",
        "book_fraction=",
        "volatility_bps_per_hour=",
        "volume_24h_quote=",
        "impact_bps_if_sold_now=",
        "limits=",
    ):
        assert key in text
    assert "slices 2..50" in text
    assert len(text) < 800


def test_prompt_hash_is_stable_and_follows_the_numbers() -> None:
    a = messages(context(amount="100"), LIMITS)
    b = messages(context(amount="200"), LIMITS)

    assert prompt_hash("m", a) == prompt_hash("m", messages(context(amount="100"), LIMITS))
    assert prompt_hash("m", a) != prompt_hash("m", b)
    assert prompt_hash("m", a) != prompt_hash("other", a)


def test_good_answer_parses_exactly() -> None:
    decision = parse_answer(json.dumps(GOOD))

    assert decision == Decision(
        StrategyName.TWAP, 600, 6, Decimal(5), Decimal("0.2"), Decimal("80.5"), "thin book"
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "empty_answer"),
        ("I would sell slowly over an hour.", "invalid_json"),
        ("[1, 2]", "schema_violation"),
        (json.dumps({**GOOD, "strategy": "moonshot"}), "unknown_strategy"),
        (json.dumps({**GOOD, "slices": "many"}), "schema_violation"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "horizon_s"}), "schema_violation"),
        (json.dumps({**GOOD, "leverage": 10}), "schema_violation"),
    ],
)
def test_bad_answers_are_rejected_with_a_reason(text: str, kind: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(text)

    assert caught.value.kind == kind
