"""`sellbot bench`: the execution-quality benchmark (``bot.bench``)."""

from __future__ import annotations

import sys

from bot.clock import SystemClock
from bot.settings import Settings


async def run(
    settings: Settings,
    *,
    quick: bool,
    seeds: int | None,
    json_path: str | None,
    plot_path: str | None,
    check: bool = False,
    weights: str | None = None,
) -> int:
    """Print the report; with ``check``, exit 1 when any target is missed."""
    from bot.bench.command import parse_weights, run_bench  # lazy: not needed to operate
    from bot.bench.progress import Progress

    def progress(total: int) -> Progress:
        return Progress(total, sys.stderr, SystemClock().monotonic, tty=sys.stderr.isatty())

    try:
        parsed = parse_weights(weights)
    except ValueError as e:
        print(f"sellbot bench: {e}", file=sys.stderr)
        return 2
    report = run_bench(
        quick=quick,
        seeds=seeds,
        json_path=json_path,
        plot_path=plot_path,
        weights=parsed,
        progress=progress,
    )
    print(report.text)
    return 1 if check and not report.passed else 0
