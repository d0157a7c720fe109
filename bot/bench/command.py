"""``sellbot bench``: run the grid, print the table and the verdict, write JSON and charts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.bench.frontier import DEFAULT_WEIGHTS, frontier
from bot.bench.progress import Progress
from bot.bench.report import aggregate, render_table, to_json
from bot.bench.runner import all_cases, run_all
from bot.bench.scenarios import SCENARIOS
from bot.bench.verdict import evaluate

QUICK_SEEDS = 20
DEFAULT_SEEDS = 200
WORKERS = 2


@dataclass(frozen=True, slots=True)
class BenchReport:
    text: str
    passed: bool  # every target met


def parse_weights(text: str | None) -> dict[str, float]:
    """Return the default scenario weights with ``name=w,...`` from ``text`` replacing them.

    Raises:
        ValueError: an unknown scenario, a weight that is not a number, or a negative one.
    """
    weights = dict(DEFAULT_WEIGHTS)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in weights:
            raise ValueError(f"--weights: unknown scenario {name!r} (one of {', '.join(weights)})")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"--weights: {name}={value!r} is not a number") from None
        if weight < 0:
            raise ValueError(f"--weights: {name} must not be negative")
        weights[name] = weight
    return weights


def run_bench(
    *,
    quick: bool = False,
    seeds: int | None = None,
    json_path: str | None = None,
    plot_path: str | None = None,
    scenarios: Sequence[str] | None = None,
    sizes: set[str] | None = None,
    workers: int = WORKERS,
    weights: Mapping[str, float] | None = None,
    progress: Callable[[int], Progress] | None = None,
) -> BenchReport:
    """Run the benchmark, write the JSON and charts if asked, and return the report."""
    n = seeds if seeds is not None else (QUICK_SEEDS if quick else DEFAULT_SEEDS)
    weights = dict(weights or DEFAULT_WEIGHTS)
    chosen = [s for s in SCENARIOS if scenarios is None or s.name in scenarios]
    grid = all_cases(chosen, n, sizes)
    meter = progress(len(grid)) if progress is not None else None
    cases = run_all(grid, workers=workers, progress=meter.update if meter else None)
    if meter is not None:
        meter.finish()
    rows = aggregate(cases)
    targets = evaluate(cases, rows, weights)
    lines = [
        f"execution quality: {n} seeds, total shortfall in bps vs arrival mid (mean±se)",
        "u = unsold share (charged at dumping it at the end), η = efficiency vs the simulated",
        "optimal schedule, bound = closed-form Obizhaeva–Wang optimum, regret = advisor − best;",
        "adaptive@low / adaptive (medium) / adaptive@high: the adaptive strategy per urgency",
        render_table(rows),
        "",
        "scenario weights: " + ", ".join(f"{k} {v:g}" for k, v in weights.items()),
        *(target.line() for target in targets),
    ]
    if json_path is not None:
        Path(json_path).write_text(to_json(rows), encoding="utf-8")
        lines.append(f"wrote {json_path}")
    if plot_path is not None:
        from bot.bench.chart import write_charts  # lazy: matplotlib is an optional extra

        lines.append(write_charts(rows, frontier(rows, weights), Path(plot_path)))
    return BenchReport("\n".join(lines), all(t.passed for t in targets))
