"""Run the demo simulator as a standalone SafeTrade-compatible server (``sellbot sim serve``).

The exchange state lives as long as the process, so clients may restart freely. With a
``state_path`` the balances of every account are also written there on exit and read back
on start (open orders are not kept across a server restart: they are cancelled, as an
exchange would after maintenance).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from bot.clock import Clock, SystemClock
from bot.sim.demo import build_demo_engine
from bot.sim.engine import MatchingEngine
from bot.sim.server import SimServer


def save_balances(engine: MatchingEngine, keys: list[str], path: Path) -> None:
    """Write every account's total balances (open orders released) as JSON."""
    state = {
        key: {b.currency: str(b.total) for b in engine.balances(key) if b.total} for key in keys
    }
    path.write_text(json.dumps(state, indent=2, sort_keys=True))


def load_balances(engine: MatchingEngine, path: Path) -> bool:
    """Replace account balances with those saved at ``path``; return whether it existed."""
    if not path.exists():
        return False
    state = json.loads(path.read_text())
    for key, balances in state.items():
        acct = engine.account(key)
        acct.available.clear()
        acct.locked.clear()
        for currency, amount in balances.items():
            acct.deposit(currency, Decimal(amount))
    return True


async def _keep_synced(engine: MatchingEngine, clock: Clock, interval_s: float) -> None:
    # keep the lazy catch-up short: an idle hour would otherwise be replayed in one request
    while True:
        await clock.sleep(interval_s)
        engine.sync()


async def serve_forever(
    host: str,
    port: int,
    seed: int | str | None,
    credentials: Mapping[str, str] | None,
    state_path: Path | None,
    *,
    clock: Clock | None = None,
    book_streams: frozenset[str] | None = None,
    families: frozenset[str] | None = None,
) -> None:
    """Serve the demo exchange until cancelled; print the URL and the credentials.

    ``credentials`` replaces the demo key (each key gets the demo balances); None keeps it.
    ``book_streams`` limits the book kinds published (``"ob"``, ``"depth"``); None: both.
    ``families`` limits the REST path families (``"trade"``, ``"peatio"``, ``"seed"``); None:
    all three.
    """
    clock = clock or SystemClock()
    engine, demo_credentials = build_demo_engine(clock, seed)
    if credentials:
        (demo_key, _), *_ = demo_credentials.items()
        for key in credentials:
            for balance in engine.balances(demo_key):
                engine.deposit(key, balance.currency, balance.available)
    creds = dict(credentials or demo_credentials)
    restored = state_path is not None and load_balances(engine, state_path)
    server = SimServer(
        engine, credentials=creds, clock=clock, host=host, port=port, families=families
    )
    async with server as srv:
        if book_streams is not None:
            srv.hub.book_streams = book_streams
        print(f"SafeTrade simulator on {srv.base_url} (seed {seed})", flush=True)  # noqa: T201
        for key, secret in creds.items():
            print(f"  api key {key}  secret {secret}", flush=True)  # noqa: T201
        if restored:
            print(f"  balances restored from {state_path}", flush=True)  # noqa: T201
        syncer = asyncio.create_task(_keep_synced(engine, clock, 1.0))
        try:
            await asyncio.Event().wait()
        finally:
            syncer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await syncer
            if state_path is not None:
                for key in creds:
                    engine.cancel_all(key)
                save_balances(engine, list(creds), state_path)
