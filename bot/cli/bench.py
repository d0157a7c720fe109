"""`sellbot bench`: the execution-quality benchmark (``bot.bench``)."""

from __future__ import annotations

from bot.settings import Settings


async def run(
    settings: Settings,
    *,
    quick: bool,
    seeds: int | None,
    json_path: str | None,
    plot_path: str | None,
) -> int:
    from bot.bench.command import run_bench  # lazy: the benchmark is not needed to operate

    print(run_bench(quick=quick, seeds=seeds, json_path=json_path, plot_path=plot_path))
    return 0
