"""``sellbot bench``: run the grid, print the table and the targets, write JSON and a PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.bench.report import aggregate, render_table, to_json, write_png
from bot.bench.runner import all_cases, run_all
from bot.bench.scenarios import SCENARIOS
from bot.bench.targets import evaluate

QUICK_SEEDS = 20
DEFAULT_SEEDS = 200
WORKERS = 2


def run_bench(
    *,
    quick: bool = False,
    seeds: int | None = None,
    json_path: str | None = None,
    plot_path: str | None = None,
    scenarios: Sequence[str] | None = None,
    sizes: set[str] | None = None,
    workers: int = WORKERS,
) -> str:
    """Run the benchmark, write the JSON and PNG if asked, and return the report text."""
    n = seeds if seeds is not None else (QUICK_SEEDS if quick else DEFAULT_SEEDS)
    chosen = [s for s in SCENARIOS if scenarios is None or s.name in scenarios]
    cases = run_all(all_cases(chosen, n, sizes), workers=workers)
    rows = aggregate(cases)
    lines = [
        f"execution quality: {n} seeds, total shortfall in bps vs arrival mid (mean±se)",
        "u = unsold share (charged at dumping it at the end), η = efficiency vs the simulated",
        "optimal schedule, bound = closed-form Obizhaeva–Wang optimum, regret = advisor − best",
        render_table(rows),
        "",
        *(target.line() for target in evaluate(cases, rows)),
    ]
    if json_path is not None:
        Path(json_path).write_text(to_json(rows), encoding="utf-8")
        lines.append(f"wrote {json_path}")
    if plot_path is not None:
        write_png(rows, Path(plot_path))
        lines.append(f"wrote {plot_path} (bars: mean bps per strategy, capped at 500)")
    return "\n".join(lines)
