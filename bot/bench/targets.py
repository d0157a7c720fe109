"""The issue's targets, measured (never tuned for): each returns a line saying pass or miss."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.bench.report import CHOOSABLE, Row, paired_diff
from bot.bench.runner import CaseResult
from bot.bench.scenarios import advisor_view, scenario

ADAPTIVE_EDGE_BPS = 5.0
TOLERANCE_BPS = 2.0
MIN_ETA = 0.5
MAX_REGRET_BPS = 3.0


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"[{'pass' if self.passed else 'MISS'}] {self.name}: {self.detail}"


def _cases(cases: Sequence[CaseResult], name: str, size: str) -> list[CaseResult]:
    return [c for c in cases if c.scenario == name and c.size == size]


def adaptive_beats_twap(cases: Sequence[CaseResult], scenarios: Sequence[str]) -> Target:
    parts, ok = [], True
    keys = sorted({(c.scenario, c.size) for c in cases if c.scenario in scenarios})
    for name, size in keys:
        mean, se = paired_diff(_cases(cases, name, size), "adaptive", "twap")
        good = mean <= -ADAPTIVE_EDGE_BPS and mean + 2 * se <= 0 and -mean >= 2 * se
        ok = ok and good
        parts.append(f"{name}/{size} {mean:+.1f}±{se:.1f}")
    return Target("adaptive ≥5 bps cheaper than twap (paired, ≥2 se)", ok and bool(keys),
                  ", ".join(parts) or "no cases")  # fmt: skip


def adaptive_never_much_worse(cases: Sequence[CaseResult]) -> Target:
    misses = []
    for name, size in sorted({(c.scenario, c.size) for c in cases}):
        group = _cases(cases, name, size)
        excess = []
        for other in ("twap", "market"):
            mean, se = paired_diff(group, "adaptive", other)
            excess.append((mean - TOLERANCE_BPS - 2 * se, mean, se, other))
        worst = max(excess)  # the better (cheaper) of the two is the larger difference
        if worst[0] > 0:
            misses.append(f"{name}/{size} vs {worst[3]} {worst[1]:+.1f}±{worst[2]:.1f}")
    return Target("adaptive never worse than better of twap/market by >2 bps + 2 se", not misses,
                  "misses: " + (", ".join(misses) or "none"))  # fmt: skip


def adaptive_eta(rows: Sequence[Row]) -> Target:
    etas = [(r.eta, f"{r.scenario}/{r.size}") for r in rows if r.strategy == "adaptive"]
    defined = [(e, w) for e, w in etas if e is not None]
    below = [f"{w} {e:.2f}" for e, w in defined if e < MIN_ETA]
    mean = sum(e for e, _ in defined) / len(defined) if defined else float("nan")
    return Target("adaptive η ≥ 0.5", not below,
                  f"mean {mean:.2f} over {len(defined)} rows with a defined η (undefined "
                  f"where the dump is within 1 bps or 2 se of the optimal); below: "
                  + (", ".join(below) or "none"))  # fmt: skip


def no_guard_violations(rows: Sequence[Row]) -> Target:
    total = sum(r.guard_violations for r in rows)
    return Target("zero fills below the price floor / oversells", total == 0, f"{total}")


def advisor_regret(rows: Sequence[Row]) -> Target:
    regrets = [r.regret_bps for r in rows if r.regret_bps is not None]
    mean = sum(regrets) / len(regrets) if regrets else 0.0
    floor, alike = regret_floor(rows)
    shared = "; ".join("=".join(group) for group in alike) or "none"
    return Target("rule advisor mean regret ≤ 3 bps", mean <= MAX_REGRET_BPS,
                  f"mean {mean:.1f} bps over {len(regrets)} rows; floor for any advisor "
                  f"deciding at the start: {floor:.1f} bps (rows it cannot tell apart: "
                  f"{shared})")  # fmt: skip


def regret_floor(rows: Sequence[Row]) -> tuple[float, list[list[str]]]:
    """Return the least mean regret any advisor deciding at the start can reach, and the
    groups of rows that look the same to it.

    Rows with one ``advisor_view`` (same opening book, volume, volatility and amount) get one
    decision, so the best any advisor can do there is the one strategy whose summed regret
    over the group is least. Returns (that mean over all rows, the groups of over one row).
    """
    means: dict[tuple[str, str], dict[str, float]] = {}
    for r in rows:
        means.setdefault((r.scenario, r.size), {})[r.strategy] = r.mean_bps
    groups: dict[tuple[object, ...], list[tuple[str, str]]] = {}
    for name, size in means:
        s = scenario(name)
        view = advisor_view(s, dict(s.sizes())[size])
        groups.setdefault(view, []).append((name, size))
    total = 0.0
    for keys in groups.values():
        best = {k: min(means[k][s] for s in CHOOSABLE) for k in keys}
        total += min(sum(means[k][s] - best[k] for k in keys) for s in CHOOSABLE)
    alike = [[f"{n}/{z}" for n, z in keys] for keys in groups.values() if len(keys) > 1]
    return (total / len(means) if means else 0.0), alike


def evaluate(cases: Sequence[CaseResult], rows: Sequence[Row]) -> list[Target]:
    return [
        adaptive_beats_twap(cases, ("thin", "wide")),
        adaptive_never_much_worse(cases),
        adaptive_eta(rows),
        no_guard_violations(rows),
        advisor_regret(rows),
    ]
