"""Aggregate case results into rows; render them as a table and JSON (charts: ``chart.py``).

Costs are total implementation shortfall (unsold amount charged at dumping it at the end) in
bps of the arrival value. ``eta = (IS_market − IS_strategy) / (IS_market − IS_oracle)`` with
IS_oracle the mean cost of the optimal (Obizhaeva–Wang) schedule run in the same simulator on
the same markets: the closed form (the ``bound`` column) ignores drift, crashes and minimums,
so it cannot serve as the denominator in every scenario. η is left out (None) where the market
dump is within ``MIN_ETA_GAP_BPS`` of the oracle, or within two standard errors of it (paired,
same markets), as the ratio is then noise or meaningless.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from bot.bench.oracle import cost_bps, optimal_cost
from bot.bench.runner import STRATEGIES, CaseResult
from bot.bench.scenarios import HORIZON_S, MID0, scenario

MIN_ETA_GAP_BPS = 1.0
# what the advisor can pick (adaptive at each urgency)
CHOOSABLE = ("market", "limit", "twap", "iceberg", "adaptive@low", "adaptive", "adaptive@high")


@dataclass(frozen=True, slots=True)
class Row:
    scenario: str
    size: str
    strategy: str
    mean_bps: float
    stderr_bps: float
    p95_bps: float
    cvar95_bps: float
    executed_bps: float | None
    unsold_frac: float
    completion_s: float | None
    eta: float | None
    guard_violations: int
    oracle_bps: float
    regret_bps: float | None = None
    chosen: str = ""
    urgency: str = ""  # of the adaptive runs (the advisor's when it chose adaptive)


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _stderr(xs: Sequence[float]) -> float:
    n = len(xs)
    if n < 2:
        return 0.0
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1) / n)


def _tail(xs: Sequence[float]) -> tuple[float, float]:
    """Return (p95, CVaR95): the 95th percentile and the mean of the worst 5% (at least one)."""
    ordered = sorted(xs)
    if not ordered:
        return 0.0, 0.0
    k = max(1, math.ceil(0.05 * len(ordered)))
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return p95, _mean(ordered[-k:])


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def eta(
    is_market: float, is_strategy: float, is_oracle: float, gap_se: float = 0.0
) -> float | None:
    """Return the efficiency of a strategy between the market dump (0) and the bound (1).

    None when the dump is within ``MIN_ETA_GAP_BPS`` of the oracle, or within two standard
    errors ``gap_se`` of their paired difference: the denominator is then noise.
    """
    gap = is_market - is_oracle
    if gap < max(MIN_ETA_GAP_BPS, 2 * gap_se):
        return None
    return (is_market - is_strategy) / gap


def oracle_bps(name: str, amount: float) -> float:
    s = scenario(name)
    cost = optimal_cost(amount, s.q, s.half_spread, s.rho, float(HORIZON_S))
    return cost_bps(cost, amount, float(MID0))


def aggregate(cases: Sequence[CaseResult]) -> list[Row]:
    """Return one row per (scenario, size, strategy), in table order."""
    groups: dict[tuple[str, str], list[CaseResult]] = {}
    for case in cases:
        groups.setdefault((case.scenario, case.size), []).append(case)
    rows: list[Row] = []
    for (name, size), group in groups.items():
        rows.extend(_group_rows(name, size, group))
    return rows


def _group_rows(name: str, size: str, group: list[CaseResult]) -> list[Row]:
    amount = float(dict(scenario(name).sizes())[size])
    bound = oracle_bps(name, amount)
    by: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    for case in group:
        for run in case.runs:
            by[run.strategy].append(run.is_total_bps)
    means = {s: _mean(v) for s, v in by.items()}
    market = means["market"]
    gap_se = paired_diff(group, "market", "optimal")[1]
    best = min(means[s] for s in CHOOSABLE)
    rows = []
    for strategy in STRATEGIES:
        runs = [r for case in group for r in case.runs if r.strategy == strategy]
        costs = by[strategy]
        p95, cvar = _tail(costs)
        executed = [r.is_executed_bps for r in runs if r.is_executed_bps is not None]
        completed = [r.completion_s for r in runs if r.completion_s is not None]
        chosen = sorted({r.chosen for r in runs if r.chosen})
        urgency = sorted({r.urgency for r in runs if r.urgency})
        rows.append(
            Row(
                scenario=name,
                size=size,
                strategy=strategy,
                mean_bps=round(means[strategy], 3),
                stderr_bps=round(_stderr(costs), 3),
                p95_bps=round(p95, 3),
                cvar95_bps=round(cvar, 3),
                executed_bps=_r(_mean(executed)) if executed else None,
                unsold_frac=round(_mean([r.unsold_frac for r in runs]), 4),
                completion_s=_r(_mean(completed), 1) if len(completed) == len(runs) else None,
                eta=_r(eta(market, means[strategy], means["optimal"], gap_se)),
                guard_violations=sum(r.violations for r in runs),
                oracle_bps=round(bound, 3),
                regret_bps=round(means[strategy] - best, 3) if strategy == "advisor" else None,
                chosen="/".join(chosen),
                urgency="/".join(urgency),
            )
        )
    return rows


def paired_diff(cases: Sequence[CaseResult], a: str, b: str) -> tuple[float, float]:
    """Return the mean and standard error of ``a − b`` over the same markets."""
    diffs = []
    for case in cases:
        costs = {r.strategy: r.is_total_bps for r in case.runs}
        diffs.append(costs[a] - costs[b])
    return _mean(diffs), _stderr(diffs)


def to_json(rows: Sequence[Row]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=1, sort_keys=True) + "\n"


def _cell(row: Row) -> str:
    text = f"{row.mean_bps:.1f}±{row.stderr_bps:.1f}"
    if row.unsold_frac >= 0.005:
        text += f" u{row.unsold_frac:.0%}"
    if row.eta is not None and row.strategy not in ("market", "optimal"):
        text += f" η{row.eta:.2f}"
    return text


def render_table(rows: Sequence[Row]) -> str:
    """Return the table: scenario × size down, strategies across (mean ± se, unsold, η)."""
    grid: dict[tuple[str, str], dict[str, Row]] = {}
    for row in rows:
        grid.setdefault((row.scenario, row.size), {})[row.strategy] = row
    header = ["scenario", "size", "bound", *STRATEGIES, "regret"]
    lines = []
    for (name, size), cells in grid.items():
        advisor = cells["advisor"]
        lines.append(
            [
                name,
                size,
                f"{advisor.oracle_bps:.1f}",
                *(_cell(cells[s]) for s in STRATEGIES),
                f"{advisor.regret_bps:.1f} ({advisor.chosen})",
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("-|-".join("-" * w for w in widths))
    out.extend(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines)
    return "\n".join(out)
