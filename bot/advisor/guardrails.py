"""Hard limits on a decision: an advisor (and above all the LLM) chooses, never exceeds.

``clamp`` pulls every parameter into the configured ``Limits``:

- ``max_slippage_bps`` into [0, limits.max_slippage_bps]. Executors turn it into the price
  floor (arrival mid × (1 − max_slippage)), so capping it caps how low any order may sell;
- ``urgency`` into [min_urgency, max_urgency];
- ``horizon_s`` into [min_horizon_s, the longest horizon for that urgency] (``max_horizon_s``
  times the urgency's ``horizon_share``, ``execution/urgency.py``);
- ``slices``: 1 for market and limit orders; otherwise into [min_slices, max_slices], and no
  more than one slice per ``MIN_INTERVAL_S`` of horizon (unless that is below min_slices);
- ``limit_offset_bps`` into [0, max_limit_offset_bps]: a passive price never sits below the bid;
- ``display_frac`` into [min_display_frac, max_display_frac];
- ``reason`` cut to ``MAX_REASON_CHARS``.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import TypeVar

from bot.domain.decisions import Decision, Limits, StrategyName, urgency_between
from bot.execution.urgency import longest_horizon_s

MIN_INTERVAL_S = 5
_N = TypeVar("_N", int, Decimal)
MAX_REASON_CHARS = 300
_SINGLE_ORDER = frozenset({StrategyName.MARKET, StrategyName.LIMIT})


def clamp(decision: Decision, limits: Limits) -> Decision:
    """Return ``decision`` with every parameter pulled inside ``limits``."""
    urgency = urgency_between(decision.urgency, limits.min_urgency, limits.max_urgency)
    longest = longest_horizon_s(limits.max_horizon_s, limits.min_horizon_s, urgency)
    horizon = _between(decision.horizon_s, limits.min_horizon_s, longest)
    if decision.strategy in _SINGLE_ORDER:
        slices = 1
    else:
        by_interval = max(limits.min_slices, horizon // MIN_INTERVAL_S)
        slices = _between(decision.slices, limits.min_slices, min(limits.max_slices, by_interval))
    return Decision(
        strategy=decision.strategy,
        horizon_s=horizon,
        slices=slices,
        limit_offset_bps=_between(
            decision.limit_offset_bps, Decimal(0), limits.max_limit_offset_bps
        ),
        display_frac=_between(
            decision.display_frac, limits.min_display_frac, limits.max_display_frac
        ),
        max_slippage_bps=_between(decision.max_slippage_bps, Decimal(0), limits.max_slippage_bps),
        reason=decision.reason[:MAX_REASON_CHARS],
        urgency=urgency,
    )


def changed_fields(before: Decision, after: Decision) -> tuple[str, ...]:
    """Return the names of the fields ``clamp`` changed (for the decision record)."""
    return tuple(
        f.name for f in fields(Decision) if getattr(before, f.name) != getattr(after, f.name)
    )


def _between(value: _N, low: _N, high: _N) -> _N:
    return max(low, min(value, high))
