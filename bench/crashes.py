"""Crash campaign: SIGKILL a real ``sellbot run`` ``--kills`` times at seeded random moments,
restart it each time, then lock the SQLite database for ``--outage-s`` in the middle of a run.
Progress (kills done / total, elapsed, remaining) goes to stderr.

    python -m bench.crashes               # 50 kills + a 30 s database outage
    python -m bench.crashes --kills 10 --outage-s 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.reliability.crashes import crash_campaign, db_outage
from bench.reliability.meter import on_stderr
from bench.reliability.report import load, render, save

CRASH_COVERS = (
    "real `sellbot run` processes against a simulator over HTTP (state outlives them), "
    "SIGKILLed after U(1, 6) s (seeded), strategies rotated, balances topped up; each next "
    "run is the restart (it may be killed mid-recovery); a final `--once` must exit 0; "
    "completion = balances left unsold at the end"
)
OUTAGE_COVERS = (
    "a separate process holds an EXCLUSIVE lock on the SQLite file mid-run; checked: every "
    "exchange order has its row, no order placed without a row, and whether the daemon "
    "sells again afterwards without a restart"
)


async def _crashes(args: argparse.Namespace, tmp: Path) -> None:
    started = time.perf_counter()
    with on_stderr(args.kills) as progress:
        result = await crash_campaign(
            kills=args.kills, db_url=f"sqlite+aiosqlite:///{tmp / 'crashes.db'}", workdir=tmp,
            seed=args.seed, progress=progress,
        )  # fmt: skip
    extra: dict[str, object] = {
        "processes SIGKILLed|50 (bench)": result.kills,
        "final `sellbot run --once` exit code|0": result.final_exit,
        "balances left unsold at the end|0": len(result.unsold),
        "wall time|": f"{time.perf_counter() - started:.0f} s",
    }
    if result.final_exit != 0 or result.unsold:
        extra["verdict"] = "FAIL"
    save(args.out, "crashes", title="crashes (SIGKILL)", covers=CRASH_COVERS,
         report=result.report, extra=extra)  # fmt: skip


async def _outage(args: argparse.Namespace, tmp: Path) -> None:
    result = await db_outage(db_path=tmp / "outage.db", workdir=tmp, outage_s=args.outage_s)
    recovered = not result.unsold and result.orders_after > 0
    extra: dict[str, object] = {
        "database outage|30 s": f"{args.outage_s:.0f} s",
        "orders placed before / during / after the outage|": (
            f"{result.orders_before} / {result.orders_during} / {result.orders_after}"
        ),
        "sold again after the outage without a restart|yes": "yes" if recovered else "NO",
    }
    if not recovered:
        extra["verdict"] = "FAIL"
    save(args.out, "db_outage", title="database outage", covers=OUTAGE_COVERS,
         report=result.report, extra=extra)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--outage-s", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("build/reliability"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.kills:
            asyncio.run(_crashes(args, Path(tmp)))
        if args.outage_s:
            asyncio.run(_outage(args, Path(tmp)))
    legs = [leg for leg in load(args.out) if leg.name in {"crashes", "db_outage"}]
    sys.stdout.write(render(legs) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
