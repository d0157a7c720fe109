"""Fault campaign: the daemon's pipeline against a faulty simulator, in virtual time.

In-process leg: ``--shards`` accounts of ``--markets`` markets, ``--rounds`` rounds each
(every round sells every market once, strategies rotated), shards in worker processes.
HTTP leg (``--http-sales``): the daemon over ``SafeTradeClient`` → ``SimServer`` with
connection resets and WebSocket drops. Results go to ``--out`` and are printed as a table;
progress (sales done / total, elapsed, remaining) goes to stderr.

    python -m bench.faults                       # 5 x 20 markets x 10 rounds = 1,000 sales
    python -m bench.faults --shards 1 --rounds 2 # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import queue
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from functools import reduce
from pathlib import Path

from bench.reliability.campaign import ShardResult, quiet_logs, run_shard_sync
from bench.reliability.invariants import InvariantReport
from bench.reliability.meter import Tick, on_stderr
from bench.reliability.report import load, render, save

IN_PROCESS_COVERS = (
    "in-process `SimExchange`, full daemon pipeline (`build_app`: SQLite store, rule advisor, "
    "supervisor, limiter; `run_prioritisation_cycle` every 60 s virtual; the client's read "
    "retries and the TTL cache in front), every strategy forced in turn; per request: "
    "10% 5xx, 5% 429 (Retry-After 1 s), 2% of order writes accepted but answer lost, "
    "1% connection resets, latency U(0, 2 s) on every request; one market disabled for "
    "600 s (its sales are excluded from the completion share)"
)


def follow_rounds(
    futures: Sequence[Future[ShardResult]], rounds_done: queue.Queue[int], progress: Tick
) -> None:
    """Tell ``progress`` the rounds done over all shards, as they end, until every shard has."""
    done = 0
    while not all(f.done() for f in futures) or not rounds_done.empty():
        try:
            rounds_done.get(timeout=0.5)
        except queue.Empty:
            continue
        done += 1
        progress(done)


def _run_shards(args: argparse.Namespace, progress: Tick) -> list[ShardResult]:
    """Run the shards in worker processes; ``progress`` is told the rounds done over all."""
    seeds = range(args.seed, args.seed + args.shards)
    with (
        multiprocessing.Manager() as manager,
        ProcessPoolExecutor(max_workers=args.workers) as pool,
    ):
        rounds_done: queue.Queue[int] = manager.Queue()
        futures = [
            pool.submit(run_shard_sync, seed, args.markets, args.rounds, rounds_done)
            for seed in seeds
        ]
        follow_rounds(futures, rounds_done, progress)
        return [f.result() for f in futures]


def _in_process(args: argparse.Namespace) -> tuple[InvariantReport, dict[str, object]]:
    markets = args.markets
    with on_stderr(args.shards * args.rounds * markets) as progress:  # in sales
        results = _run_shards(args, lambda rounds: progress(rounds * markets))
    report = reduce(InvariantReport.merge, (r.report for r in results))
    injected: dict[str, int] = {}
    for r in results:
        for k, v in r.injected.items():
            injected[k] = injected.get(k, 0) + v
    extra: dict[str, object] = {
        "faults injected (5xx / 429 / reset / lost answer / latency)|": " / ".join(
            str(injected.get(k, 0))
            for k in ("status_5xx", "rate_limited", "reset", "lost_response", "latency")
        ),
        "prioritisation cycles (failed at the job boundary)|": (
            f"{injected.get('daemon_cycles', 0)} ({injected.get('daemon_cycles_failed', 0)})"
        ),
        "virtual time simulated|": f"{sum(r.virtual_s for r in results) / 3600:.1f} h",
    }
    return report, extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=5)
    parser.add_argument("--markets", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--http-sales", type=int, default=0, help="HTTP leg size (0: skip)")
    parser.add_argument("--out", type=Path, default=Path("build/reliability"))
    args = parser.parse_args(argv)
    quiet_logs()
    report, extra = _in_process(args)
    save(
        args.out, "faults", title="faults (in-process)", covers=IN_PROCESS_COVERS,
        report=report, extra=extra,
    )  # fmt: skip
    if args.http_sales:
        from bench.reliability.http_leg import HTTP_COVERS, run_http_leg

        with on_stderr(args.http_sales) as progress:
            http_report, http_extra = asyncio.run(
                run_http_leg(args.http_sales, seed=args.seed, progress=progress)
            )
        save(
            args.out, "faults_http", title="faults (HTTP + WS)", covers=HTTP_COVERS,
            report=http_report, extra=http_extra,
        )  # fmt: skip
    names = {"faults", "faults_http"}
    legs = [leg for leg in load(args.out) if leg.name in names]
    sys.stdout.write(render(legs) + "\n")
    if report.details:
        sys.stdout.write("\nnot completed / anomalies (first 20):\n")
        sys.stdout.write("\n".join(f"  {d}" for d in report.details[:20]) + "\n")
    return 0 if all(leg.report is None or leg.report.ok for leg in legs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
