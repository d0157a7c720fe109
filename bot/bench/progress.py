"""Progress of a long run: cases done / total, elapsed and an estimate of what remains.

On a terminal one line is rewritten in place; otherwise (a log, CI) a plain line is printed
at every tenth of the run, so the output stays short and readable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

PLAIN_STEPS = 10


class Progress:
    def __init__(
        self, total: int, stream: TextIO, monotonic: Callable[[], float], *, tty: bool
    ) -> None:
        self.total = total
        self._stream = stream
        self._now = monotonic
        self._tty = tty
        self._start = monotonic()
        self._printed = 0  # tenths already printed (plain lines)

    def line(self, done: int) -> str:
        elapsed = self._now() - self._start
        eta = "?" if done <= 0 else f"{elapsed / done * (self.total - done):.0f} s"
        return f"cases {done}/{self.total}, elapsed {elapsed:.0f} s, remaining ~{eta}"

    def update(self, done: int) -> None:
        if self._tty:
            self._stream.write("\r" + self.line(done) + " " * 4)
            self._stream.flush()
            return
        tenth = done * PLAIN_STEPS // max(1, self.total)
        if tenth > self._printed:
            self._printed = tenth
            self._stream.write(self.line(done) + "\n")
            self._stream.flush()

    def finish(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
