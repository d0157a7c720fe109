"""The benchmark's verdict (issue 17): each line measured, never tuned for, pass or miss.

* calm rows (liquid, thin, wide, volatile): ``adaptive`` at medium ≤ the better of TWAP and
  market + ``CALM_TOLERANCE_BPS`` + 2 paired standard errors, in every row;
* adverse rows (trend, crash): medium ≤ TWAP + 2 paired s.e. in every row; high ≤ market +
  ``HIGH_TOLERANCE_BPS`` + 2 s.e. in every trend row;
* the frontier (``frontier.py``): higher urgency costs more in calm and less in adverse rows,
  and no fixed strategy is cheaper on both axes than any urgency level;
* the advisor's regret weighted by scenario frequency ≤ ``MAX_REGRET_BPS`` at the default
  weights (also printed at crash weights of 0.5%, 2% and 10%);
* zero fills below the price floor and zero oversells.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.bench.frontier import (
    ADVERSE,
    CALM,
    CRASH_WEIGHTS,
    URGENCIES,
    Point,
    frontier,
    regret_floor,
    weighted_regret,
    with_crash_weight,
)
from bot.bench.report import Row, paired_diff
from bot.bench.runner import CaseResult

CALM_TOLERANCE_BPS = 2.0
HIGH_TOLERANCE_BPS = 5.0
MAX_REGRET_BPS = 3.0
MEDIUM, HIGH = "adaptive", "adaptive@high"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"[{'pass' if self.passed else 'MISS'}] {self.name}: {self.detail}"


def _groups(cases: Sequence[CaseResult], names: Sequence[str]) -> dict[str, list[CaseResult]]:
    out: dict[str, list[CaseResult]] = {}
    for c in cases:
        if c.scenario in names:
            out.setdefault(f"{c.scenario}/{c.size}", []).append(c)
    return out


def _versus(
    cases: Sequence[CaseResult],
    names: Sequence[str],
    strategy: str,
    others: Sequence[str],
    tolerance: float,
) -> tuple[bool, str]:
    """Return whether ``strategy`` ≤ the cheapest of ``others`` + tolerance + 2 paired s.e.
    in every row of ``names``, and each row's worst margin (mean ± s.e. against that one)."""
    ok, parts = True, []
    for key, group in _groups(cases, names).items():
        excess = []
        for other in others:
            mean, se = paired_diff(group, strategy, other)
            excess.append((mean - tolerance - 2 * se, mean, se, other))
        worst = max(excess)  # against the cheaper of the others
        ok = ok and worst[0] <= 0
        parts.append(f"{key} {worst[1]:+.1f}±{worst[2]:.1f} vs {worst[3]}")
    return ok and bool(parts), ", ".join(parts) or "no cases"


def calm_rows(cases: Sequence[CaseResult]) -> Target:
    ok, detail = _versus(cases, CALM, MEDIUM, ("twap", "market"), CALM_TOLERANCE_BPS)
    return Target("calm: medium ≤ better of twap/market + 2 bps + 2 se", ok, detail)


def adverse_medium(cases: Sequence[CaseResult]) -> Target:
    ok, detail = _versus(cases, ADVERSE, MEDIUM, ("twap",), 0.0)
    return Target("adverse: medium ≤ twap + 2 se", ok, detail)


def adverse_high(cases: Sequence[CaseResult]) -> Target:
    ok, detail = _versus(cases, ("trend",), HIGH, ("market",), HIGH_TOLERANCE_BPS)
    return Target("trend: high ≤ market + 5 bps + 2 se", ok, detail)


def frontier_holds(points: Sequence[Point]) -> Target:
    levels = [p for p in points if p.strategy in URGENCIES]
    fixed = [p for p in points if p.strategy not in URGENCIES]
    calm_up = all(a.calm_bps < b.calm_bps for a, b in itertools.pairwise(levels))
    adverse_down = all(a.adverse_bps > b.adverse_bps for a, b in itertools.pairwise(levels))
    dominated = [
        f"{f.strategy} beats {u.strategy}" for u in levels for f in fixed if f.dominates(u)
    ]
    shown = ", ".join(f"{p.strategy} {p.calm_bps:.1f}/{p.adverse_bps:.1f}" for p in points)
    problems = []
    if not calm_up:
        problems.append("calm cost does not rise with urgency")
    if not adverse_down:
        problems.append("adverse cost does not fall with urgency")
    problems += dominated
    detail = f"calm/adverse bps: {shown}; " + ("; ".join(problems) or "monotone, undominated")
    return Target("frontier", not problems and len(levels) == len(URGENCIES), detail)


def regret(rows: Sequence[Row], weights: Mapping[str, float]) -> Target:
    at_default = weighted_regret(rows, weights)
    sensitivity = ", ".join(
        f"crash {w:.1%}: {weighted_regret(rows, with_crash_weight(weights, w)):.1f}"
        for w in CRASH_WEIGHTS
    )
    floor = regret_floor(rows, weights)
    return Target(
        "advisor regret, scenario-weighted, ≤ 3 bps",
        at_default <= MAX_REGRET_BPS,
        f"{at_default:.1f} bps at the default weights ({sensitivity}); the least any "
        f"advisor deciding at the start can reach: {floor:.1f} bps",
    )


def no_guard_violations(rows: Sequence[Row]) -> Target:
    total = sum(r.guard_violations for r in rows)
    return Target("zero fills below the price floor / oversells", total == 0, f"{total}")


def evaluate(
    cases: Sequence[CaseResult], rows: Sequence[Row], weights: Mapping[str, float]
) -> list[Target]:
    return [
        calm_rows(cases),
        adverse_medium(cases),
        adverse_high(cases),
        frontier_holds(frontier(rows, weights)),
        regret(rows, weights),
        no_guard_violations(rows),
    ]
