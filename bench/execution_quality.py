"""Execution-quality benchmark: ``python bench/execution_quality.py [--quick] [--seeds N]``.

The same as ``sellbot bench``; see ``bot/bench`` for the scenarios, oracle and metrics.
"""

from __future__ import annotations

import argparse

from bot.bench.command import run_bench


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--json", dest="json_path", default=None, metavar="PATH")
    parser.add_argument("--plot", dest="plot_path", default=None, metavar="PATH")
    args = parser.parse_args()
    print(
        run_bench(
            quick=args.quick, seeds=args.seeds, json_path=args.json_path, plot_path=args.plot_path
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
