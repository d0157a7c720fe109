"""Command line: parse arguments, load settings, dispatch; exit codes are the contract.

Exit codes: 0 ok, 1 runtime failure, 2 configuration or usage error; `run` also 3 (the
leader lease was lost: it stopped trading) and 4 (`--once` while another daemon leads).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bot import __version__
from bot.settings import Settings, SettingsError, effective_settings, load_settings

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2

EPILOG = (
    "Settings come from the environment or a .env file in the working directory: "
    ".env.example lists every one with its default, and `sellbot config` prints the values "
    "in effect (secrets masked). `sellbot COMMAND --help` describes a command's options."
)


class UsageError(Exception):
    """A command was given arguments it cannot work with (exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sellbot", description="Sell crypto balances on SafeTrade.", epilog=EPILOG
    )
    p.add_argument(
        "--version", action="version", version=f"sellbot {__version__}", help="print the version"
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--simulate", action="store_true", help="trade on an embedded simulator")
    run.add_argument("--once", action="store_true", help="one cycle, wait for its sales, exit")

    sim = sub.add_parser("sim", help="the SafeTrade simulator")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True, metavar="SIM_COMMAND")
    serve = sim_sub.add_parser("serve", help="serve the simulator over HTTP + WebSocket")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int,
        default=8900,
        help="port to listen on, 0 picks a free one (default 8900)",
    )
    serve.add_argument(
        "--seed", type=int, default=42, help="seed of the simulated markets (default 42)"
    )
    serve.add_argument(
        "--api-key",
        default=None,
        help="a key the simulator accepts instead of the demo key (with --api-secret)",
    )
    serve.add_argument("--api-secret", default=None, help="the secret of --api-key")
    serve.add_argument(
        "--book-streams", default=None, help="book kinds to publish: depth,ob (default) or none"
    )
    serve.add_argument(
        "--families", default=None, help="REST path families to serve: trade,peatio,seed (default)"
    )

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_sub.add_parser("upgrade", help="apply migrations to DATABASE_URL")

    sub.add_parser("config", help="print the effective settings, secrets masked")

    advise = sub.add_parser("advise", help="print scores and the decision for each balance")
    advise.add_argument("--simulate", action="store_true", help="use the demo simulator")

    doctor = sub.add_parser(
        "doctor",
        help="read-only preflight against the exchange (PASS/WARN/FAIL per check)",
        description=(
            "Check the configured exchange without placing an order: reachability, blocks, "
            "clock, API profile, swagger.json, credentials, balances, WebSocket streams and "
            "rate-limit headers. Exit 0, or 1 on any FAIL."
        ),
    )
    doctor.add_argument("--simulate", action="store_true", help="check the demo simulator")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")

    status = sub.add_parser(
        "status",
        help="running executions and open orders",
        description="The leader, the kill switch, running executions and every open order.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="show at most N running executions, oldest first (default 50)",
    )
    history = sub.add_parser("history", help="finished executions")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    history.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="show the N most recently finished executions (default 50)",
    )
    orders = sub.add_parser(
        "orders",
        help="orders of one execution",
        description="Every order one execution sent, in the order it sent them.",
    )
    orders.add_argument(
        "--execution",
        required=True,
        metavar="ID",
        help="the execution's id (the id column of `sellbot status` or `sellbot history`)",
    )
    orders.add_argument("--json", action="store_true", help="machine-readable output")
    cancel = sub.add_parser("cancel", help="cancel an execution and its open orders")
    cancel.add_argument(
        "execution_id", metavar="EXECUTION_ID", help="the id shown by `sellbot status`"
    )
    pause = sub.add_parser(
        "pause",
        help="stop placing new orders (persisted kill switch)",
        description=(
            "Stop placing new orders: sets the kill switch in the daemon's database. Without "
            "--cancel-open, resting orders stay on the book until their executor ends or is "
            "cancelled."
        ),
    )
    pause.add_argument(
        "--cancel-open",
        action="store_true",
        help=(
            "also cancel, through the exchange, every order the database lists as open "
            "(the daemon sees the cancels on its next poll)"
        ),
    )
    sub.add_parser("resume", help="allow new orders again")

    bench = sub.add_parser("bench", help="execution-quality benchmark")
    bench.add_argument("--quick", action="store_true", help="20 seeds instead of 200")
    bench.add_argument(
        "--seeds", type=int, default=None, metavar="N", help="seeds per case (overrides --quick)"
    )
    bench.add_argument(
        "--json", dest="json_path", default=None, metavar="PATH", help="also write JSON to PATH"
    )
    bench.add_argument(
        "--plot", dest="plot_path", default=None, metavar="PATH", help="also write a PNG to PATH"
    )
    bench.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    bench.add_argument(
        "--weights",
        default=None,
        metavar="NAME=W,...",
        help="scenario frequencies for the frontier and regret, e.g. crash=0.05",
    )
    return p


def _print_config(settings: Settings) -> int:
    rows = effective_settings(settings)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    return EXIT_OK


def _command(args: argparse.Namespace) -> Callable[[Settings], Coroutine[Any, Any, int]] | None:
    """Return the async handler for ``args`` (imported lazily: start-up stays fast)."""
    from bot.cli import commands as cli_commands

    return cli_commands.handler_for(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as e:
        for line in e.lines:
            print(f"sellbot: config error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "config":
        try:
            return _print_config(settings)
        except BrokenPipeError:
            return EXIT_OK
    handler = _command(args)
    if handler is None:
        print(f"sellbot: {args.command} is not available in this build", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return asyncio.run(handler(settings))
    except UsageError as e:
        print(f"sellbot: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK
