"""Long run: 10,000 scheduler cycles in virtual time; RSS, fds and tasks must stay flat.

python -m bench.longrun                 # 10,000 cycles, a sample every 500
python -m bench.longrun --cycles 2000

Progress (cycles done / total, elapsed, remaining in wall-clock seconds) goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from bench.reliability.campaign import quiet_logs
from bench.reliability.longrun import long_run
from bench.reliability.meter import on_stderr
from bench.reliability.report import load, render, save

COVERS = (
    "the daemon's App over an in-process simulator (3 markets, SQLite), "
    "`run_prioritisation_cycle` every 60 s virtual with its sales running, balances topped "
    "up every 20 cycles; RSS and open fds scraped from the app's own /metrics over HTTP "
    "(process_resident_memory_bytes, process_open_fds), pending asyncio tasks, sampled "
    "every 500 cycles; growth from the first sample after warm-up (2,000 "
    "cycles: the simulator in the same process keeps a day of k-lines and finished orders, "
    "so it is full after 1,440) to the last"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--sample-every", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--out", type=Path, default=Path("build/reliability"))
    args = parser.parse_args(argv)
    quiet_logs()
    started = time.perf_counter()
    with on_stderr(args.cycles) as progress:
        r = asyncio.run(
            long_run(
                args.cycles, sample_every=args.sample_every, warmup=args.warmup, progress=progress
            )
        )
    kept = [s for s in r.samples if s.cycle >= r.warmup]
    extra: dict[str, object] = {
        "scheduler cycles (sales started)|10,000": f"{r.cycles} ({r.executions})",
        "RSS after warm-up → end|growth < 5%": (
            f"{kept[0].rss_bytes / 2**20:.1f} → {kept[-1].rss_bytes / 2**20:.1f} MiB "
            f"({100 * r.growth('rss_bytes'):+.1f}%)"
        ),
        "peak RSS|": f"{r.peak_rss / 2**20:.1f} MiB",
        "open fds after warm-up → end|growth < 5%": f"{kept[0].fds} → {kept[-1].fds}",
        "pending asyncio tasks after warm-up → end|growth < 5%": (
            f"{kept[0].tasks} → {kept[-1].tasks}"
        ),
        "wall time|": f"{time.perf_counter() - started:.0f} s",
        "verdict": "PASS" if r.flat else "FAIL",
    }
    save(args.out, "longrun", title="long run", covers=COVERS, extra=extra)
    sys.stdout.write(render([leg for leg in load(args.out) if leg.name == "longrun"]) + "\n")
    sys.stdout.write("\n".join(f"  {s}" for s in r.samples) + "\n")
    return 0 if r.flat else 1


if __name__ == "__main__":
    raise SystemExit(main())
