"""Urgency: parsed from the environment within its bounds, chosen by the advisors, clamped."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.advisor.guardrails import clamp
from bot.advisor.prompt import parse_answer, user_prompt
from bot.advisor.rules import RuleAdvisor
from bot.db.execution_store import _decision
from bot.db.repositories import decision_params
from bot.domain.decisions import Decision, StrategyName, Urgency
from bot.settings import SettingsError, load_settings
from tests.advisor.advisor_helpers import LIMITS, context

ANSWER = {
    "strategy": "adaptive",
    "horizon_s": 3600,
    "slices": 10,
    "limit_offset_bps": 0,
    "display_frac": 0.2,
    "max_slippage_bps": 100,
    "reason": "falling",
}


def test_urgency_defaults_to_medium_within_low_to_high() -> None:
    settings = load_settings(_env_file=None)

    assert settings.urgency is Urgency.MEDIUM
    limits = settings.limits()
    assert (limits.urgency, limits.min_urgency, limits.max_urgency) == (
        Urgency.MEDIUM,
        Urgency.LOW,
        Urgency.HIGH,
    )


def test_urgency_parses_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELLBOT_URGENCY", "HIGH")
    monkeypatch.setenv("SELLBOT_URGENCY_MIN", "medium")

    settings = load_settings(_env_file=None)

    assert settings.urgency is Urgency.HIGH
    assert settings.limits().min_urgency is Urgency.MEDIUM


def test_an_unknown_urgency_is_one_config_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELLBOT_URGENCY", "asap")

    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)

    [line] = err.value.lines
    assert line.startswith("SELLBOT_URGENCY:")
    assert "example: SELLBOT_URGENCY=medium" in line


def test_a_default_outside_its_bounds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELLBOT_URGENCY", "low")
    monkeypatch.setenv("SELLBOT_URGENCY_MIN", "medium")

    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)

    assert "low not in medium..high" in err.value.lines[0]


@pytest.mark.parametrize(
    ("proposed", "low", "high", "kept"),
    [
        (Urgency.HIGH, Urgency.LOW, Urgency.MEDIUM, Urgency.MEDIUM),
        (Urgency.LOW, Urgency.MEDIUM, Urgency.HIGH, Urgency.MEDIUM),
        (Urgency.LOW, Urgency.LOW, Urgency.HIGH, Urgency.LOW),
        (Urgency.HIGH, Urgency.HIGH, Urgency.HIGH, Urgency.HIGH),
    ],
)
def test_guardrails_pull_urgency_into_its_bounds(
    proposed: Urgency, low: Urgency, high: Urgency, kept: Urgency
) -> None:
    limits = replace(LIMITS, min_urgency=low, max_urgency=high)
    decision = Decision(StrategyName.ADAPTIVE, 600, slices=5, urgency=proposed)

    assert clamp(decision, limits).urgency is kept


def test_high_urgency_takes_at_most_a_quarter_of_the_longest_horizon() -> None:
    long = Decision(StrategyName.ADAPTIVE, 3600, slices=5)

    assert clamp(long, LIMITS).horizon_s == 3600
    assert clamp(replace(long, urgency=Urgency.HIGH), LIMITS).horizon_s == 900
    assert clamp(replace(long, urgency=Urgency.LOW), LIMITS).horizon_s == 3600


def test_the_rule_advisor_uses_the_configured_urgency() -> None:
    ctx = context(amount="15000", level_amount="1000")  # large: no shift up or down
    for urgency in Urgency:
        decision = RuleAdvisor(replace(LIMITS, urgency=urgency)).decide(ctx)
        assert decision.urgency is urgency


def test_the_llm_may_choose_urgency_and_is_told_its_bounds() -> None:
    limits = replace(LIMITS, min_urgency=Urgency.LOW, max_urgency=Urgency.MEDIUM)

    proposed = parse_answer(json.dumps({**ANSWER, "urgency": "high"}))

    assert proposed.urgency is Urgency.HIGH
    assert clamp(proposed, limits).urgency is Urgency.MEDIUM
    assert "urgency low..medium (default medium)" in user_prompt(context(), limits)
    with pytest.raises(ValueError, match="schema_violation"):
        parse_answer(json.dumps({**ANSWER, "urgency": "now"}))


def test_urgency_is_stored_with_the_execution_and_read_back() -> None:
    decision = Decision(StrategyName.ADAPTIVE, 600, urgency=Urgency.HIGH)

    params = decision_params(decision)

    assert params["urgency"] == "high"
    assert _decision("adaptive", json.loads(json.dumps(params)), "").urgency is Urgency.HIGH
    assert _decision("adaptive", {"horizon_s": 60}, "").urgency is Urgency.MEDIUM
