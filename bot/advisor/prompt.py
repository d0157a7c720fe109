"""The LLM prompt, the JSON schema of its answer, and parsing the answer into a ``Decision``.

Everything the model sees and must return is in this one module.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.advisor.port import AdviceContext
from bot.domain.decisions import Decision, Limits, StrategyName, Urgency

SYSTEM_PROMPT = """\
You decide how to sell one crypto balance on a spot exchange into the quote currency.
Strategies:
- market: sell now into the bids (small size, tight spread).
- limit: one order resting limit_offset_bps above the best bid, for up to horizon_s.
- twap: `slices` equal orders spread evenly over horizon_s.
- iceberg: one resting order that shows only display_frac of what is left.
- adaptive: passive first, more aggressive as horizon_s runs out, in `slices` steps.
urgency (adaptive): low = cheapest in calm markets, slowest to react to a falling price;
high = sells fast and pays the spread; medium between. Higher for volatile or falling markets.
Lower market impact is better; a large share of the book calls for slicing or hiding size;
a wide spread calls for resting inside it; high volatility calls for a shorter horizon.
Stay inside the limits given. Answer with one JSON object matching the schema, nothing else."""

RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "strategy": {"type": "string", "enum": [s.value for s in StrategyName]},
        "horizon_s": {"type": "integer"},
        "slices": {"type": "integer"},
        "limit_offset_bps": {"type": "number"},
        "display_frac": {"type": "number"},
        "max_slippage_bps": {"type": "number"},
        "reason": {"type": "string"},
        "urgency": {"type": "string", "enum": [u.value for u in Urgency]},
    },
    "required": [
        "strategy",
        "horizon_s",
        "slices",
        "limit_offset_bps",
        "display_frac",
        "max_slippage_bps",
        "reason",
        "urgency",
    ],
    "additionalProperties": False,
}

RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "sell_decision", "strict": True, "schema": RESPONSE_SCHEMA},
}


def user_prompt(ctx: AdviceContext, limits: Limits) -> str:
    """Return the numbers that matter for this sale, one ``key=value`` per line."""
    m = ctx.metrics
    facts = {
        "market": ctx.market.id,
        "amount": ctx.amount,
        "value_quote": ctx.value_quote,
        "best_bid": m.best_bid,
        "mid": m.mid,
        "spread_bps": m.spread_bps,
        "bid_depth_1pct_quote": m.depth_1pct_quote,
        "bid_depth_5pct_quote": m.depth_5pct_quote,
        "book_fraction": ctx.book_fraction,
        "impact_bps_if_sold_now": ctx.impact_bps,
        "volume_24h_quote": m.volume_24h_quote,
        "volatility_bps_per_hour": m.volatility_bps_per_hour,
        "min_order_amount": ctx.market.min_amount,
        "limits": (
            f"max_slippage_bps<={limits.max_slippage_bps} "
            f"slices {limits.min_slices}..{limits.max_slices} "
            f"horizon_s {limits.min_horizon_s}..{limits.max_horizon_s} "
            f"limit_offset_bps 0..{limits.max_limit_offset_bps} "
            f"display_frac {limits.min_display_frac}..{limits.max_display_frac} "
            f"urgency {limits.min_urgency}..{limits.max_urgency} (default {limits.urgency})"
        ),
    }
    return "\n".join(f"{k}={_text(v)}" for k, v in facts.items())


def _text(value: object) -> str:
    # Eight significant digits are plenty for a judgement and keep the prompt short
    if value is None:
        return "unknown"
    if isinstance(value, Decimal):
        return f"{value:.0f}" if value.adjusted() >= 7 else f"{value:.8g}"
    return str(value)


def messages(ctx: AdviceContext, limits: Limits) -> list[dict[str, str]]:
    """Return the chat messages for ``ctx``."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_prompt(ctx, limits)},
    ]


def prompt_hash(model: str, chat: list[dict[str, str]]) -> str:
    """Return a SHA-256 over the model, the messages and the schema (what the LLM was asked)."""
    payload = json.dumps([model, chat, RESPONSE_FORMAT], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class AnswerError(ValueError):
    """The answer cannot become a decision; ``kind`` is the recorded fallback reason."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Literal["market", "limit", "twap", "iceberg", "adaptive"]
    horizon_s: int
    slices: int
    limit_offset_bps: Decimal
    display_frac: Decimal
    max_slippage_bps: Decimal
    reason: str
    urgency: Literal["low", "medium", "high"] = "medium"


def parse_answer(text: str | None) -> Decision:
    """Parse the model's answer into an unclamped ``Decision``.

    Raises:
        AnswerError: kind ``empty_answer``, ``invalid_json``, ``unknown_strategy`` or
            ``schema_violation``.
    """
    if not text or not text.strip():
        raise AnswerError("empty_answer", "no content")
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as e:
        raise AnswerError("invalid_json", str(e)) from e
    if not isinstance(data, dict):
        raise AnswerError("schema_violation", f"expected an object, got {type(data).__name__}")
    strategy = data.get("strategy")
    if isinstance(strategy, str) and strategy not in StrategyName.__members__.values():
        raise AnswerError("unknown_strategy", strategy[:40])
    try:
        answer = _Answer.model_validate(data)
    except ValidationError as e:
        raise AnswerError("schema_violation", _summary(e)) from e
    return Decision(
        strategy=StrategyName(answer.strategy),
        horizon_s=answer.horizon_s,
        slices=answer.slices,
        limit_offset_bps=answer.limit_offset_bps,
        display_frac=answer.display_frac,
        max_slippage_bps=answer.max_slippage_bps,
        reason=answer.reason,
        urgency=Urgency(answer.urgency),
    )


def _summary(e: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['type']}" for err in e.errors())[:200]
