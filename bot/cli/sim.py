"""`sellbot sim serve`: the demo simulator as a standalone SafeTrade-compatible server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from bot.logs import configure_logging
from bot.settings import Settings


async def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    seed: int,
    api_key: str | None,
    api_secret: str | None,
    book_streams: str | None = None,
    families: str | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT; the exchange state lives as long as this process.

    ``book_streams`` is the ``--book-streams`` comma list (``depth,ob``, ``none``); None: both.
    ``families`` is the ``--families`` comma list (``trade,peatio,seed``); None: all three.
    """
    from bot.sim.routes import parse_families
    from bot.sim.standalone import serve_forever
    from bot.sim.websocket import parse_book_streams

    configure_logging(fmt=settings.log_format, level=settings.log_level)
    if (api_key is None) != (api_secret is None):
        print("sellbot: give both --api-key and --api-secret, or neither")
        return 2
    try:
        kinds = None if book_streams is None else parse_book_streams(book_streams)
    except ValueError as e:
        print(f"sellbot: --book-streams: {e}")
        return 2
    try:
        chosen = None if families is None else parse_families(families)
    except ValueError as e:
        print(f"sellbot: --families: {e}")
        return 2
    credentials = {api_key: api_secret} if api_key and api_secret else None
    server = asyncio.create_task(
        serve_forever(host, port, seed, credentials, None, book_streams=kinds, families=chosen)
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await server
    return 0


async def run(settings: Settings, *, args: argparse.Namespace) -> int:
    return await serve(
        settings,
        host=args.host,
        port=args.port,
        seed=args.seed,
        api_key=args.api_key,
        api_secret=args.api_secret,
        book_streams=args.book_streams,
        families=args.families,
    )
