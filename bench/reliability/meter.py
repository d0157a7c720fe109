"""Progress of a reliability campaign on stderr, as ``sellbot bench`` shows its own.

A campaign takes ``progress: Tick``, told how many of its units are done (sales, kills,
cycles, frames); its entry point opens ``on_stderr(total)`` around the run. On a terminal
one line is rewritten in place, otherwise a plain line is printed every tenth of the run
(``bot.bench.progress.Progress``); stdout keeps only the results. Elapsed and remaining
time are wall-clock seconds, also for the campaigns that run in virtual time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot.bench.progress import Progress
from bot.clock import SystemClock

Tick = Callable[[int], None]


def silent(done: int) -> None:
    """Show no progress (the campaigns' default, as in the tests)."""


@contextmanager
def on_stderr(total: int, monotonic: Callable[[], float] | None = None) -> Iterator[Tick]:
    """Yield the ``update`` of a ``Progress`` of ``total`` units on stderr; end its line after."""
    meter = Progress(
        total, sys.stderr, monotonic or SystemClock().monotonic, tty=sys.stderr.isatty()
    )
    try:
        yield meter.update
    finally:
        meter.finish()
